"""The staff transfer pages: Kiến Thụy stocks the fair stand hoi-cho by request, dispatch and receipt; staff of a
third outlet are refused; anonymous visitors go to the login page; every form carries its CSRF token."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from inventory.ledger import Move, drift
from inventory.models import Discrepancy, StockLevel, Transfer
from inventory.stock import receive
from tests.factories import PASSWORD, make_outlet, make_product, make_user

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def login(client, user):
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302


def browser(app, user):
    """A client logged in as `user` (each member of staff at their own counter)."""
    client = app.test_client()
    login(client, user)
    return client


def on_hand(session, outlet, product) -> int:
    session.expire_all()
    return sum(
        session.scalars(
            select(StockLevel.on_hand).where(StockLevel.outlet_id == outlet.id, StockLevel.product_id == product.id)
        )
    )


@pytest.fixture
def world(session):
    shop, fair, third = (
        make_outlet(session, "kien-thuy"),
        make_outlet(session, "hoi-cho", kind="fair"),
        make_outlet(session, "do-son"),
    )
    sauce = make_product(session, "Nước mắm Cát Hải")
    receive(
        session,
        Move(key="seed-L1", kind="receive", outlet_id=shop.id, product_id=sauce.id, occurred_at=NOW),
        "L1",
        8,
        produced_on=date(2026, 1, 1),
        best_before=date(2027, 6, 1),
    )
    staff = {
        name: make_user(session, role="staff", outlet_id=outlet.id)
        for name, outlet in (("shop", shop), ("fair", fair), ("third", third))
    }
    session.commit()
    return {"shop": shop, "fair": fair, "third": third, "sauce": sauce, "staff": staff}


def request_form(outlet_to, product, qty, direction="out") -> dict:
    return {
        "direction": direction,
        "other_outlet_id": str(outlet_to.id),
        "lines-0-product_id": str(product.id),
        "lines-0-qty": str(qty),
    }


def test_the_shop_stocks_the_fair_stand_through_the_pages(app, client, session, world):
    shop, fair, sauce, staff = world["shop"], world["fair"], world["sauce"], world["staff"]
    login(client, staff["shop"])
    page = client.get(f"/cua-hang/{shop.id}/chuyen-hang").get_data(as_text=True)
    assert "Nước mắm Cát Hải (ở đây còn 8, mọi cửa hàng 8)" in page and fair.name in page

    created = client.post(f"/cua-hang/{shop.id}/chuyen-hang", data=request_form(fair, sauce, 5))
    assert created.status_code == 302
    transfer = session.scalars(select(Transfer)).one()
    assert (transfer.from_outlet_id, transfer.to_outlet_id, transfer.status) == (shop.id, fair.id, "requested")
    detail = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "Chờ xuất hàng" in detail and "Xuất hàng" in detail

    sent = client.post(f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}/xuat-hang", follow_redirects=True)
    assert "Đang vận chuyển" in sent.get_data(as_text=True)
    assert on_hand(session, shop, sauce) == 3 and on_hand(session, fair, sauce) == 0

    client = browser(app, staff["fair"])
    listing = client.get(f"/cua-hang/{fair.id}/chuyen-hang").get_data(as_text=True)
    assert f"Nhận từ {shop.name}" in listing and "Đang vận chuyển" in listing
    form = client.get(f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}").get_data(as_text=True)
    assert f'name="received_{sauce.id}"' in form and 'value="5"' in form, "prefilled with what was sent"
    arrived = client.post(
        f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}/nhan-hang",
        data={f"received_{sauce.id}": "4"},
        follow_redirects=True,
    )
    page = arrived.get_data(as_text=True)
    assert "Đã nhận" in page and "thiếu 1 so với số đã gửi" in page
    assert on_hand(session, fair, sauce) == 4 and on_hand(session, shop, sauce) == 3
    assert [(d.kind, d.qty) for d in session.scalars(select(Discrepancy))] == [("short_receipt", 1)]
    assert drift(session) == {}


def test_the_fair_stand_asks_for_goods_and_cannot_dispatch_them_itself(client, session, world):
    shop, fair, sauce, staff = world["shop"], world["fair"], world["sauce"], world["staff"]
    login(client, staff["fair"])
    client.post(f"/cua-hang/{fair.id}/chuyen-hang", data=request_form(shop, sauce, 2, direction="in"))
    transfer = session.scalars(select(Transfer)).one()
    assert (transfer.from_outlet_id, transfer.to_outlet_id) == (shop.id, fair.id)
    page = client.get(f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}").get_data(as_text=True)
    assert f"Đang chờ {shop.name} xuất hàng." in page
    assert client.post(f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}/xuat-hang").status_code == 403
    assert on_hand(session, shop, sauce) == 8


def test_refused_requests_and_receipts_say_why(app, client, session, world):
    shop, fair, sauce, staff = world["shop"], world["fair"], world["sauce"], world["staff"]
    login(client, staff["shop"])
    half_filled = client.post(
        f"/cua-hang/{shop.id}/chuyen-hang", data={**request_form(fair, sauce, 1), "lines-0-qty": ""}
    )
    assert "Cần nhập số lượng." in half_filled.get_data(as_text=True)
    too_many = client.post(f"/cua-hang/{shop.id}/chuyen-hang", data=request_form(fair, sauce, 9))
    transfer = session.scalars(select(Transfer)).one()
    refused = client.post(f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}/xuat-hang", follow_redirects=True)
    assert too_many.status_code == 302 and "chỉ còn 8, cần 9" in refused.get_data(as_text=True)
    assert on_hand(session, shop, sauce) == 8

    session.get(Transfer, transfer.id).lines[0].qty = 3
    session.commit()
    client.post(f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}/xuat-hang")
    client = browser(app, staff["fair"])
    over = client.post(f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}/nhan-hang", data={f"received_{sauce.id}": "4"})
    assert over.status_code == 400 and "không thể nhận nhiều hơn số đã gửi" in over.get_data(as_text=True)
    assert on_hand(session, fair, sauce) == 0


def test_staff_of_a_third_outlet_are_refused(app, client, session, world):
    shop, third, sauce, staff = world["shop"], world["third"], world["sauce"], world["staff"]
    login(client, staff["shop"])
    client.post(f"/cua-hang/{shop.id}/chuyen-hang", data=request_form(world["fair"], sauce, 1))
    transfer = session.scalars(select(Transfer)).one()
    client = browser(app, staff["third"])
    assert client.get(f"/cua-hang/{shop.id}/chuyen-hang").status_code == 403
    assert client.get(f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}").status_code == 403
    assert client.post(f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}/xuat-hang").status_code == 403
    # From their own outlet's pages the transfer is not theirs to see.
    assert client.get(f"/cua-hang/{third.id}/chuyen-hang/{transfer.id}").status_code == 404
    assert client.post(f"/cua-hang/{third.id}/chuyen-hang/{transfer.id}/xuat-hang").status_code == 404
    assert session.get(Transfer, transfer.id).status == "requested"


def test_anonymous_visitors_go_to_the_login_page(client, world):
    shop = world["shop"]
    for response in (
        client.get(f"/cua-hang/{shop.id}/chuyen-hang"),
        client.get(f"/cua-hang/{shop.id}/chuyen-hang/1"),
        client.post(f"/cua-hang/{shop.id}/chuyen-hang/1/xuat-hang"),
    ):
        assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def post_forms(page: str) -> dict[str, str]:
    """{action: form html} of every POST form on the page."""
    return {
        re.search(r'action="([^"]*)"', form).group(1): form
        for form in re.findall(r'<form[^>]*method="post".*?</form>', page, flags=re.DOTALL)
    }


def test_every_transfer_form_carries_a_csrf_token_and_is_refused_without_it(app, session, world):
    app.config["WTF_CSRF_ENABLED"] = True
    shop, fair, sauce, staff = world["shop"], world["fair"], world["sauce"], world["staff"]

    def logged_in(user):
        client = app.test_client()
        page = client.get("/dang-nhap").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        return client

    def token_of(form: str) -> str:
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)

    client = logged_in(staff["shop"])
    listing = f"/cua-hang/{shop.id}/chuyen-hang"
    request = post_forms(client.get(listing).get_data(as_text=True))[listing]
    assert client.post(listing, data=request_form(fair, sauce, 1)).status_code == 400
    assert session.scalars(select(Transfer)).all() == []
    created = client.post(listing, data={**request_form(fair, sauce, 1), "csrf_token": token_of(request)})
    transfer = session.scalars(select(Transfer)).one()

    dispatch = f"/cua-hang/{shop.id}/chuyen-hang/{transfer.id}/xuat-hang"
    form = post_forms(client.get(created.headers["Location"]).get_data(as_text=True))[dispatch]
    assert client.post(dispatch).status_code == 400
    assert on_hand(session, shop, sauce) == 8
    client.post(dispatch, data={"csrf_token": token_of(form)})
    assert on_hand(session, shop, sauce) == 7

    client = logged_in(staff["fair"])
    receipt = f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}/nhan-hang"
    form = post_forms(client.get(f"/cua-hang/{fair.id}/chuyen-hang/{transfer.id}").get_data(as_text=True))[receipt]
    assert client.post(receipt, data={f"received_{sauce.id}": "1"}).status_code == 400
    assert on_hand(session, fair, sauce) == 0
    client.post(receipt, data={f"received_{sauce.id}": "1", "csrf_token": token_of(form)})
    assert on_hand(session, fair, sauce) == 1
