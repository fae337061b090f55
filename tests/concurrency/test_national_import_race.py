"""One national import confirmed twice at the same moment (two admins, or a double click on two servers): the
conditional claim lets exactly one apply it; the other changes nothing and answers what the first applied."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.models import AuditEntry, Certificate, Product
from catalog.national_export import national_rows, to_csv
from catalog.national_import import NationalImport, apply_import, create_import
from catalog.national_import_file import read_table
from core.db import db
from tests.conftest import PINNED_TODAY
from tests.factories import make_product

# real_commits: the two confirmations run on connections of their own, each in its own transaction.
pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]


def test_two_confirmations_at_once_apply_the_import_once(app, session):
    engine = db.engine
    held = make_product(session, "Nước mắm Cát Hải", stars=4, level="province", issued_on=date(2025, 3, 1))
    session.commit()
    rows = list(national_rows(session, PINNED_TODAY))
    new = [
        {
            **rows[0],
            "decision": f"QĐ {n}/2026",
            "issued_on": "2026-10-01",
            "expires_on": "",
            "product": f"Mới {n}",
            "district": None,
        }
        for n in range(20)
    ]
    record = create_import(
        session,
        read_table(to_csv([*rows, *new]).encode()),
        file_name="hoi-dong.csv",
        sha256="0" * 64,
        today=PINNED_TODAY,
        districts={},
        actor_id=None,
    )
    session.commit()
    assert (record.new_count, record.unchanged_count) == (20, 1)
    barrier, outcomes, lock = threading.Barrier(2), [], threading.Lock()

    def confirm():
        with Session(engine) as own:
            mine = own.get(NationalImport, record.id)
            barrier.wait()
            result, applied_now = apply_import(own, mine, today=PINNED_TODAY, districts={}, actor_id=None)
            own.commit()
        with lock:
            outcomes.append((applied_now, result["new"]))

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [(False, 20), (True, 20)]
    session.expire_all()  # the confirmations committed on other connections
    assert session.scalar(select(func.count(Certificate.id))) == 21
    assert session.scalar(select(func.count(Product.id)).where(Product.producer_id == held.producer_id)) == 21
    assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.entity == "national_import")) == 1
