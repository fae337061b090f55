"""One pairing code sent by several kiosks at the same moment (issue 18): exactly one kiosk is paired, the others
are told the code was used, and the code names that one kiosk. Wrong codes sent at once are counted exactly: the
fifth voids the outlet's codes, whichever request it is."""

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, select

from inventory.models import Device, PairingCode, PairingFailure
from inventory.pairing import create_pairing_code
from tests.factories import make_outlet

# real_commits: the kiosks are a live server's threads, each with its own connection.
pytestmark = [pytest.mark.concurrency, pytest.mark.real_commits]

KIOSKS = 6


def race(live_url: str, bodies: list[dict]) -> list:
    """Every body posted to /api/v1/kiosks/pair at the same moment, each from its own thread; the answers."""
    barrier, answers, lock = threading.Barrier(len(bodies)), [], threading.Lock()

    def send(body):
        barrier.wait()
        response = requests.post(f"{live_url}/api/v1/kiosks/pair", json=body, timeout=30)
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == len(bodies)
    return answers


@pytest.fixture
def stand(app, session):
    app.config["KIOSK_PAIR_RATE_LIMIT"] = "1000 per minute"  # every kiosk here is one address
    outlet = make_outlet(session, "hoi-cho", kind="fair")
    session.commit()
    return outlet


def test_kiosks_sending_one_code_at_once_pair_one_kiosk(live_url, session, stand):
    pairing, code = create_pairing_code(session, stand.id, None, datetime.now(UTC))
    session.commit()
    answers = race(live_url, [{"outlet_id": stand.id, "code": code}] * KIOSKS)
    assert Counter(status for status, _ in answers) == {201: 1, 409: KIOSKS - 1}
    assert {body["error"] for status, body in answers if status == 409} == {"code_used"}
    (paired,) = [body for status, body in answers if status == 201]
    session.expire_all()
    assert session.scalar(select(func.count(Device.id))) == 1
    assert session.get(PairingCode, pairing.id).device_id == paired["device_id"]


def test_wrong_codes_at_once_are_counted_exactly(live_url, session, stand):
    _, code = create_pairing_code(session, stand.id, None, datetime.now(UTC))
    session.commit()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    answers = race(live_url, [{"outlet_id": stand.id, "code": wrong}] * 5)
    # Four are told how many tries are left (4, 3, 2, 1, each once) and one that the outlet's codes are void.
    assert Counter(body["error"] for _, body in answers) == {"wrong_code": 4, "pairing_void": 1}
    tries_left = [body["message"].split("Còn ")[1].split()[0] for _, body in answers if body["error"] == "wrong_code"]
    assert sorted(map(int, tries_left)) == [1, 2, 3, 4]
    assert session.scalar(select(func.count(PairingFailure.id))) == 5
    session.expire_all()
    assert session.scalars(select(PairingCode)).one().voided_at is not None
    assert (
        requests.post(f"{live_url}/api/v1/kiosks/pair", json={"outlet_id": stand.id, "code": code}, timeout=30).json()[
            "error"
        ]
        == "pairing_void"
    )
