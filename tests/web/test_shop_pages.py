import html
from datetime import date

import pytest

from tests.factories import make_product


@pytest.fixture
def shelves(session):
    products = {
        "five": make_product(
            session,
            "Bình giọt ngọc",
            stars=5,
            level="national",
            issued_on=date(2025, 6, 26),
            group=4,
            price_vnd=1_250_000,
        ),
        "three": make_product(session, "Nước mắm Cát Hải", stars=3, price_vnd=120_000),
        "expired": make_product(session, "Cá mòi kho Làng Chài", stars=4, issued_on=date(2019, 1, 1)),
    }
    session.commit()
    return products


def test_home_lists_sellable_products_by_group_with_prices_in_dong(client, shelves):
    page = client.get("/").get_data(as_text=True)
    assert "Bình giọt ngọc" in page and "Nước mắm Cát Hải" in page
    assert "Cá mòi kho Làng Chài" not in page
    assert "1.250.000 ₫" in page and "120.000 ₫" in page


def test_the_product_page_shows_stars_certificate_and_the_2028_expiry(client, shelves):
    page = client.get(f"/san-pham/{shelves['five'].slug}").get_data(as_text=True)
    assert 'data-stars="5"' in page
    assert "26/06/2025" in page and "còn hiệu lực đến hết 25/06/2028" in page
    assert "not-on-sale" not in page
    # No outlet has received any (stock itself: tests/web/test_availability.py).
    assert "Tạm hết hàng" in page


def test_an_expired_product_says_it_is_not_on_sale_and_why(client, shelves):
    response = client.get(f"/san-pham/{shelves['expired'].slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "not-on-sale" in page and "01/01/2022" in page


def test_catalogue_filters_by_stars_and_unaccented_words(client, shelves):
    page = client.get("/san-pham?stars=5").get_data(as_text=True)
    assert "Bình giọt ngọc" in page and "Nước mắm Cát Hải" not in page
    page = client.get("/san-pham?q=nuoc+mam").get_data(as_text=True)
    assert "Nước mắm Cát Hải" in page and "Bình giọt ngọc" not in page


@pytest.mark.parametrize(
    "query", ["stars=2", "group=9", "page=0", "page=x", "sort=cheap", "district=atlantis", "q=" + "a" * 201]
)
def test_bad_catalogue_input_is_a_friendly_400_page(client, query):
    response = client.get(f"/san-pham?{query}")
    assert response.status_code == 400
    assert "<html" in response.get_data(as_text=True)


def test_a_missing_product_is_a_404_page(client):
    assert client.get("/san-pham/khong-co").status_code == 404


def test_a_revoked_certificate_is_shown_as_revoked_not_as_valid(client, session, shelves):
    from catalog.services import revoke_certificate

    revoke_certificate(session, shelves["five"].current_certificate, reason="Vi phạm chất lượng")
    session.commit()
    page = client.get(f"/san-pham/{shelves['five'].slug}").get_data(as_text=True)
    assert "not-on-sale" in page and "đã bị thu hồi ngày" in page
    assert "còn hiệu lực đến hết" not in page and "star-badge-muted" in page


def test_a_year_only_expiry_is_marked_as_estimated(client, session, shelves):
    shelves["expired"].current_certificate.date_is_approximate = True  # the source gave only the year
    session.commit()
    page = client.get(f"/san-pham/{shelves['expired'].slug}").get_data(as_text=True)
    assert "đã hết hiệu lực từ 01/01/2022" in page and "ước tính" in page


def test_the_catalogue_offers_only_districts_that_have_products_on_sale(client, shelves):
    page = client.get("/san-pham").get_data(as_text=True)
    assert 'value="kien-thuy"' in page and 'value="bach-long-vi"' not in page


def test_an_english_browser_gets_english_unless_the_visitor_chose(client, shelves):
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    client.get("/ngon-ngu/vi")
    assert 'lang="vi"' in client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_the_interface_switches_to_english(client, shelves):
    assert 'lang="vi"' in client.get("/").get_data(as_text=True)
    client.get("/ngon-ngu/en")
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "Products" in page


def test_error_messages_follow_the_language_switch(client):
    client.get("/ngon-ngu/en")
    page = html.unescape(client.get("/san-pham?sort=cheapest").get_data(as_text=True))
    assert "There is no sort order 'cheapest'." in page
    assert "Product not found." in client.get("/san-pham/khong-co").get_data(as_text=True)
