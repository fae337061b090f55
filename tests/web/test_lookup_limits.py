"""Order look-up cannot be used to guess (issue 15): the page and the API share one limit per address, a code
that met five wrong phone numbers is locked for 15 minutes from any address, and the API's answer masks the
buyer's e-mail and street address."""

import email
import email.policy
import re
from pathlib import Path

from tests.web import test_api_orders
from tests.web.test_api_orders import order_body

PHONE = "0912 345 678"

shop = test_api_orders.shop  # the fixture, shared with test_api_orders


def look_up(client, code: str, phone: str, address: str = "198.51.100.7"):
    return client.get(
        "/api/v1/orders/lookup", query_string={"code": code, "phone": phone}, environ_base={"REMOTE_ADDR": address}
    )


def test_500_guesses_from_one_address_meet_429_after_the_limit(client, session, shop):
    created = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1))).get_json()
    statuses = [look_up(client, f"OCOP{n:06d}", PHONE).status_code for n in range(500)]
    assert statuses[:20] == [404] * 20 and set(statuses[20:]) == {429}
    throttled = look_up(client, created["code"], PHONE)
    assert throttled.status_code == 429 and throttled.get_json()["error"] == "too_many_requests"
    assert int(throttled.headers["Retry-After"]) > 0
    # The page counts against the same allowance.
    page = client.post(
        "/tra-cuu-don-hang",
        data={"code": created["code"], "phone": PHONE},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert page.status_code == 429


def test_a_code_that_met_five_wrong_phones_stays_locked_from_another_address(client, session, shop):
    created = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1))).get_json()
    wrong = [
        look_up(client, created["code"], f"09123456{n:02d}", address=f"203.0.113.{n}").status_code
        for n in range(10, 15)
    ]
    assert wrong == [404] * 5
    locked = look_up(client, created["code"], PHONE, address="192.0.2.1")  # the right phone, a fresh address
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 14 * 60
    page = client.post(
        "/tra-cuu-don-hang", data={"code": created["code"], "phone": PHONE}, environ_base={"REMOTE_ADDR": "192.0.2.2"}
    )
    assert page.status_code == 429 and "tra cứu sai quá nhiều lần" in page.get_data(as_text=True)
    # Other orders' codes are not affected.
    other = client.post("/api/v1/orders", json=order_body(shop["kien_thuy"], (shop["fish"], 1))).get_json()
    assert look_up(client, other["code"], PHONE, address="192.0.2.3").status_code == 200


def test_the_answer_masks_the_buyers_email_and_street(client, session, shop):
    body = order_body(shop["kien_thuy"], (shop["fish"], 1))
    body["customer"]["email"] = "nguyen.binh@gmail.com"
    created = client.post("/api/v1/orders", json=body).get_json()
    found = look_up(client, created["code"], PHONE).get_json()
    assert (
        found["customer"]["email"] == "ng***@gmail.com" and found["customer"]["phone"] == created["customer"]["phone"]
    )
    assert found["id"] == created["id"] and found["total_vnd"] == created["total_vnd"]


def test_the_look_up_page_masks_the_buyer_and_the_mailed_link_opens_the_full_receipt(app, client, session, shop):
    body = order_body(shop["kien_thuy"], (shop["fish"], 1))
    body["customer"]["email"] = "nguyen.binh@gmail.com"
    created = client.post("/api/v1/orders", json=body).get_json()
    stranger = app.test_client()
    page = stranger.post("/tra-cuu-don-hang", data={"code": created["code"], "phone": PHONE}).get_data(as_text=True)
    assert created["code"] in page and "ng***@gmail.com" in page and "nguyen.binh@gmail.com" not in page
    assert stranger.get(f"/don-hang/{created['id']}").status_code == 302  # looking up opens no receipt
    path = next(Path(app.config["MAIL_OUTBOX"]).glob(f"order-{created['id']}-pending_payment-*.eml"))
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default).get_body().get_content()
    link = re.search(r"/don-hang/[0-9a-f-]{36}\?k=[0-9a-f]{32}", mail).group(0)
    reader = app.test_client()
    assert reader.get(link).status_code == 303
    assert "nguyen.binh@gmail.com" in reader.get(f"/don-hang/{created['id']}").get_data(as_text=True)
    forged = app.test_client().get(f"/don-hang/{created['id']}?k={'0' * 32}")
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/tra-cuu-don-hang")
