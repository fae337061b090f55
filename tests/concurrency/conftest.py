"""A real threaded HTTP server in front of the test's app (SQLite file or PostgreSQL), for concurrency tests.

Each request runs in its own server thread with its own database session, as under a multi-threaded
production server; the test talks to it over loopback like any client would.
"""
import socket
import threading

import pytest
from werkzeug.serving import make_server

from tests.factories import PASSWORD, make_user


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_url(app):
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="concurrency-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def admin_token(live_url, session):
    import requests

    admin = make_user(session, role="admin")
    session.commit()
    response = requests.post(f"{live_url}/api/v1/auth/token", json={"email": admin.email, "password": PASSWORD},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]
