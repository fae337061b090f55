"""Availability (issue 7): what the product page, the product API and the catalogue say about stock per outlet,
read from the ledger, with holds counted while they last and never for products that are not on sale."""

import html
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import event

from core.db import db
from inventory.availability import availability, available_by_outlet
from inventory.ledger import Move
from inventory.reservations import reserve
from inventory.stock import receive, sell
from tests.factories import make_outlet, make_product

_keys = count(1)


def now() -> datetime:
    # The pages read holds against the real clock (TODAY pins only the date of certificates).
    return datetime.now(UTC)


def move(outlet, product, kind: str) -> Move:
    return Move(
        key=f"availability-test-{next(_keys)}", kind=kind, outlet_id=outlet.id, product_id=product.id, occurred_at=now()
    )


def stock_up(session, outlet, product, qty: int, lot: str = "L1"):
    receive(
        session,
        move(outlet, product, "receive"),
        lot,
        qty,
        produced_on=date(2026, 10, 1),
        best_before=date(2027, 10, 1),
    )


def hold(session, outlet, product, qty: int, *, expires_in: timedelta):
    """A checkout's hold that ends `expires_in` from now (negative: it has already expired, untidied)."""
    reserve(
        session,
        key=f"order-{next(_keys)}",
        outlet_id=outlet.id,
        lines=[(product.id, qty)],
        now=now() + min(expires_in, timedelta(0)) - timedelta(minutes=1),
        expires_at=now() + expires_in,
    )


def named_outlet(session, code: str, name: str):
    outlet = make_outlet(session, code)
    outlet.name = name
    session.flush()
    return outlet


@pytest.fixture
def shops(session):
    return {
        "kien_thuy": named_outlet(session, "kien-thuy", "OCOP Mart Kiến Thụy"),
        "do_son": named_outlet(session, "do-son", "OCOP Mart Đồ Sơn"),
    }


@pytest.fixture
def fish_sauce(session, shops):
    """Received at two shops: 12 at Kiến Thụy (in two lots), 5 at Đồ Sơn."""
    product = make_product(session, "Nước mắm Cát Hải")
    stock_up(session, shops["kien_thuy"], product, 7, "L1")
    stock_up(session, shops["kien_thuy"], product, 5, "L2")
    stock_up(session, shops["do_son"], product, 5)
    session.commit()
    return product


def page_text(client, product) -> str:
    response = client.get(f"/san-pham/{product.slug}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def api_availability(client, product) -> list[dict]:
    response = client.get(f"/api/v1/products/{product.id}")
    assert response.status_code == 200
    return response.get_json()["availability"]


def test_a_product_received_at_two_outlets_shows_both_with_their_quantities(client, shops, fish_sauce):
    page = page_text(client, fish_sauce)
    assert "Còn 12 tại OCOP Mart Kiến Thụy" in page and "Còn 5 tại OCOP Mart Đồ Sơn" in page
    assert page.index("Còn 12 tại") < page.index("Còn 5 tại")
    assert "Tạm hết hàng" not in page
    assert api_availability(client, fish_sauce) == [
        {"outlet_id": shops["kien_thuy"].id, "outlet": "OCOP Mart Kiến Thụy", "available": 12},
        {"outlet_id": shops["do_son"].id, "outlet": "OCOP Mart Đồ Sơn", "available": 5},
    ]
    assert client.get(f"/api/v1/products/{fish_sauce.id}").get_json()["in_stock"] is True


def test_after_selling_out_at_one_outlet_only_the_other_remains(client, session, shops, fish_sauce):
    sell(session, move(shops["do_son"], fish_sauce, "sale"), 5)
    session.commit()
    page = page_text(client, fish_sauce)
    assert "Còn 12 tại OCOP Mart Kiến Thụy" in page and "Đồ Sơn" not in page
    assert [a["outlet"] for a in api_availability(client, fish_sauce)] == ["OCOP Mart Kiến Thụy"]

    sell(session, move(shops["kien_thuy"], fish_sauce, "sale"), 12)
    session.commit()
    assert "Tạm hết hàng" in page_text(client, fish_sauce)
    assert api_availability(client, fish_sauce) == []
    assert client.get(f"/api/v1/products/{fish_sauce.id}").get_json()["in_stock"] is False


def test_a_hold_reduces_availability_and_an_expired_hold_does_not(client, session, shops, fish_sauce):
    hold(session, shops["kien_thuy"], fish_sauce, 4, expires_in=timedelta(minutes=15))
    hold(session, shops["do_son"], fish_sauce, 2, expires_in=timedelta(minutes=-5))
    session.commit()
    page = page_text(client, fish_sauce)
    assert "Còn 8 tại OCOP Mart Kiến Thụy" in page and "Còn 5 tại OCOP Mart Đồ Sơn" in page
    assert [a["available"] for a in api_availability(client, fish_sauce)] == [8, 5]


def test_a_product_wholly_held_is_out_of_stock_until_the_hold_expires(client, session, shops):
    product = make_product(session, "Chả mực Đồ Sơn")
    stock_up(session, shops["do_son"], product, 3)
    hold(session, shops["do_son"], product, 3, expires_in=timedelta(minutes=15))
    session.commit()
    assert client.get("/api/v1/products").get_json()["items"][0]["in_stock"] is False
    assert client.get("/api/v1/products?in_stock=1").get_json()["total"] == 0

    expired = make_product(session, "Nước mắm Vạn Vân")
    stock_up(session, shops["do_son"], expired, 3)
    hold(session, shops["do_son"], expired, 3, expires_in=timedelta(minutes=-1))
    session.commit()
    body = client.get("/api/v1/products?in_stock=1").get_json()
    assert [item["name"] for item in body["items"]] == ["Nước mắm Vạn Vân"] and body["items"][0]["in_stock"]


@pytest.fixture
def listing(session, shops):
    """Fish sauce at Kiến Thụy, wine at Đồ Sơn, rice crackers nowhere, and an expired-certificate product
    with plenty of stock at both."""
    products = {
        "fish_sauce": make_product(session, "Nước mắm Cát Hải", stars=3),
        "wine": make_product(session, "Rượu nếp cái hoa vàng", stars=5, group=2),
        "crackers": make_product(session, "Bánh đa Kinh Giao", stars=4),
        "expired": make_product(session, "Táo Bàng La", stars=4, issued_on=date(2019, 1, 1)),
    }
    stock_up(session, shops["kien_thuy"], products["fish_sauce"], 10)
    stock_up(session, shops["do_son"], products["wine"], 2)
    for outlet in shops.values():
        stock_up(session, outlet, products["expired"], 50)
    session.commit()
    return products


def names(body) -> set[str]:
    return {item["name"] for item in body["items"]}


def test_list_items_say_whether_some_outlet_has_them(client, listing):
    body = client.get("/api/v1/products").get_json()
    assert body["total"] == 3
    assert {item["name"]: item["in_stock"] for item in body["items"]} == {
        "Nước mắm Cát Hải": True,
        "Rượu nếp cái hoa vàng": True,
        "Bánh đa Kinh Giao": False,
    }


def test_in_stock_keeps_products_available_anywhere_or_at_the_chosen_outlet(client, shops, listing):
    body = client.get("/api/v1/products?in_stock=1").get_json()
    assert names(body) == {"Nước mắm Cát Hải", "Rượu nếp cái hoa vàng"} and body["total"] == 2
    assert body["facets"]["group"] == {"1": 1, "2": 1}

    body = client.get(f"/api/v1/products?in_stock=1&outlet_id={shops['do_son'].id}").get_json()
    assert names(body) == {"Rượu nếp cái hoa vàng"} and body["total"] == 1
    assert body["facets"]["group"] == {"2": 1} and body["facets"]["stars"] == {"5": 1}

    body = client.get(f"/api/v1/products?in_stock=1&outlet_id={shops['kien_thuy'].id}&group=2").get_json()
    assert body["items"] == [] and body["total"] == 0

    # Without in_stock, the outlet narrows nothing; in_stock=0 is no filter either.
    assert client.get(f"/api/v1/products?outlet_id={shops['do_son'].id}").get_json()["total"] == 3
    assert client.get("/api/v1/products?in_stock=0").get_json()["total"] == 3


def test_the_outlet_facet_counts_products_available_per_outlet(client, session, shops, listing):
    kien_thuy, do_son = str(shops["kien_thuy"].id), str(shops["do_son"].id)
    assert client.get("/api/v1/products").get_json()["facets"]["outlet"] == {kien_thuy: 1, do_son: 1}

    stock_up(session, shops["do_son"], listing["fish_sauce"], 1)
    session.commit()
    assert client.get("/api/v1/products").get_json()["facets"]["outlet"] == {kien_thuy: 1, do_son: 2}
    # It follows the other filters but not its own choice of outlet, like every facet.
    assert client.get("/api/v1/products?group=2").get_json()["facets"]["outlet"] == {do_son: 1}
    body = client.get(f"/api/v1/products?in_stock=1&outlet_id={kien_thuy}").get_json()
    assert body["total"] == 1 and body["facets"]["outlet"] == {kien_thuy: 1, do_son: 2}


def test_a_product_not_on_sale_never_shows_even_with_stock(client, shops, listing):
    expired = listing["expired"]
    for query in ("", "?in_stock=1", f"?in_stock=1&outlet_id={shops['do_son'].id}", "?q=tao"):
        assert "Táo Bàng La" not in names(client.get(f"/api/v1/products{query}").get_json()), query
    assert client.get(f"/api/v1/products/{expired.id}").status_code == 404
    page = page_text(client, expired)
    assert "not-on-sale" in page and "Còn 50" not in page and "Tạm hết hàng" not in page
    assert "Táo Bàng La" not in client.get("/san-pham").get_data(as_text=True)


def test_catalogue_cards_say_in_or_out_of_stock(client, listing):
    page = client.get("/san-pham").get_data(as_text=True)
    assert page.count("Còn hàng") == 2 and page.count("Hết hàng") == 1
    home = client.get("/").get_data(as_text=True)
    assert home.count("Còn hàng") == 2 and home.count("Hết hàng") == 1


def test_catalogue_stock_costs_the_same_queries_for_three_cards_or_fifteen(app, client, session, shops, listing):
    def statements_for(path: str) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731 - a counter, nothing more
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements_for("/san-pham")
    for n in range(12):
        product = make_product(session, f"Bánh đa thử {n}")
        if n % 2:
            stock_up(session, shops["kien_thuy"], product, 1)
    session.commit()
    assert statements_for("/san-pham") == few


def test_services_are_booked_not_stocked(client, session, shops):
    tour = make_product(session, "Du lịch cộng đồng Việt Hải", stars=4, group=6)
    session.commit()
    page = page_text(client, tour)
    assert "đặt lịch" in page and "Tạm hết hàng" not in page
    catalogue = client.get("/san-pham").get_data(as_text=True)
    assert "Du lịch cộng đồng Việt Hải" in catalogue and "Hết hàng" not in catalogue


def test_the_sql_rule_agrees_with_the_ledgers_own_reading(session, shops, fish_sauce):
    """availability() (SQL, for pages and filters) and stock.available_by_outlet give the same numbers."""
    hold(session, shops["kien_thuy"], fish_sauce, 4, expires_in=timedelta(minutes=15))
    hold(session, shops["kien_thuy"], fish_sauce, 1, expires_in=timedelta(minutes=-5))
    hold(session, shops["do_son"], fish_sauce, 5, expires_in=timedelta(minutes=15))
    session.commit()
    moment = now()
    expected = available_by_outlet(session, [fish_sauce.id], moment)[fish_sauce.id]
    assert expected == {shops["kien_thuy"].id: 8}
    assert {s.outlet_id: s.available for s in availability(session, fish_sauce.id, moment)} == expected
