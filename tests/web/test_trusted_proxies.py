"""The client's address behind a load balancer (issue 15): with TRUSTED_PROXIES, X-Forwarded-For names the
visitor, so the login throttle counts visitors apart; without it, a forged header changes nothing."""

import pytest

from storefront.proxies import believe_networks, trusted_networks
from tests.factories import make_user

BALANCER = "10.0.0.5"


def failed_logins(client, user, forwarded_for: str, times: int) -> list[int]:
    return [
        client.post(
            "/dang-nhap",
            data={"email": user.email, "password": "sai-mat-khau"},
            environ_base={"REMOTE_ADDR": BALANCER},
            headers={"X-Forwarded-For": forwarded_for},
        ).status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("setting", ["1", "10.0.0.0/8"])
def test_behind_trusted_proxies_two_visitors_are_throttled_apart(app, client, session, setting):
    app.config["TRUSTED_PROXIES"] = setting
    user = make_user(session)
    session.commit()
    assert failed_logins(client, user, "198.51.100.7", 6)[-1] == 429
    # Another visitor behind the same balancer still has every try of their own.
    assert failed_logins(client, user, "203.0.113.10", 5) == [200] * 5


def test_without_trusted_proxies_a_forged_header_changes_nothing(app, client, session):
    app.config["TRUSTED_PROXIES"] = ""
    user = make_user(session)
    session.commit()
    statuses = [failed_logins(client, user, f"198.51.100.{n}", 1)[0] for n in range(6)]
    assert statuses[-1] == 429  # every attempt came from the balancer's address, whatever the header said


def test_only_the_right_most_addresses_written_by_trusted_proxies_are_skipped():
    networks = trusted_networks("10.0.0.0/8, 192.168.1.5")
    environ = {
        "REMOTE_ADDR": "10.0.0.5",
        "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7, 192.168.1.5",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
    }
    believe_networks(environ, networks)
    assert (environ["REMOTE_ADDR"], environ["wsgi.url_scheme"]) == ("198.51.100.7", "https")
    untrusted_peer = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4", "wsgi.url_scheme": "http"}
    believe_networks(untrusted_peer, networks)
    assert untrusted_peer["REMOTE_ADDR"] == "203.0.113.9"
