"""Outlet stock pages (issue 7): staff of one outlet receive, sell, count and write off through the ledger, see
low-stock and expiry alerts, resolve discrepancies; other outlets' staff get 403, anonymous visitors the login."""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from inventory.ledger import Move
from inventory.models import Discrepancy, StockLevel, StockMovement
from inventory.reservations import reserve
from inventory.stock import receive
from tests.factories import PASSWORD, make_outlet, make_product, make_user

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
CERAMIC_GROUP = 4
_keys = iter(range(10**9))


def login(client, user):
    assert client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD}).status_code == 302


def token_of(page: str) -> str:
    return re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)


def fresh_token(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return token_of(response.get_data(as_text=True))


def stock_in(session, outlet, product, lot, qty, best_before=None, produced_on=date(2026, 6, 1)):
    """Stock put on the shelf directly through inventory, as the seed or another page would."""
    receive(
        session,
        Move(key=f"setup-{next(_keys)}", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=NOW),
        lot,
        qty,
        produced_on=produced_on,
        best_before=best_before,
    )


def on_hand(session, outlet, product) -> dict[str, int]:
    session.expire_all()
    return {
        level.batch.lot_code: level.on_hand
        for level in session.scalars(
            select(StockLevel).where(StockLevel.outlet_id == outlet.id, StockLevel.product_id == product.id)
        )
    }


def movements(session, kind=None) -> list[StockMovement]:
    session.expire_all()
    query = select(StockMovement).where(~StockMovement.key.like("setup-%")).order_by(StockMovement.id)
    return list(session.scalars(query.where(StockMovement.kind == kind) if kind else query))


@pytest.fixture
def shop(session):
    """Kiến Thụy's shop with its staff member, a fish sauce (group 1) and a ceramic vase (group 4)."""
    outlet = make_outlet(session, "kien-thuy")
    staff = make_user(session, role="staff", outlet_id=outlet.id, email="staff.kien-thuy@ocop.example")
    fish_sauce = make_product(session, "Nước mắm Cát Hải")
    vase = make_product(session, "Bình gốm Dương Kinh", group=CERAMIC_GROUP)
    session.commit()
    return outlet, staff, fish_sauce, vase


@pytest.fixture
def signed_in(client, shop):
    login(client, shop[1])
    return shop


def test_staff_receive_goods_and_the_table_shows_them(client, session, signed_in):
    outlet, staff, fish_sauce, _ = signed_in
    url = f"/cua-hang/{outlet.id}/nhap-hang"
    response = client.post(
        url,
        data={
            "token": fresh_token(client, url),
            "product_id": fish_sauce.id,
            "lot": "NM-2611",
            "produced_on": "2026-11-01",
            "best_before": "2027-11-01",
            "qty": "24",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/cua-hang/{outlet.id}/ton-kho"
    assert on_hand(session, outlet, fish_sauce) == {"NM-2611": 24}
    [recorded] = movements(session)
    assert (recorded.kind, recorded.actor_id, recorded.on_hand_change) == ("receive", staff.id, 24)
    table = client.get(f"/cua-hang/{outlet.id}/ton-kho").get_data(as_text=True)
    assert "Nước mắm Cát Hải" in table and "NM-2611" in table and "01/11/2027" in table
    assert re.search(r'data-label="Có thể bán"><strong>24</strong>', table)


def test_a_resubmitted_receive_form_records_once(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    url = f"/cua-hang/{outlet.id}/nhap-hang"
    form = {
        "token": fresh_token(client, url),
        "product_id": fish_sauce.id,
        "lot": "NM-1",
        "produced_on": "2026-11-01",
        "best_before": "2027-11-01",
        "qty": "10",
    }
    assert client.post(url, data=form).status_code == 302
    again = client.post(url, data=form, follow_redirects=True)
    assert "đã được ghi nhận trước đó" in again.get_data(as_text=True)
    assert on_hand(session, outlet, fish_sauce) == {"NM-1": 10} and len(movements(session)) == 1

    # Back in the browser, the same page sent again with another quantity: refused, not silently dropped.
    changed = client.post(url, data={**form, "qty": "12"})
    page = changed.get_data(as_text=True)
    assert changed.status_code == 200 and "đã được gửi trước đó với nội dung khác" in page
    assert token_of(page) != form["token"]  # a new token, so checking and sending again records it
    assert on_hand(session, outlet, fish_sauce) == {"NM-1": 10}


def test_a_sale_over_stock_is_a_form_error_and_changes_nothing(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "L1", 2, best_before=date(2027, 6, 1))
    session.commit()
    url = f"/cua-hang/{outlet.id}/ban-hang"
    response = client.post(
        url, data={"token": fresh_token(client, url), "product_id": fish_sauce.id, "batch_id": "0", "qty": "3"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'id="qty-errors">\s*<li>Không đủ hàng: chỉ còn 2 có thể bán.</li>', page)
    assert on_hand(session, outlet, fish_sauce) == {"L1": 2} and movements(session, "sale") == []


def test_a_counter_sale_takes_the_lot_that_expires_first(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "LATE", 5, best_before=date(2027, 9, 1))
    stock_in(session, outlet, fish_sauce, "SOON", 3, best_before=date(2027, 3, 1))
    session.commit()
    url = f"/cua-hang/{outlet.id}/ban-hang"
    response = client.post(
        url, data={"token": fresh_token(client, url), "product_id": fish_sauce.id, "batch_id": "0", "qty": "4"}
    )
    assert response.status_code == 302
    assert on_hand(session, outlet, fish_sauce) == {"SOON": 0, "LATE": 4}
    assert sorted(m.on_hand_change for m in movements(session, "sale")) == [-3, -1]


def test_a_counter_sale_from_a_named_lot(client, session, signed_in):
    outlet, _, fish_sauce, vase = signed_in
    stock_in(session, outlet, fish_sauce, "LATE", 5, best_before=date(2027, 9, 1))
    stock_in(session, outlet, fish_sauce, "SOON", 3, best_before=date(2027, 3, 1))
    stock_in(session, outlet, vase, "G1", 2)
    session.commit()
    late = session.scalar(
        select(StockLevel.batch_id)
        .join(StockLevel.batch)
        .where(StockLevel.product_id == fish_sauce.id)
        .order_by(StockLevel.id)
    )
    url = f"/cua-hang/{outlet.id}/ban-hang"
    form = {"token": fresh_token(client, url), "product_id": fish_sauce.id, "batch_id": late, "qty": "2"}
    assert client.post(url, data=form).status_code == 302
    assert on_hand(session, outlet, fish_sauce) == {"SOON": 3, "LATE": 3}
    # A lot of another product is refused, not sold.
    wrong = client.post(url, data={**form, "token": fresh_token(client, url), "product_id": vase.id})
    assert "Lô này không thuộc sản phẩm đã chọn." in wrong.get_data(as_text=True)
    assert on_hand(session, outlet, vase) == {"G1": 2}


def test_a_count_adjustment_needs_a_reason(client, session, signed_in):
    outlet, staff, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "L1", 10, best_before=date(2027, 6, 1))
    session.commit()
    batch_id = session.scalar(select(StockLevel.batch_id))
    url = f"/cua-hang/{outlet.id}/kiem-kho"
    token = fresh_token(client, url)
    no_reason = client.post(url, data={"token": token, "batch_id": batch_id, "counted": "8", "note": " "})
    assert no_reason.status_code == 200 and 'id="note-errors"' in no_reason.get_data(as_text=True)
    assert on_hand(session, outlet, fish_sauce) == {"L1": 10}

    response = client.post(url, data={"token": token, "batch_id": batch_id, "counted": "8", "note": "Vỡ 2 chai"})
    assert response.status_code == 302
    assert on_hand(session, outlet, fish_sauce) == {"L1": 8}
    [adjusted] = movements(session, "adjust")
    assert (adjusted.on_hand_change, adjusted.note, adjusted.actor_id) == (-2, "Vỡ 2 chai", staff.id)

    found = client.post(
        url,
        data={"token": fresh_token(client, url), "batch_id": batch_id, "counted": "9", "note": "Tìm thấy trong kho"},
    )
    assert found.status_code == 302 and on_hand(session, outlet, fish_sauce) == {"L1": 9}

    same = client.post(
        url,
        data={"token": fresh_token(client, url), "batch_id": batch_id, "counted": "9", "note": "Đếm lại"},
        follow_redirects=True,
    )
    assert "Số đếm khớp với sổ kho" in same.get_data(as_text=True) and len(movements(session, "adjust")) == 2


def test_a_count_cannot_go_below_zero_nor_below_what_orders_hold(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "L1", 5, best_before=date(2027, 6, 1))
    reserve(
        session,
        key="order-1",
        outlet_id=outlet.id,
        lines=[(fish_sauce.id, 3)],
        now=NOW,
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    session.commit()
    batch_id = session.scalar(select(StockLevel.batch_id))
    url = f"/cua-hang/{outlet.id}/kiem-kho"
    token = fresh_token(client, url)
    negative = client.post(url, data={"token": token, "batch_id": batch_id, "counted": "-1", "note": "Mất"})
    assert negative.status_code == 200 and 'id="counted-errors"' in negative.get_data(as_text=True)
    held = client.post(url, data={"token": token, "batch_id": batch_id, "counted": "2", "note": "Mất"})
    assert re.search(
        r'id="counted-errors">\s*<li>Số đếm được \(2\) ít hơn số đang giữ cho đơn hàng \(3\)',
        held.get_data(as_text=True),
    )
    assert on_hand(session, outlet, fish_sauce) == {"L1": 5} and movements(session, "adjust") == []
    response = client.post(url, data={"token": token, "batch_id": batch_id, "counted": "3", "note": "Mất"})
    assert response.status_code == 302
    assert on_hand(session, outlet, fish_sauce) == {"L1": 3}


def test_the_table_counts_an_expired_hold_as_available(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "L1", 5, best_before=date(2027, 6, 1))
    reserve(
        session,
        key="order-live",
        outlet_id=outlet.id,
        lines=[(fish_sauce.id, 1)],
        now=NOW,
        expires_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    reserve(
        session,
        key="order-lapsed",
        outlet_id=outlet.id,
        lines=[(fish_sauce.id, 2)],
        now=datetime(2020, 1, 1, tzinfo=UTC),
        expires_at=datetime(2020, 1, 1, 0, 15, tzinfo=UTC),
    )
    session.commit()
    table = client.get(f"/cua-hang/{outlet.id}/ton-kho").get_data(as_text=True)
    assert re.search(r'data-label="Đang giữ">1</td>\s*<td data-label="Có thể bán"><strong>4</strong>', table)


def test_best_before_is_refused_for_a_ceramic_and_required_for_fish_sauce(client, session, signed_in):
    outlet, _, fish_sauce, vase = signed_in
    url = f"/cua-hang/{outlet.id}/nhap-hang"
    form = {"token": fresh_token(client, url), "lot": "X1", "produced_on": "2026-11-01", "qty": "5"}
    ceramic = client.post(url, data={**form, "product_id": vase.id, "best_before": "2027-11-01"})
    assert re.search(
        r'id="best_before-errors">\s*<li>Sản phẩm nhóm 4 không có hạn sử dụng', ceramic.get_data(as_text=True)
    )
    fish = client.post(url, data={**form, "product_id": fish_sauce.id, "best_before": ""})
    assert re.search(r'id="best_before-errors">\s*<li>Sản phẩm nhóm 1 cần hạn sử dụng', fish.get_data(as_text=True))
    assert movements(session) == []

    assert client.post(url, data={**form, "product_id": vase.id, "best_before": ""}).status_code == 302
    assert on_hand(session, outlet, vase) == {"X1": 5}
    receive_page = client.get(url).get_data(as_text=True)
    assert (
        f'data-best-before="0" value="{vase.id}"' in receive_page
        or f'value="{vase.id}" data-best-before="0"' in receive_page
    )


def test_the_table_raises_low_stock_and_expiry_alerts(client, session, signed_in):
    outlet, _, fish_sauce, vase = signed_in
    plenty = make_product(session, "Chè Vĩnh Bảo")
    stock_in(session, outlet, plenty, "C1", 40, best_before=date(2027, 10, 1))
    stock_in(session, outlet, fish_sauce, "OLD", 2, best_before=date(2026, 11, 20))  # past
    stock_in(session, outlet, fish_sauce, "SOON", 30, best_before=date(2026, 12, 20))  # within 30 days
    stock_in(session, outlet, vase, "G1", 3)  # low, never expires
    session.commit()
    page = client.get(f"/cua-hang/{outlet.id}/ton-kho").get_data(as_text=True)
    low = re.search(r'<ul class="low-stock">(.*?)</ul>', page, re.S).group(1)
    assert "Bình gốm Dương Kinh" in low and "Chè Vĩnh Bảo" not in low and "Nước mắm" not in low
    expiring = re.search(r'<ul class="expiring">(.*?)</ul>', page, re.S).group(1)
    assert "lô OLD" in expiring and "đã hết hạn từ 20/11/2026" in expiring and "Hủy hàng (đề xuất)" in expiring
    assert "lô SOON" in expiring and "hết hạn ngày 20/12/2026" in expiring
    assert "C1" not in expiring and "G1" not in expiring


def test_a_product_sold_out_is_flagged_low(client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "L1", 1, best_before=date(2027, 6, 1))
    session.commit()
    url = f"/cua-hang/{outlet.id}/ban-hang"
    client.post(url, data={"token": fresh_token(client, url), "product_id": fish_sauce.id, "batch_id": "0", "qty": "1"})
    page = client.get(f"/cua-hang/{outlet.id}/ton-kho").get_data(as_text=True)
    assert "Nước mắm Cát Hải: có thể bán 0" in page


def test_an_expired_lot_is_written_off(client, session, signed_in):
    outlet, staff, fish_sauce, _ = signed_in
    stock_in(session, outlet, fish_sauce, "OLD", 4, best_before=date(2026, 11, 20))
    stock_in(session, outlet, fish_sauce, "GOOD", 6, best_before=date(2027, 11, 20))
    session.commit()
    old = session.scalar(select(StockLevel.batch_id).order_by(StockLevel.id))
    url = f"/cua-hang/{outlet.id}/huy-hang"
    page = client.get(f"{url}?lo={old}").get_data(as_text=True)
    assert "GOOD" not in page  # only lots past or near their date are offered
    response = client.post(url, data={"token": token_of(page), "batch_id": old, "qty": "4", "note": "Quá hạn"})
    assert response.status_code == 302
    assert on_hand(session, outlet, fish_sauce) == {"OLD": 0, "GOOD": 6}
    [written_off] = movements(session, "write_off")
    assert (written_off.on_hand_change, written_off.actor_id) == (-4, staff.id)
    assert 'class="expiring"' not in client.get(f"/cua-hang/{outlet.id}/ton-kho").get_data(as_text=True)


def test_a_discrepancy_is_resolved_with_a_note(client, session, signed_in):
    outlet, staff, fish_sauce, _ = signed_in
    other = make_outlet(session, "do-son")
    oversold = Discrepancy(outlet_id=outlet.id, product_id=fish_sauce.id, kind="oversold", qty=2, movement_key="m-1")
    elsewhere = Discrepancy(outlet_id=other.id, product_id=fish_sauce.id, kind="short_receipt", qty=1)
    session.add_all([oversold, elsewhere])
    session.commit()
    listing = client.get(f"/cua-hang/{outlet.id}/chenh-lech").get_data(as_text=True)
    assert "Bán vượt số trên sổ" in listing and "Nước mắm Cát Hải" in listing
    assert "Nhận thiếu" not in listing  # another outlet's

    url = f"/cua-hang/{outlet.id}/chenh-lech/{oversold.id}"
    empty = client.post(url, data={f"d{oversold.id}-resolution": ""})
    assert empty.status_code == 200 and f'id="d{oversold.id}-resolution-errors"' in empty.get_data(as_text=True)
    response = client.post(url, data={f"d{oversold.id}-resolution": "Đã kiểm kê, bán từ lô chưa nhập sổ"})
    assert response.status_code == 302
    session.expire_all()
    assert oversold.resolved_at is not None and oversold.resolved_by == staff.id
    assert oversold.resolution == "Đã kiểm kê, bán từ lô chưa nhập sổ"
    listing = client.get(f"/cua-hang/{outlet.id}/chenh-lech").get_data(as_text=True)
    assert "Không có chênh lệch nào cần xử lý." in listing and "Đã kiểm kê, bán từ lô chưa nhập sổ" in listing

    again = client.post(url, data={f"d{oversold.id}-resolution": "Lần hai"}, follow_redirects=True)
    assert "đã được xử lý" in again.get_data(as_text=True)
    session.expire_all()
    assert oversold.resolution == "Đã kiểm kê, bán từ lô chưa nhập sổ"
    # Another outlet's discrepancy cannot be reached through this outlet's address.
    assert (
        client.post(
            f"/cua-hang/{outlet.id}/chenh-lech/{elsewhere.id}", data={f"d{elsewhere.id}-resolution": "x"}
        ).status_code
        == 404
    )
    session.expire_all()
    assert elsewhere.resolved_at is None


PAGES = ["ton-kho", "nhap-hang", "ban-hang", "kiem-kho", "huy-hang", "chenh-lech"]
FORMS = ["nhap-hang", "ban-hang", "kiem-kho", "huy-hang", "chenh-lech/1"]


def test_staff_of_another_outlet_get_403_on_every_page_and_post(client, session, shop):
    outlet, _, fish_sauce, _ = shop
    stock_in(session, outlet, fish_sauce, "L1", 5, best_before=date(2026, 12, 1))
    session.add(Discrepancy(outlet_id=outlet.id, product_id=fish_sauce.id, kind="oversold", qty=1))
    stranger = make_user(session, role="staff", outlet_id=make_outlet(session, "do-son").id)
    session.commit()
    login(client, stranger)
    for page in PAGES:
        response = client.get(f"/cua-hang/{outlet.id}/{page}")
        assert response.status_code == 403, page
        assert "L1" not in response.get_data(as_text=True)
    batch_id = session.scalar(select(StockLevel.batch_id))
    for form in FORMS:
        response = client.post(
            f"/cua-hang/{outlet.id}/{form}",
            data={
                "token": "0b5b7f4e-7c1a-4d55-9a43-1b8a1c1e2f3a",
                "product_id": fish_sauce.id,
                "batch_id": batch_id,
                "lot": "L9",
                "produced_on": "2026-11-01",
                "best_before": "2027-11-01",
                "qty": "1",
                "counted": "0",
                "note": "x",
                "d1-resolution": "x",
            },
        )
        assert response.status_code == 403, form
    assert on_hand(session, outlet, fish_sauce) == {"L1": 5} and movements(session) == []
    assert session.scalar(select(func.count()).where(Discrepancy.resolved_at.is_not(None))) == 0


@pytest.mark.parametrize("role", ["consumer", "producer"])
def test_other_roles_get_403(client, session, shop, role):
    outlet = shop[0]
    user = make_user(session, role=role, outlet_id=outlet.id)
    session.commit()
    login(client, user)
    assert {client.get(f"/cua-hang/{outlet.id}/{page}").status_code for page in PAGES} == {403}


def test_anonymous_visitors_go_to_the_login_page(client, session, shop):
    outlet = shop[0]
    for page in PAGES:
        response = client.get(f"/cua-hang/{outlet.id}/{page}")
        assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap"), page
    for form in FORMS:
        response = client.post(f"/cua-hang/{outlet.id}/{form}", data={"qty": "1"})
        assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap"), form
    assert movements(session) == []


def test_an_admin_opens_any_outlet(client, session, shop):
    outlet, _, fish_sauce, _ = shop
    other = make_outlet(session, "do-son")
    stock_in(session, other, fish_sauce, "DS-1", 7, best_before=date(2027, 1, 1))
    admin = make_user(session, role="admin")
    session.commit()
    login(client, admin)
    for shop_outlet in (outlet, other):
        for page in PAGES:
            response = client.get(f"/cua-hang/{shop_outlet.id}/{page}")
            assert response.status_code == 200 and shop_outlet.name in response.get_data(as_text=True), page
    assert "DS-1" in client.get(f"/cua-hang/{other.id}/ton-kho").get_data(as_text=True)
    url = f"/cua-hang/{other.id}/ban-hang"
    assert (
        client.post(
            url, data={"token": fresh_token(client, url), "product_id": fish_sauce.id, "batch_id": "0", "qty": "2"}
        ).status_code
        == 302
    )
    assert on_hand(session, other, fish_sauce) == {"DS-1": 5}
    assert client.get("/cua-hang/999999/ton-kho").status_code == 404


def test_a_post_without_its_csrf_token_is_refused(app, client, session, signed_in):
    outlet, _, fish_sauce, _ = signed_in
    app.config["WTF_CSRF_ENABLED"] = True
    url = f"/cua-hang/{outlet.id}/nhap-hang"
    response = client.post(
        url,
        data={
            "token": fresh_token(client, url),
            "product_id": fish_sauce.id,
            "lot": "L1",
            "produced_on": "2026-11-01",
            "best_before": "2027-11-01",
            "qty": "3",
        },
    )
    assert response.status_code == 400 and movements(session) == []
