"""Searching the catalogue as a shopper does, through the page and the API (issue 8): folded words, places,
typos with "did you mean", queries with nothing to search for, and input that must not reach an engine."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import make_producer, make_product


@pytest.fixture
def shelf(session):
    products = {
        "fish_sauce": make_product(session, "Nước mắm cốt cao đạm", price_vnd=150_000, district_slug="cat-hai"),
        "wine": make_product(
            session,
            "Rượu nếp cái hoa vàng",
            group=2,
            price_vnd=300_000,
            district_slug="thuy-nguyen",
            subgroup="Đồ uống có cồn",
        ),
        "vase": make_product(
            session,
            "Bình giọt ngọc",
            group=4,
            price_vnd=900_000,
            district_slug="do-son",
            producer=make_producer(session, "Công ty CP Gốm Chu Đậu"),
        ),
    }
    session.commit()
    return products


def names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return [item["name"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(
    "q, expected",
    [
        ("nuoc mam", ["Nước mắm cốt cao đạm"]),
        ("thuy nguyen", ["Rượu nếp cái hoa vàng"]),  # the place it comes from
        ("do uong co con", ["Rượu nếp cái hoa vàng"]),  # its sub-group
        ("gom chu dau", ["Bình giọt ngọc"]),  # its producer
        ("ÐỒ SƠN", ["Bình giọt ngọc"]),  # U+00D0 read as Đ
        ("ｎｕｏｃ ｍａｍ", ["Nước mắm cốt cao đạm"]),  # fullwidth letters
        ("ruouu nep", ["Rượu nếp cái hoa vàng"]),  # one letter too many
    ],
)
def test_a_shopper_finds_what_they_mean(client, shelf, q, expected):
    assert names(client.get("/api/v1/products", query_string={"q": q})) == expected


def test_a_typo_is_found_and_the_page_offers_the_correct_words(client, shelf):
    body = client.get("/api/v1/products?q=nuoc+mamm").get_json()
    assert [item["name"] for item in body["items"]] == ["Nước mắm cốt cao đạm"]
    assert body["did_you_mean"] == "nuoc mam"
    assert client.get("/api/v1/products?q=nuoc+mam").get_json()["did_you_mean"] is None
    page = client.get("/san-pham?q=nuoc+mamm&group=1").get_data(as_text=True)
    assert "Nước mắm cốt cao đạm" in page
    link = next(
        part.split('"')[0]
        for part in page.split('href="')[1:]
        if "q=nuoc+mam&" in part or part.startswith('/san-pham?q=nuoc+mam"')
    )
    assert parse_qs(urlsplit(link.replace("&amp;", "&")).query) == {"q": ["nuoc mam"], "group": ["1"]}


@pytest.mark.parametrize("q", ["%", "*", '"', "?!.", "   "])
def test_a_query_with_nothing_to_search_for_finds_nothing(client, shelf, q):
    body = client.get("/api/v1/products", query_string={"q": q}).get_json()
    if q.strip():
        assert body["items"] == [] and body["total"] == 0
    else:  # an empty box is the whole catalogue, as before any search
        assert body["total"] == 3


@pytest.mark.parametrize(
    "q",
    [
        "nuoc*",
        '"nuoc mam"',
        "(nuoc",
        "nuoc~",
        "nuoc AND mam",
        "mam OR ruou",
        "NOT nuoc",
        "name_words: nuoc",
        "nuoc -mam",
    ],
)
def test_engine_syntax_is_searched_as_plain_words(client, shelf, q):
    response = client.get("/api/v1/products", query_string={"q": q})
    assert response.status_code == 200
    words = set(
        q.lower()
        .replace("*", " ")
        .replace('"', " ")
        .replace("(", " ")
        .replace("~", " ")
        .replace(":", " ")
        .replace("-", " ")
        .split()
    )
    if words <= {"nuoc", "mam"}:
        assert names(response) == ["Nước mắm cốt cao đạm"]
    else:  # AND/OR/NOT/name_words are words no product holds
        assert names(response) == []


def test_price_range_filters_and_an_upside_down_range_is_refused(client, shelf):
    assert names(client.get("/api/v1/products?min_price=200000&max_price=500000")) == ["Rượu nếp cái hoa vàng"]
    assert client.get("/api/v1/products?min_price=500000&max_price=200000").status_code == 400
    page = client.get("/san-pham?min_price=200000&max_price=500000")
    assert (
        page.status_code == 200
        and "Rượu nếp cái hoa vàng" in page.get_data(as_text=True)
        and "Bình giọt ngọc" not in page.get_data(as_text=True)
    )
    refused = client.get("/san-pham?min_price=500000&max_price=200000")
    assert refused.status_code == 400 and "Giá thấp nhất không được lớn hơn giá cao nhất" in refused.get_data(True)
    assert client.get("/san-pham?min_price=-5").status_code == 400


def test_suggestions_start_at_three_letters_and_are_whole_names(client, shelf):
    assert client.get("/api/v1/suggest?q=nu").get_json() == {"suggestions": []}
    assert client.get("/api/v1/suggest?q=nuo").get_json() == {"suggestions": ["Nước mắm cốt cao đạm"]}
    assert client.get("/api/v1/suggest?q=binh gi").get_json() == {"suggestions": ["Bình giọt ngọc"]}


def test_a_very_long_query_is_a_clear_400(client, shelf):
    response = client.get("/api/v1/products", query_string={"q": "nuoc " * 60})
    assert response.status_code == 400 and response.get_json()["error"]
    assert client.get("/san-pham", query_string={"q": "nuoc " * 60}).status_code == 400
