"""Every till obeys the one sellable rule (issue 13): the staff counter offers and sells only products on sale
today from lots within their best-before, and says why it refuses anything else; a device sale is judged at its
occurred_at — applied when it could be sold then, recorded with a `sold_while_off_sale` discrepancy when not."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from catalog.services import revoke_certificate
from inventory.ledger import drift
from inventory.models import Discrepancy, StockMovement
from tests.factories import make_outlet, make_product, make_user
from tests.web.test_api_device_sync import bearer, device_for, token_for
from tests.web.test_staff_stock import fresh_token, login, on_hand, stock_in

TODAY = date(2026, 11, 29)


@pytest.fixture
def counter(client, session):
    """Kiến Thụy's shop, its staff signed in, and a fish sauce in two lots: one past its best-before."""
    outlet, elsewhere = make_outlet(session, "kien-thuy"), make_outlet(session, "do-son")
    staff = make_user(session, role="staff", outlet_id=outlet.id)
    sauce = make_product(session, "Nước mắm cốt cao đạm")
    stock_in(session, outlet, sauce, "OLD", 5, best_before=date(2026, 11, 28))
    stock_in(session, outlet, sauce, "NEW", 7, best_before=date(2027, 6, 1))
    stock_in(session, elsewhere, sauce, "THERE", 4, best_before=date(2027, 6, 1))
    session.commit()
    login(client, staff)
    return {
        "outlet": outlet,
        "elsewhere": elsewhere,
        "staff": staff,
        "sauce": sauce,
        "url": f"/cua-hang/{outlet.id}/ban-hang",
    }


def lot_id(session, product, code) -> int:
    return next(batch.id for batch in product.batches if batch.lot_code == code)


def sales(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "sale"))


def test_the_counter_counts_and_offers_only_lots_a_sale_can_take(client, session, counter):
    page = client.get(counter["url"]).get_data(as_text=True)
    # 12 on the shelf, 5 of them past their best-before: the page says 7, and 7 is what a sale can take.
    assert "Nước mắm cốt cao đạm (có thể bán 7)" in page
    assert "Lô NEW" in page and "Lô OLD" not in page
    form = {"token": fresh_token(client, counter["url"]), "product_id": counter["sauce"].id, "batch_id": 0, "qty": "7"}
    assert client.post(counter["url"], data=form).status_code == 302
    assert on_hand(session, counter["outlet"], counter["sauce"]) == {"OLD": 5, "NEW": 0}
    again = client.post(counter["url"], data={**form, "token": fresh_token(client, counter["url"]), "qty": "1"})
    assert "Không đủ hàng: chỉ còn 0 có thể bán." in again.get_data(as_text=True)
    assert on_hand(session, counter["outlet"], counter["sauce"]) == {"OLD": 5, "NEW": 0}


def test_a_lot_past_its_best_before_is_refused_with_the_reason(client, session, counter):
    form = {
        "token": fresh_token(client, counter["url"]),
        "product_id": counter["sauce"].id,
        "batch_id": lot_id(session, counter["sauce"], "OLD"),
        "qty": "1",
    }
    page = client.post(counter["url"], data=form).get_data(as_text=True)
    assert "Lô OLD đã quá hạn sử dụng (28/11/2026): không bán. Hãy ghi hủy lô này." in page
    assert sales(session) == 0


def test_another_outlets_lot_is_refused(client, session, counter):
    form = {
        "token": fresh_token(client, counter["url"]),
        "product_id": counter["sauce"].id,
        "batch_id": lot_id(session, counter["sauce"], "THERE"),
        "qty": "1",
    }
    page = client.post(counter["url"], data=form).get_data(as_text=True)
    assert "Cửa hàng này không có lô đó." in page
    assert sales(session) == 0 and on_hand(session, counter["elsewhere"], counter["sauce"]) == {"THERE": 4}


def test_after_a_revocation_the_counter_no_longer_offers_the_product_and_refuses_a_forged_post(
    client, session, counter
):
    token = fresh_token(client, counter["url"])  # the page as it was served before the revocation
    revoke_certificate(session, counter["sauce"].current_certificate, reason="Cấp nhầm")
    session.commit()
    page = client.get(counter["url"]).get_data(as_text=True)
    assert "Nước mắm cốt cao đạm" not in page
    for batch_id in (0, lot_id(session, counter["sauce"], "NEW")):
        refused = client.post(
            counter["url"], data={"token": token, "product_id": counter["sauce"].id, "batch_id": batch_id, "qty": "1"}
        )
        assert refused.status_code == 200
        assert "Chứng nhận OCOP của &#39;Nước mắm cốt cao đạm&#39; đã bị thu hồi: không bán." in refused.get_data(
            as_text=True
        )
    assert sales(session) == 0


def test_a_lapsed_certificate_stops_the_counter(client, session, counter):
    lapsed = make_product(session, "Rượu thuốc", issued_on=date(2023, 1, 1))  # valid until 31/12/2025
    stock_in(session, counter["outlet"], lapsed, "R1", 3, best_before=date(2027, 1, 1))
    session.commit()
    assert "Rượu thuốc" not in client.get(counter["url"]).get_data(as_text=True)
    refused = client.post(
        counter["url"],
        data={"token": fresh_token(client, counter["url"]), "product_id": lapsed.id, "batch_id": 0, "qty": "1"},
    )
    assert "đã hết hiệu lực: không bán." in refused.get_data(as_text=True)
    assert sales(session) == 0


def test_the_counter_in_english_gives_the_reason_in_english(client, session, counter):
    client.get("/?lang=en")
    token = fresh_token(client, counter["url"])
    revoke_certificate(session, counter["sauce"].current_certificate, reason="Cấp nhầm")
    session.commit()
    refused = client.post(
        counter["url"], data={"token": token, "product_id": counter["sauce"].id, "batch_id": 0, "qty": "1"}
    )
    assert "has been revoked: not for sale" in refused.get_data(as_text=True)


# --- Device sales, judged at their occurred_at ---


def at(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def till(client, counter):
    staff_headers = bearer(token_for(client, counter["staff"]))
    return {**counter, "device": device_for(client, counter["outlet"], staff_headers)}


def push_sale(client, till, occurred_at: datetime, batch=None, product=None):
    body = {
        "id": str(uuid.uuid4()),
        "kind": "sale",
        "product_id": (product or till["sauce"]).id,
        "qty": 1,
        "occurred_at": at(occurred_at),
    }
    if batch:
        body["batch"] = batch
    response = client.post(
        f"/api/v1/outlets/{till['outlet'].id}/movements", json={"movements": [body]}, headers=till["device"]
    )
    assert response.status_code == 200, response.get_json()
    return body["id"], response.get_json()


def flagged(session) -> list[tuple[str, str, int]]:
    session.expire_all()
    return [
        (d.kind, d.reason, d.qty)
        for d in session.scalars(
            select(Discrepancy).where(Discrepancy.kind == "sold_while_off_sale").order_by(Discrepancy.id)
        )
    ]


def test_a_device_sale_before_the_revocation_is_applied_and_one_after_is_flagged(client, session, till):
    revoked_at = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    revoke_certificate(session, till["sauce"].current_certificate, reason="Cấp nhầm", now=revoked_at)
    session.commit()
    before_id, before = push_sale(client, till, revoked_at - timedelta(minutes=5), batch="NEW")
    assert before["applied"] == [before_id] and before["flagged"] == []
    after_id, after = push_sale(client, till, revoked_at + timedelta(minutes=5), batch="NEW")
    # The goods left the shelf: recorded, never dropped, and raised for staff.
    assert after["applied"] == [after_id]
    assert after["flagged"] == [{"id": after_id, "discrepancy": "sold_while_off_sale", "reason": "revoked"}]
    assert on_hand(session, till["outlet"], till["sauce"]) == {"OLD": 5, "NEW": 5}
    assert flagged(session) == [("sold_while_off_sale", "revoked", 1)]
    assert drift(session) == {}
    page = client.get(f"/cua-hang/{till['outlet'].id}/chenh-lech").get_data(as_text=True)
    assert "Bán khi sản phẩm không được bán (chứng nhận đã bị thu hồi)" in page


def test_a_device_sale_from_a_lot_past_its_best_before_is_recorded_and_flagged(client, session, till):
    sale_id, answer = push_sale(client, till, datetime(2026, 11, 29, 9, 0, tzinfo=UTC), batch="OLD")
    assert answer["applied"] == [sale_id] and answer["flagged"][0]["reason"] == "lot_expired"
    assert on_hand(session, till["outlet"], till["sauce"]) == {"OLD": 4, "NEW": 7}
    # The same lot on the day it was still good (best-before 28/11, Vietnam time) is a plain sale.
    good_id, good = push_sale(client, till, datetime(2026, 11, 28, 16, 0, tzinfo=UTC), batch="OLD")
    assert good["applied"] == [good_id] and good["flagged"] == []
    assert flagged(session) == [("sold_while_off_sale", "lot_expired", 1)]


def test_a_device_sale_without_a_lot_takes_a_fresh_one_first(client, session, till):
    sale_id, answer = push_sale(client, till, datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    assert answer["applied"] == [sale_id] and answer["flagged"] == []
    assert on_hand(session, till["outlet"], till["sauce"]) == {"OLD": 5, "NEW": 6}


def test_a_device_sale_of_an_unknown_lot_of_a_revoked_product_is_recorded_with_a_discrepancy(client, session, till):
    revoke_certificate(
        session, till["sauce"].current_certificate, reason="Cấp nhầm", now=datetime(2026, 11, 1, tzinfo=UTC)
    )
    session.commit()
    sale_id, answer = push_sale(client, till, datetime(2026, 11, 29, 9, 0, tzinfo=UTC), batch="CHUA-BIET")
    assert answer["applied"] == [sale_id] and answer["flagged"][0]["reason"] == "revoked"
    assert on_hand(session, till["outlet"], till["sauce"])["CHUA-BIET"] == -1
    assert sorted(d.kind for d in session.scalars(select(Discrepancy))) == ["oversold", "sold_while_off_sale"]


def test_a_device_sale_while_the_certificate_was_valid_is_applied_after_it_lapsed(client, session, till):
    lapsed = make_product(session, "Rượu thuốc", issued_on=date(2023, 1, 1))  # last valid day 31/12/2025
    session.commit()
    stock_in(session, till["outlet"], lapsed, "R1", 3, best_before=date(2027, 1, 1))
    session.commit()
    in_time, answer = push_sale(client, till, datetime(2025, 12, 31, 10, 0, tzinfo=UTC), product=lapsed)
    assert answer["flagged"] == []
    # 31/12/2025 17:30 UTC is already 1/1/2026 in Vietnam: the certificate had lapsed.
    late, answer = push_sale(client, till, datetime(2025, 12, 31, 17, 30, tzinfo=UTC), product=lapsed)
    assert answer["flagged"] == [{"id": late, "discrepancy": "sold_while_off_sale", "reason": "expired"}]
