"""The fair kiosk's own pages (issue 18): the shell of a stand, its manifest, the service worker, the product QR
codes, and the kiosk's read of its own offline quota."""

import json
import re

import pytest
import segno

from core.models import utcnow
from inventory.devices import create_device, revoke_device
from tests.factories import bearer, make_outlet, make_product, make_user, receive_stock, token_for


@pytest.fixture
def stand(session):
    outlet = make_outlet(session, "hoi-cho-thu", kind="fair")
    outlet.name = "Gian hàng hội chợ mùa thu"
    session.flush()
    return outlet


@pytest.fixture
def kiosk(session, stand):
    device, token = create_device(session, stand.id, "Kiosk cổng B", created_by=None)
    device.kind = "kiosk"
    session.commit()
    return device, bearer(token)


def _strings(page: str) -> dict:
    raw = re.search(r'data-strings="([^"]*)"', page).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&"))


def test_a_stand_has_a_full_screen_kiosk_in_vietnamese_with_english_inside(client, stand):
    answer = client.get("/kiosk/hoi-cho-thu")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Gian hàng hội chợ mùa thu" in page
    assert f'data-outlet-id="{stand.id}"' in page
    assert 'class="site-header' not in page  # its own layout, not the shop's
    assert "/kiosk/hoi-cho-thu/manifest.webmanifest" in page
    words = _strings(page)
    assert words["vi"]["add_to_cart"] == "Thêm vào giỏ"
    assert words["en"]["add_to_cart"] == "Add to cart"
    assert words["vi"]["revoked"] == "Máy này không còn được ghép với cửa hàng."
    assert words["en"]["groups"]["1"] == "Food"
    assert "6" not in words["vi"]["groups"]  # services are booked, never sold at a stand
    assert 'data-idle-seconds="90"' in page


def test_the_idle_time_comes_from_the_configuration(app, client, stand):
    app.config["KIOSK_IDLE_SECONDS"] = 20
    assert 'data-idle-seconds="20"' in client.get("/kiosk/hoi-cho-thu").get_data(as_text=True)


def test_an_unknown_stand_has_no_kiosk(client, stand):
    assert client.get("/kiosk/khong-co").status_code == 404
    assert client.get("/kiosk/khong-co/manifest.webmanifest").status_code == 404
    assert client.get("/kiosk/khong-co/qr/1.svg").status_code == 404


def test_the_kiosk_installs_as_a_full_screen_app_of_its_stand(client, stand):
    answer = client.get("/kiosk/hoi-cho-thu/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.mimetype == "application/manifest+json"
    manifest = answer.get_json(force=True)
    assert manifest["start_url"] == "/kiosk/hoi-cho-thu"
    assert manifest["scope"] == "/kiosk/"
    assert manifest["display"] == "fullscreen"
    assert "Gian hàng hội chợ mùa thu" in manifest["name"]
    assert client.get(manifest["icons"][0]["src"]).status_code == 200


def test_the_service_worker_is_served_under_kiosk_and_never_from_a_stale_cache(client):
    answer = client.get("/kiosk/sw.js")
    assert answer.status_code == 200
    assert answer.mimetype == "text/javascript"
    assert "no-cache" in answer.headers["Cache-Control"]
    script = answer.get_data(as_text=True)
    assert "addEventListener('fetch'" in script
    # Orders are never answered from a cache.
    assert "request.method !== 'GET'" in script


def test_the_kiosk_pages_keep_to_the_content_security_policy(client, stand):
    answer = client.get("/kiosk/hoi-cho-thu")
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    page = answer.get_data(as_text=True)
    assert "<style" not in page and " style=" not in page and " onclick=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_a_products_qr_code_opens_its_public_page(app, client, session, stand):
    product = make_product(session, "Nước mắm Cát Hải")
    session.commit()
    answer = client.get(f"/kiosk/hoi-cho-thu/qr/{product.id}.svg")
    assert answer.status_code == 200
    assert answer.mimetype == "image/svg+xml"
    url = app.config["PUBLIC_URL"].rstrip("/") + f"/san-pham/{product.slug}"
    expected = segno.make(url, error="m", boost_error=False)
    assert expected.error == "M"
    svg = answer.get_data(as_text=True)
    assert url in svg  # its title names the address
    # The same modules as segno draws for that address at level M.
    path = re.search(r' d="([^"]+)"', svg).group(1)
    assert path == re.search(r' d="([^"]+)"', _svg(expected)).group(1)


def _svg(qr) -> str:
    import io

    out = io.BytesIO()
    qr.save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return out.getvalue().decode()


def test_an_unknown_products_qr_code_is_404(client, stand):
    assert client.get("/kiosk/hoi-cho-thu/qr/999999.svg").status_code == 404


def test_a_kiosk_reads_what_is_left_of_its_own_quota(client, session, stand, kiosk):
    device, kiosk_headers = kiosk
    product = make_product(session, "Chè Vối")
    receive_stock(session, stand, product, 10)
    staff = make_user(session, role="staff", outlet_id=stand.id)
    session.commit()
    staff_headers = bearer(token_for(client, staff))
    empty = client.get(f"/api/v1/devices/{device.id}/quota", headers=kiosk_headers)
    assert empty.status_code == 200 and empty.get_json() == {"device_id": device.id, "items": []}
    held = client.put(
        f"/api/v1/devices/{device.id}/quota",
        json={"items": [{"product_id": product.id, "qty": 4}]},
        headers=staff_headers,
    )
    assert held.status_code == 200
    expected = {"device_id": device.id, "items": [{"product_id": product.id, "qty": 4}]}
    assert client.get(f"/api/v1/devices/{device.id}/quota", headers=kiosk_headers).get_json() == expected
    assert client.get(f"/api/v1/devices/{device.id}/quota", headers=staff_headers).get_json() == expected


def test_a_kiosk_cannot_read_another_kiosks_quota_nor_strangers(client, session, stand, kiosk):
    device, _ = kiosk
    other, other_token = create_device(session, stand.id, "Kiosk cổng C", created_by=None)
    stranger = make_user(session, role="staff", outlet_id=make_outlet(session).id)
    session.commit()
    answer = client.get(f"/api/v1/devices/{device.id}/quota", headers=bearer(other_token))
    assert answer.status_code == 403 and answer.get_json()["error"] == "forbidden"
    strangers = bearer(token_for(client, stranger))
    assert client.get(f"/api/v1/devices/{device.id}/quota", headers=strangers).status_code == 403
    assert client.get(f"/api/v1/devices/{device.id}/quota").status_code == 401


def test_a_revoked_kiosk_reads_no_quota(client, session, stand, kiosk):
    device, kiosk_headers = kiosk
    revoke_device(session, device, utcnow())
    session.commit()
    answer = client.get(f"/api/v1/devices/{device.id}/quota", headers=kiosk_headers)
    assert answer.status_code == 401


def test_a_kiosk_starts_in_vietnamese_whatever_the_browser_prefers(client, stand):
    page = client.get("/kiosk/hoi-cho-thu", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="vi">' in page and 'data-lang="vi"' in page


def test_a_kiosk_set_up_in_english_starts_in_english(client, stand):
    page = client.get("/kiosk/hoi-cho-thu?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and 'data-lang="en"' in page
    assert "<title>OCOP stand – " in page
    client.get("/ngon-ngu/en")
    assert '<html lang="en">' in client.get("/kiosk/hoi-cho-thu").get_data(as_text=True)
