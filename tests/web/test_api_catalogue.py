from datetime import date

import pytest

from tests.factories import make_outlet, make_product

ITEM_FIELDS = {"id", "slug", "name", "group", "stars", "price_vnd", "producer", "district", "in_stock", "photos"}


@pytest.fixture
def catalogue(session):
    products = {
        "nuoc_mam": make_product(
            session, "Nước mắm Cát Hải", stars=3, price_vnd=85_000, district_slug="cat-hai", issued_on=date(2025, 1, 10)
        ),
        "ruou": make_product(
            session,
            "Rượu nếp cái hoa vàng",
            stars=5,
            level="national",
            group=2,
            issued_on=date(2025, 6, 26),
            price_vnd=320_000,
            district_slug="thuy-nguyen",
        ),
        "cha_muc": make_product(
            session,
            "Đặc sản chả mực Đồ Sơn",
            stars=4,
            price_vnd=450_000,
            district_slug="do-son",
            issued_on=date(2024, 5, 1),
        ),
        "expired": make_product(session, "Táo Bàng La", stars=3, issued_on=date(2019, 1, 1)),
        "uncertified": make_product(session, "Bánh gai Nga Tôi", stars=None),
    }
    session.commit()
    return products


def test_the_list_shows_only_sellable_products_in_the_contract_shape(client, catalogue):
    body = client.get("/api/v1/products").get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 24
    assert {item["name"] for item in body["items"]} == {
        "Nước mắm Cát Hải",
        "Rượu nếp cái hoa vàng",
        "Đặc sản chả mực Đồ Sơn",
    }
    first = body["items"][0]
    assert set(first) == ITEM_FIELDS
    assert first["stars"] == 5 and first["group"] == 2 and first["district"] == "thuy-nguyen"
    assert body["facets"]["stars"] == {"3": 1, "4": 1, "5": 1}
    assert body["facets"]["group"] == {"1": 2, "2": 1}
    assert body["facets"]["district"] == {"cat-hai": 1, "do-son": 1, "thuy-nguyen": 1}
    # Nothing has been received anywhere (stock itself: tests/web/test_availability.py).
    assert not any(item["in_stock"] for item in body["items"]) and body["facets"]["outlet"] == {}


@pytest.mark.parametrize(
    "query, names",
    [
        ("q=nuoc+mam", ["Nước mắm Cát Hải"]),
        ("q=dac+san", ["Đặc sản chả mực Đồ Sơn"]),
        ("stars=4,5", ["Rượu nếp cái hoa vàng", "Đặc sản chả mực Đồ Sơn"]),
        ("group=2", ["Rượu nếp cái hoa vàng"]),
        ("district=do-son", ["Đặc sản chả mực Đồ Sơn"]),
        ("min_price=100000&max_price=400000", ["Rượu nếp cái hoa vàng"]),
        ("sort=price_asc", ["Nước mắm Cát Hải", "Rượu nếp cái hoa vàng", "Đặc sản chả mực Đồ Sơn"]),
        ("sort=price_desc", ["Đặc sản chả mực Đồ Sơn", "Rượu nếp cái hoa vàng", "Nước mắm Cát Hải"]),
        ("sort=newest", ["Rượu nếp cái hoa vàng", "Nước mắm Cát Hải", "Đặc sản chả mực Đồ Sơn"]),
        ("sort=price_asc&per_page=2&page=2", ["Đặc sản chả mực Đồ Sơn"]),
    ],
)
def test_filters_and_sorting(client, catalogue, query, names):
    body = client.get(f"/api/v1/products?{query}").get_json()
    assert [item["name"] for item in body["items"]] == names


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("stars=2", "stars"),
        ("stars=4,x", "stars"),
        ("group=7", "group"),
        ("sort=cheapest", "sort"),
        ("district=atlantis", "district"),
        ("min_price=-5", "min_price"),
        ("q=" + "a" * 201, "q"),
        ("outlet_id=0", "outlet_id"),
        ("outlet_id=9999", "outlet_id"),
        ("min_price=9&max_price=1", "min_price"),
    ],
)
def test_bad_list_input_is_a_400_with_a_message(client, catalogue, query, field):
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid" and field in body["message"]


def test_an_oversized_query_string_is_refused(client):
    response = client.get("/api/v1/products?x=" + "a" * 3000)
    assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_the_detail_carries_certificate_traceability_and_availability(client, catalogue):
    product = catalogue["ruou"]
    body = client.get(f"/api/v1/products/{product.id}").get_json()
    assert ITEM_FIELDS <= set(body)
    certificate = body["certificate"]
    assert {"id", "stars", "score", "level", "decision", "issued_on", "expires_on"} <= set(certificate)
    assert certificate["issued_on"] == "2025-06-26" and certificate["expires_on"] == "2028-06-26"
    assert certificate["level"] == "national" and certificate["score"] is None
    assert body["traceability"]["producer"] == product.producer.name
    assert body["traceability"]["commune"] == "xã Đại Hà"
    assert body["traceability"]["batches"] == []
    assert body["availability"] == []


@pytest.mark.parametrize(
    "path, status, error",
    [
        ("/api/v1/products/abc", 400, "invalid_id"),
        ("/api/v1/products/0", 400, "invalid_id"),
        ("/api/v1/products/-3", 400, "invalid_id"),
        ("/api/v1/products/123456789", 404, "not_found"),
    ],
)
def test_malformed_ids_are_400_and_unknown_ids_404(client, path, status, error):
    response = client.get(path)
    assert response.status_code == status and response.get_json()["error"] == error


@pytest.mark.parametrize("key", ["expired", "uncertified"])
def test_an_unsellable_product_is_404(client, catalogue, key):
    response = client.get(f"/api/v1/products/{catalogue[key].id}")
    assert response.status_code == 404
    assert response.get_json()["message"]


def test_suggestions_match_unaccented_prefixes_of_sellable_names(client, catalogue):
    assert client.get("/api/v1/suggest?q=nuoc").get_json() == {"suggestions": ["Nước mắm Cát Hải"]}
    assert client.get("/api/v1/suggest?q=tao").get_json() == {"suggestions": []}


def test_outlets_are_listed_with_code_kind_area_address_phone_and_hours(client, session):
    make_outlet(
        session,
        "kien-thuy",
        address="Số 3 Núi Đối, xã Kiến Thụy, Hải Phòng",
        phone="0225 3820 111",
        opening_hours="7:30–21:00 hằng ngày",
    )
    make_outlet(session, "hoi-cho", kind="fair")
    session.commit()
    items = client.get("/api/v1/outlets").get_json()["items"]
    assert [(o["code"], o["kind"]) for o in items] == [("kien-thuy", "shop"), ("hoi-cho", "fair")]
    assert set(items[0]) == {"id", "code", "name", "kind", "area", "address", "phone", "opening_hours"}
    assert items[0]["area"] == "Kiến Thụy" and items[0]["address"].startswith("Số 3 Núi Đối")
    assert (items[0]["phone"], items[0]["opening_hours"]) == ("0225 3820 111", "7:30–21:00 hằng ngày")
    assert (items[1]["address"], items[1]["phone"], items[1]["opening_hours"]) == ("", "", "")


def test_unknown_api_paths_answer_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_the_openapi_document_describes_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/outlets",
        "/api/v1/auth/token",
        "/api/v1/products/{product_id}/certificates",
        "/api/v1/certificates/{certificate_id}/revoke",
    ):
        assert path in spec["paths"]
    assert set(spec["components"]["schemas"]["HTTPError"]["properties"]) == {"error", "message"}
    assert {"400", "404"} <= set(spec["paths"]["/api/v1/products/{product_id}"]["get"]["responses"])
