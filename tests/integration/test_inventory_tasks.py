"""Stock housekeeping tasks: expired holds are written down as releases; drift from the ledger is mailed."""

import email
import email.policy
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from inventory.ledger import Move
from inventory.models import Reservation, StockLevel
from inventory.reservations import reserve
from inventory.stock import receive
from tests.factories import make_outlet, make_product


def test_the_tidy_task_releases_expired_holds_and_keeps_device_holds(app, session):
    from inventory.tasks import release_expired_holds_task

    outlet, product = make_outlet(session), make_product(session)
    now = datetime.now(UTC)
    receive(
        session, Move(key="r1", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=now), "L1", 5
    )
    reserve(session, key="kiosk-quota", outlet_id=outlet.id, lines=[(product.id, 1)], now=now, expires_at=None)
    reserve(
        session,
        key="order-old",
        outlet_id=outlet.id,
        lines=[(product.id, 2)],
        now=now - timedelta(hours=1),
        expires_at=now - timedelta(minutes=45),
    )
    session.commit()
    assert release_expired_holds_task.delay().get() == 1
    session.expire_all()
    statuses = dict(session.execute(select(Reservation.key, Reservation.status)).all())
    assert statuses == {"order-old": "expired", "kiosk-quota": "active"}
    assert session.scalar(select(StockLevel.reserved)) == 1


def test_reconcile_mails_the_programme_when_a_level_drifts_from_the_ledger(app, session, tmp_path):
    from inventory.tasks import reconcile_task

    outlet, product = make_outlet(session), make_product(session)
    receive(
        session,
        Move(key="r2", kind="receive", outlet_id=outlet.id, product_id=product.id, occurred_at=datetime.now(UTC)),
        "L1",
        5,
    )
    session.commit()
    assert reconcile_task.delay().get() == 0
    outbox = tmp_path / "outbox"
    assert not outbox.exists() or not list(outbox.iterdir())
    session.scalars(select(StockLevel)).one().on_hand = 4  # changed behind the ledger's back
    session.commit()
    assert reconcile_task.delay().get() == 1
    [mail] = list(outbox.iterdir())
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "admin@ocop.example"
    assert "mức lưu 4/0, sổ cái 5/0" in message.get_content()
