"""One invitation link opened by two people at the same moment: the conditional UPDATE lets exactly one of them
create the account; the other is told the link was used, and nothing is half-written."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.invitations import accept, invitation_token, invite
from accounts.models import Invitation, User
from core.db import db
from core.errors import Conflict
from tests.factories import make_producer

# real_commits: the two claims run on connections of their own, each in its own transaction.
pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]


def test_two_people_accepting_one_invitation_at_once_create_one_account(app, session):
    engine = db.engine  # on SQLite the second claim waits for the first writer, then finds the link used
    now = datetime.now(UTC)
    invitation = invite(session, make_producer(session), "cung.luc@example.com", actor_id=None, now=now)
    session.commit()
    token = invitation_token(invitation, app.config["SECRET_KEY"])
    barrier, outcomes, lock = threading.Barrier(2), [], threading.Lock()

    def claim(name: str):
        with Session(engine) as own:
            barrier.wait()
            try:
                accept(own, token, password="mat-khau-dai-1", name=name, secret_key=app.config["SECRET_KEY"], now=now)
                own.commit()
                outcome = "created"
            except Conflict as error:
                own.rollback()
                outcome = error.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("Lan", "Hùng")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", "invitation_used"]
    assert session.scalar(select(func.count(User.id)).where(User.email == "cung.luc@example.com")) == 1
    session.expire_all()  # the claims committed on other connections
    used = session.scalars(select(Invitation)).one()
    assert used.used_at is not None and used.user_id is not None
