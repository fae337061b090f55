"""A session that ends (issue 15): logging out clears everything the session held — cart, orders seen, checkout
tokens — and a copy of the cookie taken before the logout opens nothing afterwards."""

from tests.factories import make_user
from tests.web import test_cart_checkout_pages
from tests.web.test_cart_checkout_pages import add, login, pickup, place, placed_order, text_of

COOKIE = "session"

shop = test_cart_checkout_pages.shop  # the fixture, shared with test_cart_checkout_pages


def cookie_of(client) -> str:
    return client.get_cookie(COOKIE).value


def test_a_cookie_copied_before_logout_opens_no_order(app, client, session, shop):
    outlet, _, fish, _ = shop
    buyer = make_user(session, email="an@example.com")
    session.commit()
    login(client, buyer)
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    looked_up_elsewhere = app.test_client()
    looked_up_elsewhere.post("/tra-cuu-don-hang", data={"code": order.code, "phone": "0912 345 678"})
    copied = cookie_of(client)
    assert order.code in text_of(client.get(f"/don-hang/{order.id}"))

    client.post("/dang-xuat")
    assert client.get(f"/don-hang/{order.id}").status_code == 302  # the logged-out browser itself
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)
    assert thief.get(f"/don-hang/{order.id}").status_code == 302
    assert thief.post(f"/don-hang/{order.id}/huy").status_code == 404
    session.expire_all()
    assert order.status == "pending_payment"
    # A guest who looked the order up by code and phone is not affected by the buyer's logout.
    assert order.code in text_of(looked_up_elsewhere.get(f"/don-hang/{order.id}"))


def test_logout_empties_the_cart_and_keeps_the_language(client, session, shop):
    fish = shop[2]
    buyer = make_user(session)
    session.commit()
    client.get("/?lang=en")
    login(client, buyer)
    add(client, fish, 2)
    client.post("/dang-xuat")
    cart = text_of(client.get("/gio-hang"))
    assert fish.name not in cart and '<html lang="en">' in cart


def test_a_password_change_elsewhere_ends_a_copied_sessions_cart_and_orders(app, client, session, shop):
    outlet, _, fish, _ = shop
    buyer = make_user(session)
    session.commit()
    login(client, buyer)
    add(client, fish, 1)
    order = placed_order(session, place(client, pickup(outlet)))
    buyer.session_epoch += 1  # as a password change or an admin disabling the account does
    session.commit()
    assert client.get(f"/don-hang/{order.id}").status_code == 302
    assert fish.name not in text_of(client.get("/gio-hang"))
