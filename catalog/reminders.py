"""Certificate reminders (issue 16): the producer and the programme are mailed 90 and 30 days before a
certificate lapses, each reminder exactly once.

Once means a row of certificate_reminders, whose unique rule (certificate, days before, recipient) lets only one
run claim it: a claim is an INSERT that does nothing when the row exists, never a check followed by a send. The
claims are committed before any mail goes out; then every claimed row not yet sent (also one a dead worker
claimed and left) is mailed under a key made from its id and marked sent. A mail written twice under one key is
one file in the outbox (core.mail.write_to_outbox), so a run that dies between the mail and `sent_at` sends
nothing twice.

Windows, counted in the shop's (Vietnam) date, `expires_on` being the first day no longer valid:
- the 90-day reminder while expires_on − 90 ≤ today < expires_on − 30;
- the 30-day reminder while expires_on − 30 ≤ today < expires_on.
A run missed on the first day of a window (beat down) still sends later in it; once inside 30 days only the
30-day reminder is sent (the 90-day one, never sent, is skipped rather than sent late beside it).

Who: the programme (PROGRAMME_MAIL), and the producer when it has at least one active producer account
(role producer, is_active): every such account gets the mail; all of them together are the one "producer"
reminder. A producer with no account is not mailed (Producer.email is contact data the programme keeps, not
an address that asked for mail); its reminder is claimed once an account exists, while the window lasts.

Only the product's current certificate (re-evaluation adds a new one, which supersedes it), not revoked, of an
active listing. A claimed reminder that is no longer due when its mail would go (revoked, superseded, listing
deactivated, window passed, the producer's accounts disabled) stays unsent: the admin page shows it so.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from accounts.models import User
from catalog.models import Certificate, CertificateReminder, Product

#: Days before the expiry at which each reminder's window opens, widest first.
REMINDER_DAYS = (90, 30)
RECIPIENTS = ("producer", "programme")

#: send(to, subject, body, key): writes one mail; the same key and address twice is one mail.
Send = Callable[[str, str, str, str], object]


def reminder_due(expires_on: date, today: date) -> int | None:
    """Which reminder's window `today` is in (90 or 30), or None outside both."""
    days_left = (expires_on - today).days
    if days_left <= 0:
        return None
    for days_before in sorted(REMINDER_DAYS):
        if days_left <= days_before:
            return days_before
    return None


@dataclass(frozen=True)
class Settings:
    """What the mails need from the shop's configuration."""

    programme_mail: str
    #: The shop's address without a trailing slash (PUBLIC_URL).
    public_url: str


def _due_certificates(session: Session, today: date) -> list[Certificate]:
    """Current, unrevoked certificates of active listings that lapse within the widest window."""
    return list(
        session.scalars(
            select(Certificate)
            .join(Product, Product.current_certificate_id == Certificate.id)
            .where(
                Product.active.is_(True),
                Certificate.revoked_at.is_(None),
                Certificate.expires_on > today,
                Certificate.expires_on <= today + timedelta(days=max(REMINDER_DAYS)),
            )
            .options(joinedload(Certificate.product).joinedload(Product.producer))
            .order_by(Certificate.expires_on, Certificate.id)
        )
    )


def producer_accounts(session: Session, producer_ids: Iterable[int]) -> dict[int, list[str]]:
    """The e-mail addresses of each producer's active producer accounts, oldest account first."""
    ids = set(producer_ids)
    accounts: dict[int, list[str]] = {}
    if not ids:
        return accounts
    rows = session.execute(
        select(User.producer_id, User.email)
        .where(User.producer_id.in_(ids), User.role == "producer", User.is_active.is_(True))
        .order_by(User.id)
    )
    for producer_id, email in rows:
        accounts.setdefault(producer_id, []).append(email)
    return accounts


def claim_reminders(session: Session, today: date, now: datetime, settings: Settings) -> int:
    """Claims every reminder due today that no run has claimed yet; returns how many this run claimed.

    Flushes; the caller commits the claims before sending (send_claimed), so that another run sees them.
    """
    certificates = _due_certificates(session, today)
    accounts = producer_accounts(session, {c.product.producer_id for c in certificates})
    rows = []
    for certificate in certificates:
        days_before = reminder_due(certificate.expires_on, today)
        recipients = (["programme"] if settings.programme_mail else []) + (
            ["producer"] if accounts.get(certificate.product.producer_id) else []
        )
        rows += [
            {"certificate_id": certificate.id, "days_before": days_before, "recipient": r, "claimed_at": now}
            for r in recipients
        ]
    return _insert_unclaimed(session, rows)


def _insert_unclaimed(session: Session, rows: list[dict]) -> int:
    """INSERT … ON CONFLICT DO NOTHING: a row another run claimed first is left to it."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(CertificateReminder).on_conflict_do_nothing(
            index_elements=["certificate_id", "days_before", "recipient"]
        )
        return sum(session.execute(statement.values(**row)).rowcount for row in rows)
    claimed = 0  # any other database: one savepoint per row, the unique rule refusing the second
    for row in rows:
        try:
            with session.begin_nested():
                session.add(CertificateReminder(**row))
            claimed += 1
        except IntegrityError:
            pass
    return claimed


def send_claimed(session: Session, today: date, now: datetime, send: Send, settings: Settings) -> list[int]:
    """Mails every claimed reminder not yet sent that is still due, marks it sent, and returns their ids.

    Two runs at once never mail one reminder both: on PostgreSQL the rows are locked as they are taken (SKIP
    LOCKED), so the runs divide them; on SQLite the second waits for the first. The caller commits; this flushes.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: take its one write lock before reading, so a second run waits for this one's
        # commit and then finds these reminders sent.
        session.execute(
            update(CertificateReminder)
            .where(CertificateReminder.sent_at.is_(None))
            .values(claimed_at=CertificateReminder.claimed_at)
            .execution_options(synchronize_session=False)
        )
    pending = list(
        session.scalars(
            select(CertificateReminder)
            .where(CertificateReminder.sent_at.is_(None))
            .order_by(CertificateReminder.id)
            .with_for_update(skip_locked=True)
        )
    )
    if not pending:
        return []
    certificates = {
        c.id: c
        for c in session.scalars(
            select(Certificate)
            .where(Certificate.id.in_({r.certificate_id for r in pending}))
            .options(joinedload(Certificate.product).joinedload(Product.producer))
        )
    }
    accounts = producer_accounts(session, {c.product.producer_id for c in certificates.values()})
    sent = []
    for reminder in pending:
        certificate = certificates[reminder.certificate_id]
        if not _still_due(certificate, reminder, today):
            continue
        if reminder.recipient == "programme":
            addresses = [settings.programme_mail] if settings.programme_mail else []
        else:
            addresses = accounts.get(certificate.product.producer_id, [])
        if not addresses:
            continue
        has_account = bool(accounts.get(certificate.product.producer_id))
        subject, body = reminder_mail(certificate, reminder, today, settings, producer_has_account=has_account)
        for address in addresses:
            send(address, subject, body, f"certificate-reminder-{reminder.id}")
        reminder.sent_at = now
        session.flush()  # each one marked as soon as its mail is out
        sent.append(reminder.id)
    return sent


def _still_due(certificate: Certificate, reminder: CertificateReminder, today: date) -> bool:
    product = certificate.product
    return (
        product.active
        and product.current_certificate_id == certificate.id
        and certificate.revoked_at is None
        and reminder_due(certificate.expires_on, today) == reminder.days_before
    )


def reminder_mail(
    certificate: Certificate,
    reminder: CertificateReminder,
    today: date,
    settings: Settings,
    *,
    producer_has_account: bool = True,
) -> tuple[str, str]:
    """Subject and body (Vietnamese) of one reminder, for its recipient."""
    product = certificate.product
    days_left = (certificate.expires_on - today).days
    expires = f"{certificate.expires_on:%d/%m/%Y}"
    last_day = f"{certificate.last_valid_day:%d/%m/%Y}"
    subject = f"OCOP Mart: giấy chứng nhận OCOP của {product.name} hết hiệu lực sau {days_left} ngày ({expires})"
    facts = [
        f"Sản phẩm: {product.name}",
        f"Nhà sản xuất: {product.producer.name}",
        f"Hạng: {certificate.stars} sao",
        f"Quyết định công nhận: {certificate.decision or '(không ghi số)'}",
        f"Hết hiệu lực từ ngày: {expires} (hiệu lực đến hết ngày {last_day})"
        + (" — ngày ước tính, vì chỉ biết năm ký" if certificate.date_is_approximate else ""),
        f"Còn lại: {days_left} ngày",
    ]
    consequence = (
        "Khi giấy chứng nhận hết hiệu lực, sản phẩm tự động ngừng bán trên OCOP Mart cho đến khi được đánh giá lại "
        "và có giấy chứng nhận mới."
    )
    if reminder.recipient == "producer":
        lines = [
            f"Kính gửi {product.producer.name},",
            "",
            f"Giấy chứng nhận sản phẩm OCOP của quý đơn vị sắp hết hiệu lực (còn {days_left} ngày).",
            "",
            *facts,
            "",
            consequence,
            "",
            "Việc cần làm: liên hệ Chương trình OCOP"
            + (f" ({settings.programme_mail})" if settings.programme_mail else "")
            + f" để đăng ký đánh giá lại sản phẩm trước ngày {expires}.",
            "",
            f"Xem sản phẩm và giấy chứng nhận trên cổng nhà sản xuất: {settings.public_url}/nha-san-xuat",
        ]
    else:
        lines = [
            f"Giấy chứng nhận OCOP của sản phẩm sau hết hiệu lực sau {days_left} ngày và cần được đánh giá lại:",
            "",
            *facts,
            "",
            consequence,
            "",
            (
                "Nhà sản xuất đã được gửi thư nhắc cùng nội dung."
                if producer_has_account
                else "Nhà sản xuất chưa có tài khoản trên OCOP Mart nên không nhận được thư nhắc này: "
                "xin liên hệ trực tiếp."
            ),
            "",
            f"Các sản phẩm chờ đánh giá lại: {settings.public_url}/admin/chung-nhan/sap-het-han",
        ]
    lines += ["", f"Thư nhắc tự động {reminder.days_before} ngày trước khi giấy chứng nhận hết hiệu lực.", ""]
    return subject, "\n".join(lines)


def reminders_for(session: Session, certificate_ids: Iterable[int]) -> dict[tuple[int, int], list]:
    """The reminders claimed for these certificates, by (certificate id, days before), recipient order."""
    ids = set(certificate_ids)
    found: dict[tuple[int, int], list] = {}
    if not ids:
        return found
    for reminder in session.scalars(
        select(CertificateReminder)
        .where(CertificateReminder.certificate_id.in_(ids))
        .order_by(CertificateReminder.recipient.desc(), CertificateReminder.id)
    ):
        found.setdefault((reminder.certificate_id, reminder.days_before), []).append(reminder)
    return found
