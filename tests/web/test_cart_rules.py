"""The cart takes only what may be sold today (issue 15): a product revoked or lapsed is refused with the
reason when put in, while a line already there can still be taken out."""

from catalog.services import revoke_certificate
from tests.web import test_cart_checkout_pages
from tests.web.test_cart_checkout_pages import add, text_of

EMPTY_CART = 'Giỏ hàng <span class="cart-count">(0)</span>'

shop = test_cart_checkout_pages.shop  # the fixture, shared with test_cart_checkout_pages


def test_the_cart_refuses_a_revoked_product_with_the_reason(client, session, shop):
    fish = shop[2]
    revoke_certificate(session, fish.current_certificate, reason="Cấp nhầm")
    session.commit()
    refused = text_of(
        client.post("/gio-hang/them", data={"product_id": str(fish.id), "qty": "1"}, follow_redirects=True)
    )
    assert "Chứng nhận OCOP của 'Nước mắm cốt Cát Hải' đã bị thu hồi: không bán." in refused
    assert EMPTY_CART in refused


def test_a_line_that_went_off_sale_can_still_be_removed(client, session, shop):
    fish = shop[2]
    add(client, fish, 2)
    revoke_certificate(session, fish.current_certificate, reason="Cấp nhầm")
    session.commit()
    more = text_of(client.post(f"/gio-hang/{fish.id}", data={f"line-{fish.id}-qty": "3"}, follow_redirects=True))
    assert "đã bị thu hồi: không bán." in more
    removed = client.post(
        f"/gio-hang/{fish.id}", data={f"line-{fish.id}-qty": "2", f"line-{fish.id}-remove": "1"}, follow_redirects=True
    )
    assert EMPTY_CART in text_of(removed)
