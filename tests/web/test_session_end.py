"""A session that ends (issue 15): logging out clears everything the session held — cart, orders seen, checkout
tokens — and a copy of the cookie taken before the logout opens nothing afterwards."""

from storefront.receipt_links import receipt_url
from tests.factories import make_user
from tests.web import test_cart_checkout_pages
from tests.web.test_cart_checkout_pages import add, login, pickup, place, placed_order, text_of

COOKIE = "session"


def receipt_path(app, order) -> str:
    with app.test_request_context():
        return receipt_url(order.id).removeprefix(app.config["PUBLIC_URL"])


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
    opened_from_the_mail = app.test_client()
    assert opened_from_the_mail.get(receipt_path(app, order)).status_code == 303
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
    # A browser that opened the order e-mail's link is not affected by the buyer's logout.
    assert order.code in text_of(opened_from_the_mail.get(f"/don-hang/{order.id}"))


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
