"""Certificate reminders (issue 16): the producer and the programme are mailed 90 and 30 days before a certificate
lapses, each reminder once, whatever runs the task twice."""

import email
import email.policy
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from catalog.models import CertificateReminder
from catalog.reminders import reminder_due
from catalog.services import issue_certificate, revoke_certificate
from catalog.tasks import certificate_reminders_task
from tests.factories import make_producer, make_product, make_user

#: Issued 1 March 2024: the certificate lapses on 1 March 2027 (its first day no longer valid).
ISSUED = date(2024, 3, 1)
EXPIRES = date(2027, 3, 1)


def mails(app) -> list[email.message.EmailMessage]:
    folder = Path(app.config["MAIL_OUTBOX"])
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def recipients(app) -> list[str]:
    return sorted(message["To"] for message in mails(app))


def run_on(app, day: date) -> int:
    app.config["TODAY"] = day
    return certificate_reminders_task.delay().get()


@pytest.fixture
def listed(session):
    """A listed product whose producer has one account, its certificate lapsing on EXPIRES."""
    producer = make_producer(session, "HTX Nước mắm Cát Hải")
    account = make_user(session, role="producer", producer_id=producer.id, email="htx.cathai@example.com")
    product = make_product(session, "Nước mắm cốt Cát Hải", stars=4, issued_on=ISSUED, producer=producer)
    session.commit()
    assert product.current_certificate.expires_on == EXPIRES
    return product, account


@pytest.mark.parametrize(
    ("days_left", "due"),
    [(91, None), (90, 90), (31, 90), (30, 30), (1, 30), (0, None), (-5, None)],
)
def test_each_reminder_has_its_window_counted_to_the_first_day_no_longer_valid(days_left, due):
    assert reminder_due(EXPIRES, EXPIRES - timedelta(days=days_left)) == due


def test_90_days_before_the_producer_and_the_programme_get_one_mail_each_and_a_second_run_sends_none(
    app, session, listed
):
    product, account = listed
    assert run_on(app, EXPIRES - timedelta(days=91)) == 0
    assert mails(app) == []

    assert run_on(app, EXPIRES - timedelta(days=90)) == 2
    assert recipients(app) == sorted([account.email, app.config["PROGRAMME_MAIL"]])
    assert run_on(app, EXPIRES - timedelta(days=90)) == 0
    assert run_on(app, EXPIRES - timedelta(days=60)) == 0  # later in the same window: still the one reminder
    assert len(mails(app)) == 2

    [to_producer] = [m for m in mails(app) if m["To"] == account.email]
    body = to_producer.get_body().get_content()
    assert "Nước mắm cốt Cát Hải" in to_producer["Subject"] and "90 ngày" in to_producer["Subject"]
    assert "4 sao" in body and "QĐ thử nghiệm" in body
    assert "01/03/2027" in body and "Còn lại: 90 ngày" in body
    assert "đánh giá lại" in body and app.config["PROGRAMME_MAIL"] in body
    assert f"{app.config['PUBLIC_URL']}/nha-san-xuat" in body
    [to_programme] = [m for m in mails(app) if m["To"] == app.config["PROGRAMME_MAIL"]]
    assert "HTX Nước mắm Cát Hải" in to_programme.get_body().get_content()

    assert run_on(app, EXPIRES - timedelta(days=30)) == 2
    assert recipients(app) == sorted([account.email, app.config["PROGRAMME_MAIL"]] * 2)
    latest = [m for m in mails(app) if "30 ngày" in m["Subject"]]
    assert len(latest) == 2 and "Còn lại: 30 ngày" in latest[0].get_body().get_content()
    assert run_on(app, EXPIRES - timedelta(days=30)) == 0
    assert run_on(app, EXPIRES - timedelta(days=1)) == 0
    assert run_on(app, EXPIRES) == 0
    assert len(mails(app)) == 4
    rows = session.scalars(select(CertificateReminder).order_by(CertificateReminder.id)).all()
    assert sorted((r.days_before, r.recipient) for r in rows) == [
        (30, "producer"),
        (30, "programme"),
        (90, "producer"),
        (90, "programme"),
    ]
    assert all(r.sent_at is not None for r in rows)


def test_a_reminder_whose_first_day_was_missed_is_sent_later_in_its_window(app, session, listed):
    assert run_on(app, EXPIRES - timedelta(days=75)) == 2
    assert all("75 ngày" in m["Subject"] for m in mails(app))
    assert "Còn lại: 75 ngày" in mails(app)[0].get_body().get_content()


def test_inside_30_days_only_the_30_day_reminder_goes_out(app, session, listed):
    assert run_on(app, EXPIRES - timedelta(days=20)) == 2
    assert all("20 ngày" in m["Subject"] for m in mails(app))
    days = set(session.scalars(select(CertificateReminder.days_before)))
    assert days == {30}


def test_a_revoked_certificate_is_not_reminded(app, session, listed):
    product, _ = listed
    revoke_certificate(session, product.current_certificate, reason="Vi phạm nhãn mác")
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 0
    assert mails(app) == []


def test_a_certificate_superseded_by_a_re_evaluation_is_not_reminded(app, session, listed):
    product, _ = listed
    issue_certificate(
        session,
        product,
        stars=4,
        score=None,
        level=None,
        decision="QĐ đánh giá lại",
        issued_on=date(2026, 6, 1),
        today=date(2026, 11, 29),
        check_rules=False,
    )
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 0
    assert run_on(app, EXPIRES - timedelta(days=30)) == 0
    assert mails(app) == []


def test_a_listing_taken_off_sale_is_not_reminded(app, session, listed):
    product, _ = listed
    product.active = False
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 0
    assert mails(app) == []


def test_a_producer_without_an_account_leaves_the_programme_alone_reminded_and_told_so(app, session):
    make_product(session, "Chè Vằng Tiên Lãng", stars=3, issued_on=ISSUED)
    stopped = make_producer(session)
    make_user(session, role="producer", producer_id=stopped.id).is_active = False  # an account an admin stopped
    make_product(session, "Rượu Kiến Thụy", stars=3, issued_on=ISSUED, producer=stopped)
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 2
    assert recipients(app) == [app.config["PROGRAMME_MAIL"]] * 2
    assert all("chưa có tài khoản" in m.get_body().get_content() for m in mails(app))
    recipients_claimed = set(session.scalars(select(CertificateReminder.recipient)))
    assert recipients_claimed == {"programme"}


def test_every_active_account_of_the_producer_gets_the_one_producer_reminder(app, session, listed):
    product, account = listed
    second = make_user(session, role="producer", producer_id=product.producer_id, email="ketoan.cathai@example.com")
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 2  # two reminders: the producer's, the programme's
    assert recipients(app) == sorted([account.email, second.email, app.config["PROGRAMME_MAIL"]])
    assert run_on(app, EXPIRES - timedelta(days=89)) == 0
    assert len(mails(app)) == 3


def test_an_account_opened_later_in_the_window_still_gets_the_producer_reminder(app, session):
    producer = make_producer(session)
    make_product(session, "Bánh đa Kinh Giang", stars=3, issued_on=ISSUED, producer=producer)
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=90)) == 1
    account = make_user(session, role="producer", producer_id=producer.id)
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=80)) == 1
    assert recipients(app) == sorted([account.email, app.config["PROGRAMME_MAIL"]])


def test_a_reminder_claimed_by_a_worker_that_died_is_sent_by_the_next_run_exactly_once(app, session, listed):
    product, account = listed
    dead_claim = CertificateReminder(
        certificate_id=product.current_certificate_id,
        days_before=90,
        recipient="producer",
        claimed_at=datetime(2026, 12, 1, 0, 15, tzinfo=UTC),
    )
    session.add(dead_claim)
    session.commit()
    assert run_on(app, EXPIRES - timedelta(days=88)) == 2  # the dead worker's claim and the programme's
    assert recipients(app) == sorted([account.email, app.config["PROGRAMME_MAIL"]])
    session.refresh(dead_claim)
    assert dead_claim.sent_at is not None
    assert run_on(app, EXPIRES - timedelta(days=88)) == 0
    assert len(mails(app)) == 2


def test_a_worker_that_died_between_the_mail_and_marking_it_sent_causes_no_second_mail(app, session, listed):
    from catalog.reminders import Settings, claim_reminders, send_claimed
    from core.models import utcnow

    app.config["TODAY"] = today = EXPIRES - timedelta(days=90)
    settings = Settings(programme_mail=app.config["PROGRAMME_MAIL"], public_url=app.config["PUBLIC_URL"])
    claim_reminders(session, today, utcnow(), settings)
    session.commit()

    def send_then_die(to, subject, body, key):
        from core.mail import write_to_outbox

        write_to_outbox(
            app.config["MAIL_OUTBOX"], sender="x@example.com", to=to, subject=subject, body=body, message_key=key
        )
        raise SystemExit("worker killed after writing the mail")

    with pytest.raises(SystemExit):
        send_claimed(session, today, utcnow(), send_then_die, settings)
    session.rollback()
    assert len(mails(app)) == 1
    assert certificate_reminders_task.delay().get() == 2
    assert len(mails(app)) == 2  # the mail already written is not written again


def test_the_database_refuses_a_second_claim_of_one_reminder(app, session, listed):
    product, _ = listed
    claim = {
        "certificate_id": product.current_certificate_id,
        "days_before": 30,
        "recipient": "programme",
        "claimed_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    session.add(CertificateReminder(**claim))
    session.commit()
    session.add(CertificateReminder(**claim))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_the_reminder_task_runs_every_day_from_beat(app):
    entry = app.extensions["celery"].conf.beat_schedule["certificate-reminders"]
    assert entry["task"] == certificate_reminders_task.name
    assert entry["schedule"].day_of_week == set(range(7)) and entry["schedule"].hour == {7}
