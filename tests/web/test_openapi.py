"""The OpenAPI document at /api/v1/openapi.json is what a client author codes against: it must say what the
API does (ids, bodies, query parameters, every error status and its shape), and what it says must be true."""

from datetime import date

import pytest
from sqlalchemy.exc import OperationalError

from storefront import create_app
from tests.factories import PASSWORD, make_product, make_user

MAX_ID = 2**31 - 1
ERROR_KEYS = {"error", "message"}

#: Every operation and the error statuses a client must be ready for (DESIGN §3).
ERROR_STATUSES = {
    ("post", "/api/v1/auth/token"): {400, 401, 413, 429},
    ("get", "/api/v1/products"): {400},
    ("get", "/api/v1/products/{product_id}"): {400, 404},
    ("get", "/api/v1/suggest"): {400},
    ("get", "/api/v1/outlets"): {400},
    ("post", "/api/v1/products/{product_id}/certificates"): {400, 401, 403, 404, 413},
    ("post", "/api/v1/certificates/{certificate_id}/revoke"): {400, 401, 403, 404, 409, 413},
    ("get", "/api/v1/outlets/{outlet_id}/stock"): {400, 401, 403, 404},
    ("post", "/api/v1/outlets/{outlet_id}/movements"): {400, 401, 403, 404, 413},
    ("get", "/api/v1/outlets/{outlet_id}/changes"): {400, 401, 403, 404},
    ("post", "/api/v1/outlets/{outlet_id}/devices"): {400, 401, 403, 404, 413},
    ("get", "/api/v1/outlets/{outlet_id}/devices"): {400, 401, 403, 404},
    ("delete", "/api/v1/devices/{device_id}"): {400, 401, 403, 404},
    ("post", "/api/v1/outlets/{outlet_id}/pairing-codes"): {400, 401, 403, 404, 409},
    ("post", "/api/v1/kiosks/pair"): {400, 404, 409, 410, 413, 429},
    ("post", "/api/v1/devices/heartbeat"): {400, 401, 403, 413},
    ("post", "/api/v1/transfers"): {400, 401, 403, 413},
    ("get", "/api/v1/transfers/{transfer_id}"): {400, 401, 403, 404},
    ("post", "/api/v1/transfers/{transfer_id}/dispatch"): {400, 401, 403, 404, 409},
    ("post", "/api/v1/transfers/{transfer_id}/receive"): {400, 401, 403, 404, 409, 413},
    ("post", "/api/v1/orders"): {400, 401, 403, 404, 409, 413, 429},
    ("get", "/api/v1/orders/lookup"): {400, 404, 429},
    ("get", "/api/v1/orders/{order_id}"): {400, 401, 404},
    ("get", "/api/v1/orders/{order_id}/vietqr.svg"): {400, 404},
    ("post", "/api/v1/payments/stripe/webhook"): {400, 404, 413},
    ("post", "/api/v1/producers"): {400, 401, 403, 413},
    ("post", "/api/v1/products"): {400, 401, 403, 409, 413},
    ("post", "/api/v1/producers/{producer_id}/invitations"): {400, 401, 403, 404, 409, 413},
    ("post", "/api/v1/price-requests/{request_id}/approve"): {400, 401, 403, 404, 409},
    ("post", "/api/v1/price-requests/{request_id}/refuse"): {400, 401, 403, 404, 409, 413},
    ("post", "/api/v1/products/{product_id}/photos"): {400, 401, 403, 404, 413},
    ("delete", "/api/v1/photos/{photo_id}"): {400, 401, 403, 404},
    ("get", "/api/v1/producer/products"): {400, 401, 403},
    ("patch", "/api/v1/products/{product_id}"): {400, 401, 403, 404, 409, 413},
    ("post", "/api/v1/products/{product_id}/price-requests"): {400, 401, 403, 404, 413},
    ("post", "/api/v1/products/{product_id}/batches"): {400, 401, 403, 404, 409, 413},
    ("post", "/api/v1/batches/{batch_id}/test-report"): {400, 401, 403, 404, 413},
    ("get", "/api/v1/batches/{batch_id}/test-report"): {400, 401, 403, 404},
    ("get", "/api/v1/trace/{serial}"): {400, 404, 429},
    ("get", "/api/v1/export/national"): {400, 401, 403},
    ("get", "/api/v1/export/national/schema.json"): {400},
    ("get", "/api/v1/programme/summary"): {400, 401, 403},
    ("get", "/api/v1/batches/{batch_id}/epcis"): {400, 401, 403, 404},
    ("put", "/api/v1/devices/{device_id}/quota"): {400, 401, 403, 404, 409, 413},
    ("get", "/api/v1/devices/{device_id}/quota"): {400, 401, 403, 404},
    ("post", "/api/v1/batches/{batch_id}/stamps"): {400, 401, 403, 404, 409, 413},
    ("get", "/api/v1/stamp-orders/{stamp_order_id}"): {400, 401, 403, 404, 409},
    ("get", "/api/v1/stamp-orders/{stamp_order_id}/sheet.pdf"): {400, 401, 403, 404, 409},
}
#: Ids that are not database integers: order ids are UUIDs (DESIGN §3).
UUID_IDS = {"order_id"}
#: Path parameters that are not ids: a stamp's serial (text, DESIGN §3 "Traceability").
TEXT_PARAMETERS = {"serial"}

#: A body each operation with an id in its path accepts, so that only the id can be wrong.
VALID_BODIES = {
    "/api/v1/products/{product_id}/certificates": {"stars": 4, "level": "province", "issued_on": "2026-10-01"},
    "/api/v1/certificates/{certificate_id}/revoke": {"reason": "Kiểm tra lại"},
    "/api/v1/outlets/{outlet_id}/movements": {"movements": []},
    "/api/v1/outlets/{outlet_id}/devices": {"name": "Quầy 1"},
    "/api/v1/transfers/{transfer_id}/receive": {"lines": [{"product_id": 1, "qty": 1}]},
    "/api/v1/producers/{producer_id}/invitations": {"email": "moi@example.com"},
    "/api/v1/price-requests/{request_id}/refuse": {"reason": "Giá chưa hợp lý"},
    "/api/v1/products/{product_id}/price-requests": {"price_vnd": 150000},
    "/api/v1/products/{product_id}/batches": {"lot": "L1", "produced_on": "2026-11-01"},
    "/api/v1/devices/{device_id}/quota": {"items": []},
    "/api/v1/batches/{batch_id}/stamps": {"count": 1},
}


@pytest.fixture(scope="module")
def spec():
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_client() as client:
        response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def operations(spec):
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def resolve(spec, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def id_parameters(operation) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]


def admin_token(client, session) -> str:
    admin = make_user(session, role="admin")
    session.commit()
    return client.post("/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD}).get_json()["token"]


def assert_error(response, status: int, code: str | None = None):
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert set(body) == ERROR_KEYS and body["message"], body
    if code:
        assert body["error"] == code, body


# What the document says.


def test_every_path_id_is_a_positive_database_integer_or_a_uuid(spec):
    documented = {}
    for _, path, operation in operations(spec):
        for parameter in operation["parameters"]:
            if parameter["in"] == "path":
                documented[(path, parameter["name"])] = parameter["schema"]
    assert documented, "no path parameters found"
    assert all(
        schema == {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        for (_, name), schema in documented.items()
        if name not in UUID_IDS | TEXT_PARAMETERS
    ), documented
    assert all(schema["type"] == "string" for (_, name), schema in documented.items() if name in TEXT_PARAMETERS)
    assert all(
        schema["type"] == "string" and schema["format"] == "uuid"
        for (_, name), schema in documented.items()
        if name in UUID_IDS
    ), documented


def test_every_request_body_is_required(spec):
    bodies = {
        (method, path): operation["requestBody"].get("required")
        for method, path, operation in operations(spec)
        if "requestBody" in operation
    }
    assert bodies == {
        ("post", "/api/v1/auth/token"): True,
        ("post", "/api/v1/products/{product_id}/certificates"): True,
        ("post", "/api/v1/certificates/{certificate_id}/revoke"): True,
        ("post", "/api/v1/outlets/{outlet_id}/movements"): True,
        ("post", "/api/v1/outlets/{outlet_id}/devices"): True,
        ("post", "/api/v1/kiosks/pair"): True,
        ("post", "/api/v1/devices/heartbeat"): True,
        ("post", "/api/v1/transfers"): True,
        ("post", "/api/v1/transfers/{transfer_id}/receive"): True,
        ("post", "/api/v1/orders"): True,
        ("post", "/api/v1/payments/stripe/webhook"): True,
        ("post", "/api/v1/producers"): True,
        ("post", "/api/v1/products"): True,
        ("post", "/api/v1/producers/{producer_id}/invitations"): True,
        ("post", "/api/v1/price-requests/{request_id}/refuse"): True,
        ("post", "/api/v1/products/{product_id}/photos"): True,
        ("patch", "/api/v1/products/{product_id}"): True,
        ("post", "/api/v1/products/{product_id}/price-requests"): True,
        ("post", "/api/v1/products/{product_id}/batches"): True,
        ("post", "/api/v1/batches/{batch_id}/test-report"): True,
        ("put", "/api/v1/devices/{device_id}/quota"): True,
        ("post", "/api/v1/batches/{batch_id}/stamps"): True,
    }


def test_suggest_documents_its_query_of_at_most_100_characters(spec):
    parameters = spec["paths"]["/api/v1/suggest"]["get"]["parameters"]
    (q,) = [p for p in parameters if p["name"] == "q"]
    assert q["in"] == "query" and q["schema"]["type"] == "string" and q["schema"]["maxLength"] == 100


def test_every_query_parameter_says_what_it_takes(spec):
    untyped = [
        (path, p["name"])
        for _, path, operation in operations(spec)
        for p in operation["parameters"]
        if p["in"] == "query" and "type" not in p["schema"]
    ]
    assert untyped == []
    listed = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert set(listed) == {
        "q",
        "group",
        "stars",
        "district",
        "outlet_id",
        "in_stock",
        "min_price",
        "max_price",
        "sort",
        "page",
        "per_page",
    }
    assert listed["stars"]["type"] == "string" and listed["stars"]["example"] == "4,5"
    assert listed["per_page"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 24}


def test_every_endpoint_documents_each_error_status_it_can_answer(spec):
    documented = {
        (method, path): {int(status) for status in operation["responses"] if status.startswith("4")}
        for method, path, operation in operations(spec)
    }
    assert set(documented) == set(ERROR_STATUSES), "a new endpoint: list its error statuses in ERROR_STATUSES"
    assert documented == ERROR_STATUSES


def test_every_endpoint_warns_that_a_database_outage_is_a_503_to_retry(spec):
    for method, path, operation in operations(spec):
        unavailable = operation["responses"].get("503")
        assert unavailable and "Retry-After" in unavailable["headers"], (method, path)


def test_every_error_answer_is_documented_as_error_and_message(spec):
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                schema = resolve(spec, response["content"]["application/json"]["schema"])
                assert set(schema["required"]) == ERROR_KEYS, (method, path, status, schema)
                types = {name: field["type"] for name, field in schema["properties"].items()}
                # An order's 400 may add every problem of the checkout (errors, fields) to error and message.
                extra = (
                    {"errors": "array", "fields": "object"}
                    if (method, path, status) == ("post", "/api/v1/orders", "400")
                    else {}
                )
                assert types == {"error": "string", "message": "string", **extra}, (method, path, status)


def test_authenticated_operations_name_the_bearer_scheme_and_the_admin_role(spec):
    secured = {
        (method, path): operation.get("security")
        for method, path, operation in operations(spec)
        if operation.get("security")
    }
    assert secured == {
        ("post", "/api/v1/products/{product_id}/certificates"): [{"BearerAuth": ["admin"]}],
        ("post", "/api/v1/certificates/{certificate_id}/revoke"): [{"BearerAuth": ["admin"]}],
        ("get", "/api/v1/export/national"): [{"BearerAuth": ["admin"]}],
        ("get", "/api/v1/programme/summary"): [{"BearerAuth": ["admin"]}],
        **{
            ("post", path): [{"BearerAuth": ["admin"]}]
            for path in (
                "/api/v1/producers",
                "/api/v1/products",
                "/api/v1/producers/{producer_id}/invitations",
                "/api/v1/price-requests/{request_id}/approve",
                "/api/v1/price-requests/{request_id}/refuse",
            )
        },
        **{
            (method, path): [{"BearerAuth": ["admin", "staff", "device"]}]
            for method, path in (
                ("get", "/api/v1/outlets/{outlet_id}/stock"),
                ("post", "/api/v1/outlets/{outlet_id}/movements"),
                ("get", "/api/v1/outlets/{outlet_id}/changes"),
                ("get", "/api/v1/devices/{device_id}/quota"),
            )
        },
        **{
            (method, path): [{"BearerAuth": ["admin", "staff"]}]
            for method, path in (
                ("post", "/api/v1/outlets/{outlet_id}/devices"),
                ("get", "/api/v1/outlets/{outlet_id}/devices"),
                ("delete", "/api/v1/devices/{device_id}"),
                ("put", "/api/v1/devices/{device_id}/quota"),
                ("post", "/api/v1/outlets/{outlet_id}/pairing-codes"),
                ("post", "/api/v1/transfers"),
                ("get", "/api/v1/transfers/{transfer_id}"),
                ("post", "/api/v1/transfers/{transfer_id}/dispatch"),
                ("post", "/api/v1/transfers/{transfer_id}/receive"),
            )
        },
        ("post", "/api/v1/devices/heartbeat"): [{"BearerAuth": ["device"]}],
        ("post", "/api/v1/products/{product_id}/photos"): [{"BearerAuth": ["admin", "producer"]}],
        ("delete", "/api/v1/photos/{photo_id}"): [{"BearerAuth": ["admin", "producer"]}],
        **{
            (method, path): [{"BearerAuth": ["admin", "producer"]}]
            for method, path in (
                ("get", "/api/v1/producer/products"),
                ("patch", "/api/v1/products/{product_id}"),
                ("post", "/api/v1/products/{product_id}/price-requests"),
                ("post", "/api/v1/products/{product_id}/batches"),
                ("post", "/api/v1/batches/{batch_id}/test-report"),
                ("get", "/api/v1/batches/{batch_id}/test-report"),
                ("get", "/api/v1/batches/{batch_id}/epcis"),
                ("post", "/api/v1/batches/{batch_id}/stamps"),
                ("get", "/api/v1/stamp-orders/{stamp_order_id}"),
                ("get", "/api/v1/stamp-orders/{stamp_order_id}/sheet.pdf"),
            )
        },
        # Guests may order and read their order; a token, when sent, says whose it is.
        ("post", "/api/v1/orders"): [{"BearerAuth": []}],
        ("get", "/api/v1/orders/{order_id}"): [{"BearerAuth": []}],
    }
    assert spec["components"]["securitySchemes"]["BearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Token from POST /api/v1/auth/token",
    }


# What the API does.


@pytest.mark.parametrize(
    "raw_id, status, code",
    [
        ("abc", 400, "invalid_id"),
        ("0", 400, "invalid_id"),
        ("-1", 400, "invalid_id"),
        ("1.5", 400, "invalid_id"),
        (str(MAX_ID + 1), 404, "not_found"),
        ("9" * 40, 404, "not_found"),
        (str(MAX_ID), 404, "not_found"),
    ],
)
def test_every_documented_id_is_checked_as_documented(client, session, spec, raw_id, status, code):
    headers = {"Authorization": f"Bearer {admin_token(client, session)}"}
    checked = set()
    for method, path, operation in operations(spec):
        for name in set(id_parameters(operation)) - UUID_IDS - TEXT_PARAMETERS:
            url = path.replace("{" + name + "}", raw_id)
            response = client.open(url, method=method.upper(), headers=headers, json=VALID_BODIES.get(path))
            assert_error(response, status, code)
            checked.add((method, path))
    assert ("get", "/api/v1/products/{product_id}") in checked
    assert {path for _, path in checked} >= set(VALID_BODIES)


def test_suggest_refuses_a_query_longer_than_documented(client):
    assert client.get("/api/v1/suggest", query_string={"q": "a" * 100}).status_code == 200
    assert_error(client.get("/api/v1/suggest", query_string={"q": "a" * 101}), 400, "invalid")


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/api/v1/auth/token"),
        ("post", "/api/v1/products/1/certificates"),
        ("post", "/api/v1/certificates/1/revoke"),
        ("patch", "/api/v1/products/1"),
        ("post", "/api/v1/products/1/price-requests"),
    ],
)
def test_a_body_over_one_mebibyte_is_413(client, session, method, path):
    headers = {"Authorization": f"Bearer {admin_token(client, session)}", "Content-Type": "application/json"}
    body = b'{"reason": "' + b"x" * (1024 * 1024) + b'"}'
    assert_error(client.open(path, method=method.upper(), headers=headers, data=body), 413, "too_large")


def test_a_missing_body_is_400_not_an_empty_request(client, session):
    headers = {"Authorization": f"Bearer {admin_token(client, session)}"}
    product = make_product(session, stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    certificate_id = product.current_certificate.id
    assert_error(client.post(f"/api/v1/certificates/{certificate_id}/revoke", headers=headers), 400, "invalid")
    assert_error(client.post(f"/api/v1/products/{product.id}/certificates", headers=headers), 400, "invalid")
    assert_error(client.post("/api/v1/auth/token"), 400, "invalid")


def test_certificate_calls_are_401_without_a_token_and_403_for_a_non_admin(client, session):
    consumer = make_user(session)
    session.commit()
    token = client.post("/api/v1/auth/token", json={"email": consumer.email, "password": PASSWORD}).get_json()["token"]
    for path, body in [
        ("/api/v1/products/1/certificates", VALID_BODIES["/api/v1/products/{product_id}/certificates"]),
        ("/api/v1/certificates/1/revoke", VALID_BODIES["/api/v1/certificates/{certificate_id}/revoke"]),
    ]:
        assert_error(client.post(path, json=body), 401, "unauthorized")
        assert_error(client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}), 403, "forbidden")


def test_domain_rules_no_schema_can_express_answer_the_documented_400_and_409(client, session):
    headers = {"Authorization": f"Bearer {admin_token(client, session)}"}
    product = make_product(session, stars=4, issued_on=date(2025, 3, 1))
    session.commit()
    certificate_id = product.current_certificate.id
    # The schema allows 5 stars and the province level; the rules in force on that date do not.
    five_stars_by_the_province = {"stars": 5, "level": "province", "issued_on": "2026-10-01"}
    assert_error(
        client.post(f"/api/v1/products/{product.id}/certificates", headers=headers, json=five_stars_by_the_province),
        400,
        "invalid_certificate",
    )
    revoke = f"/api/v1/certificates/{certificate_id}/revoke"
    assert_error(client.post(revoke, headers=headers, json={"reason": "   "}), 400, "invalid")
    assert client.post(revoke, headers=headers, json={"reason": "Sai hồ sơ"}).status_code == 200
    assert_error(client.post(revoke, headers=headers, json={"reason": "Sai hồ sơ"}), 409, "already_revoked")


def test_the_input_guard_answers_a_bad_query_on_any_endpoint_with_the_documented_400(client):
    for path in ("/api/v1/outlets", "/api/v1/products", "/api/v1/suggest"):
        assert_error(client.get(path + "?x=a%00b"), 400)


def test_a_database_outage_is_the_documented_503_with_retry_after(client, monkeypatch):
    def database_gone(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr("storefront.api.v1.products.get_product", database_gone)
    response = client.get("/api/v1/products/1")
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) >= 0
