"""再来一单: a finished order's goods go into the cart again (same SKUs and quantities, on
top of what the cart holds); what can no longer be bought is named and skipped; another
buyer's order is not found. On the H5 order pages and in the API."""

import pytest
from django.contrib.messages import get_messages

from fenxiao.catalog.models import Product, Sku
from fenxiao.orders.models import CartLine, Order
from fenxiao.orders.services import cart, lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.testing import api_for, assert_refused, login, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def lines(buyer) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart__buyer=buyer).values_list("sku_id", "quantity"))


@pytest.fixture
def order():
    buyer = make_buyer()
    tea, cup, pot = (make_product(name, stock=20).skus.get() for name in ("龙井", "茶杯", "茶壶"))
    placed = place_order(buyer, [(tea.pk, 2), (cup.pk, 4), (pot.pk, 1)], address_id=make_address(buyer).pk)
    lifecycle.cancel(placed, buyer, reason="")
    return Order.objects.get(pk=placed.pk), (tea, cup, pot)


def test_every_line_goes_back_into_the_cart_on_top_of_what_is_there(order):
    placed, (tea, cup, pot) = order
    buyer = placed.buyer
    cart.add_to_cart(buyer, tea.pk, 1)

    result = cart.buy_again(buyer, placed)

    assert (result.added, result.skipped) == (7, [])
    assert lines(buyer) == {tea.pk: 3, cup.pk: 4, pot.pk: 1}


def test_what_cannot_be_bought_is_named_and_the_rest_goes_in(order):
    placed, (tea, cup, pot) = order
    Product.objects.filter(pk=tea.product_id).update(is_listed=False)
    Sku.objects.filter(pk=cup.pk).update(stock=3)

    result = cart.buy_again(placed.buyer, placed)

    assert result.added == 1 and lines(placed.buyer) == {pot.pk: 1}
    assert [name for name, _reason in result.skipped] == ["龙井", "茶杯"]
    assert "下架" in result.skipped[0][1] and "库存不足" in result.skipped[1][1]


def test_the_h5_pages_offer_it_and_say_what_happened(order):
    placed, (tea, cup, pot) = order
    browser = login(placed.buyer)
    assert 'data-testid="order-buy-again"' in browser.get("/orders/").content.decode()
    assert 'data-testid="buy-again"' in browser.get(f"/orders/{placed.number}/").content.decode()

    Sku.objects.filter(pk=cup.pk).update(stock=0)
    reply = browser.post(f"/orders/{placed.number}/buy-again/")
    assert reply.status_code == 302 and reply["Location"] == "/cart/"
    said = [str(m) for m in get_messages(reply.wsgi_request)]
    assert said[0] == "已加入购物车 3 件" and said[1].startswith("以下商品未能加入：茶杯（")
    assert "以下商品未能加入" in browser.get("/cart/").content.decode()  # shown on the cart

    Product.objects.filter(pk__in=[tea.product_id, pot.product_id]).update(is_listed=False)
    CartLine.objects.all().delete()
    reply = browser.post(f"/orders/{placed.number}/buy-again/")
    assert reply["Location"] == f"/orders/{placed.number}/"
    [said] = [str(m) for m in get_messages(reply.wsgi_request)]
    assert said.startswith("订单中的商品已无法购买：") and not lines(placed.buyer)

    # Another buyer's order is not found, and buying again needs a POST.
    assert login(make_buyer()).post(f"/orders/{placed.number}/buy-again/").status_code == 404
    assert browser.get(f"/orders/{placed.number}/buy-again/").status_code == 405


def test_the_api(order):
    placed, (tea, cup, pot) = order
    Sku.objects.filter(pk=pot.pk).update(is_active=False)
    body = api_for(placed.buyer).post(f"/orders/{placed.number}/buy-again", {}).json()
    assert body["added"] == 6 and [s["name"] for s in body["skipped"]] == ["茶壶"]
    assert lines(placed.buyer) == {tea.pk: 2, cup.pk: 4}
    assert_refused(
        api_for(make_buyer()).post(f"/orders/{placed.number}/buy-again", {}), 404, "ORDER_NOT_FOUND"
    )
