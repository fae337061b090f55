"""A real threaded HTTP server in front of the test's app (SQLite file or PostgreSQL), for concurrency tests.

Each request runs in its own server thread with its own database session, as under a multi-threaded
production server; the test talks to it over loopback like any client would.
"""

import pytest

from tests.factories import PASSWORD, make_user
from tests.live import serving


@pytest.fixture
def live_url(app):
    with serving(app, "concurrency-server") as url:
        yield url


@pytest.fixture
def admin_token(live_url, session):
    import requests

    admin = make_user(session, role="admin")
    session.commit()
    response = requests.post(
        f"{live_url}/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]
