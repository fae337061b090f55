"""What admins and producers read of the audit trail, and the admin's list of products awaiting re-evaluation with
the reminders sent (issue 16)."""

import html
import re
from datetime import UTC, date, datetime

from catalog import audit, prices
from catalog.models import CertificateReminder
from catalog.services import revoke_certificate
from tests.factories import PASSWORD, make_producer, make_product, make_user


def login(client, user):
    response = client.post("/dang-nhap", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302


def text(page: str) -> str:
    return " ".join(html.unescape(page).split())


def visible(page: str) -> str:
    """The words a reader sees (no markup), keeping the two tables' heading as a marker between them."""
    return text(re.sub(r"<(?!h2 id=\"lapsed-heading\")[^>]+>", " ", page))


def history_of(page: str) -> str:
    return text(page[page.index('id="history-heading"') :])


def entries_of(page: str) -> list[str]:
    """The history's entries in the order shown, each as text."""
    return history_of(page).split('<span class="when">')[1:]


def entry(entries: list[str], what: str) -> tuple[int, str]:
    [(position, found)] = [(i, e) for i, e in enumerate(entries) if what in e]
    return position, found


# --- the admin's product page -------------------------------------------------------------------------------------


def test_the_admin_reads_every_change_of_a_product_newest_first_with_before_and_after(client, session):
    admin = make_user(session, role="admin")
    producer = make_producer(session)
    account = make_user(session, role="producer", producer_id=producer.id)
    product = make_product(session, "Nước mắm cốt Cát Hải", issued_on=date(2025, 3, 1), producer=producer)
    revoke_certificate(
        session,
        product.current_certificate,
        reason="Vi phạm nhãn mác",
        actor_id=admin.id,
        now=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
    )
    request = prices.request_price_change(session, product, 150_000, actor_id=account.id)
    prices.approve(session, request, actor_id=admin.id)
    session.commit()
    login(client, admin)

    entries = entries_of(client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True))
    assert len(entries) == 4
    approved, requested = entry(entries, "Duyệt đổi giá"), entry(entries, "Đề nghị đổi giá")
    revoked, issued = entry(entries, "Đã thu hồi giấy chứng nhận"), entry(entries, "Đã cấp giấy chứng nhận")
    assert [approved[0], requested[0], revoked[0], issued[0]] == [0, 1, 2, 3]  # newest first
    assert "Giá: 120.000 ₫ → 150.000 ₫" in approved[1] and admin.email in approved[1]
    assert "Giá: 120.000 ₫ → 150.000 ₫" in requested[1] and account.email in requested[1]
    # The revocation's time in Vietnam (UTC+7), its reason; the import that issued it had no one acting.
    assert "Thu hồi lúc: — → 29/11/2026 10:00" in revoked[1] and admin.email in revoked[1]
    assert "Lý do thu hồi: — → Vi phạm nhãn mác" in revoked[1]
    assert "nhập dữ liệu" in issued[1] and "Hạng sao: — → 4" in issued[1]
    assert "Ngày ký: — → 01/03/2025" in issued[1] and "Hết hiệu lực từ: — → 01/03/2028" in issued[1]


def test_a_listing_edit_shows_human_field_names_and_an_unknown_field_as_stored(client, session):
    admin = make_user(session, role="admin")
    product = make_product(session, "Mật ong Cát Bà")
    audit.record(
        session,
        entity="product",
        entity_id=product.id,
        action="updated",
        actor_id=admin.id,
        product_id=product.id,
        before={"unit": "chai", "best_before": None, "some_new_field": "x"},
        after={"unit": "hũ 500 g", "best_before": "2027-06-01", "some_new_field": "y"},
    )
    session.commit()
    login(client, admin)
    history = history_of(client.get(f"/admin/san-pham/{product.id}").get_data(as_text=True))
    assert "Sửa thông tin sản phẩm" in history
    assert "Đơn vị tính: chai → hũ 500 g" in history
    assert "Hạn sử dụng: — → 01/06/2027" in history
    assert "some_new_field: x → y" in history


def test_the_history_reads_in_english_too(client, session):
    admin = make_user(session, role="admin")
    product = make_product(session, "Chè Vằng")
    request = prices.request_price_change(session, product, 99_000, actor_id=None)
    prices.approve(session, request, actor_id=admin.id)
    session.commit()
    login(client, admin)
    history = history_of(client.get(f"/admin/san-pham/{product.id}?lang=en").get_data(as_text=True))
    assert "Price change approved" in history and "Price: 120.000 ₫ → 99.000 ₫" in history
    assert "Certificate issued" in history and "Date signed: — → 01/03/2025" in history


# --- the producer's history page ----------------------------------------------------------------------------------


def test_a_producer_sees_the_changes_of_its_own_listings_only(client, session):
    admin = make_user(session, role="admin")
    mine, theirs = make_producer(session, "HTX Cát Hải"), make_producer(session, "HTX Tiên Lãng")
    account = make_user(session, role="producer", producer_id=mine.id)
    other = make_user(session, role="producer", producer_id=theirs.id)
    own_product = make_product(session, "Nước mắm Cát Hải", producer=mine)
    other_product = make_product(session, "Chè Vằng Tiên Lãng", producer=theirs)
    own_request = prices.request_price_change(session, own_product, 135_000, actor_id=account.id)
    prices.approve(session, own_request, actor_id=admin.id)
    prices.request_price_change(session, other_product, 88_000, actor_id=other.id)
    audit.record(
        session,
        entity="producer",
        entity_id=theirs.id,
        action="updated",
        actor_id=admin.id,
        producer_id=theirs.id,
        before={"phone": "0225 111 111"},
        after={"phone": "0225 999 999"},
    )
    session.commit()
    login(client, account)

    response = client.get("/nha-san-xuat/lich-su")
    assert response.status_code == 200
    page = text(response.get_data(as_text=True))
    assert 'href="/nha-san-xuat/"' in page  # the portal's menu
    assert "Nước mắm Cát Hải" in page and "Giá: 120.000 ₫ → 135.000 ₫" in page
    assert page.index("Duyệt đổi giá") < page.index("Đề nghị đổi giá")  # newest first
    assert account.email in page
    # Who at the programme acted is said by role: an admin's address is not shown to producers.
    assert "Quản trị viên" in page and admin.email not in page
    assert "Chè Vằng Tiên Lãng" not in page and "88.000 ₫" not in page
    assert other.email not in page and "0225 999 999" not in page


def test_a_producer_account_tied_to_no_producer_sees_no_one_elses_history(client, session):
    admin = make_user(session, role="admin")
    orphan = make_user(session, role="producer")
    audit.record(
        session, entity="producer", entity_id=1, action="updated", actor_id=admin.id, before={"a": 1}, after={"a": 2}
    )
    session.commit()
    login(client, orphan)
    page = client.get("/nha-san-xuat/lich-su").get_data(as_text=True)
    assert "Chưa có thao tác nào." in page


def test_the_producer_history_page_needs_a_producer_account(client, session):
    response = client.get("/nha-san-xuat/lich-su")
    assert response.status_code == 302 and response.headers["Location"].startswith("/dang-nhap")
    for role in ("consumer", "admin"):
        user = make_user(session, role=role)
        session.commit()
        login(client, user)
        assert client.get("/nha-san-xuat/lich-su").status_code == 403
        client.post("/dang-xuat")


# --- products awaiting re-evaluation ------------------------------------------------------------------------------


def test_the_admin_sees_products_awaiting_re_evaluation_soonest_first_with_the_reminders_sent(client, session):
    admin = make_user(session, role="admin")
    with_account = make_producer(session, "HTX Nước mắm Cát Hải")
    make_user(session, role="producer", producer_id=with_account.id)
    soon = make_product(session, "Lapses in 60 days", issued_on=date(2024, 1, 28), producer=with_account)
    later = make_product(session, "Lapses in 80 days", issued_on=date(2024, 2, 17), producer=make_producer(session))
    lapsed = make_product(session, "Lapsed 10 days ago", issued_on=date(2023, 11, 19))
    make_product(session, "Lapsed 100 days ago", issued_on=date(2023, 8, 21))
    re_evaluated = make_product(session, "Lapsed and re-evaluated", issued_on=date(2023, 11, 19))
    from catalog.services import issue_certificate

    issue_certificate(
        session,
        re_evaluated,
        stars=4,
        score=None,
        level=None,
        decision="QĐ mới",
        issued_on=date(2026, 11, 20),
        today=date(2026, 11, 29),
        check_rules=False,
    )
    sent = datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    session.add_all(
        [
            CertificateReminder(
                certificate_id=soon.current_certificate_id,
                days_before=90,
                recipient="producer",
                claimed_at=sent,
                sent_at=sent,
            ),
            CertificateReminder(
                certificate_id=soon.current_certificate_id,
                days_before=90,
                recipient="programme",
                claimed_at=sent,
            ),
        ]
    )
    session.commit()
    login(client, admin)

    page = visible(client.get("/admin/chung-nhan/sap-het-han").get_data(as_text=True))
    expiring, recently_lapsed = page[: page.index('id="lapsed-heading"')], page[page.index('id="lapsed-heading"') :]
    assert expiring.index("Lapses in 60 days") < expiring.index("Lapses in 80 days")
    assert "HTX Nước mắm Cát Hải" in expiring and "60 ngày" in expiring
    row = expiring[expiring.index("Lapses in 60 days") : expiring.index("Lapses in 80 days")]
    assert "Nhà sản xuất: đã gửi 01/11/2026 08:30" in row
    assert "Chương trình: chưa gửi" in row
    assert "sẽ gửi sau 30 ngày" in row  # the 30-day reminder opens 30 days before it lapses
    other = expiring[expiring.index("Lapses in 80 days") :]
    assert "chưa có tài khoản" in other
    assert "Lapsed 10 days ago" in recently_lapsed and "10 ngày trước" in recently_lapsed
    assert "Lapsed 100 days ago" not in page and "Lapsed and re-evaluated" not in page
    assert later.id and lapsed.id


def test_a_reminder_due_but_not_yet_run_is_told_apart_from_one_skipped(client, session):
    admin = make_user(session, role="admin")
    make_product(session, "Lapses in 20 days", issued_on=date(2023, 12, 19))  # expires 19/12/2026
    session.commit()
    login(client, admin)
    page = visible(client.get("/admin/chung-nhan/sap-het-han").get_data(as_text=True))
    row = page[page.index("Lapses in 20 days") : page.index('id="lapsed-heading"')]
    # Inside 30 days the 90-day reminder is never sent; the 30-day one goes with the next daily run.
    assert "không gửi: đã đến lượt nhắc gần hơn" in row
    assert "đến hạn: gửi ở lượt chạy hằng ngày tới" in row
