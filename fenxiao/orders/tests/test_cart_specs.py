"""选规格 in the cart: a line moves to another spec of the same product (H5 cart and API);
onto a spec the cart already holds, the two lines become one. Another product's SKU, a spec
sold out or short, or a line not the buyer's is refused and nothing changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import CartLine
from fenxiao.orders.services import cart
from fenxiao.testing import api_for, login, make_buyer, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def shirt():
    product = make_product("衬衫", specs_list=[{"颜色": "白"}, {"颜色": "蓝"}, {"颜色": "灰"}], stock=5)
    white, blue, grey = product.skus.order_by("pk")
    return white, blue, grey


def lines(buyer) -> dict[int, int]:
    return dict(CartLine.objects.filter(cart__buyer=buyer).values_list("sku_id", "quantity"))


def test_a_line_moves_to_another_spec_and_merges_with_one_already_there(shirt):
    white, blue, grey = shirt
    buyer = make_buyer()
    line = cart.add_to_cart(buyer, white.pk, 2)
    moved = cart.change_sku(buyer, line.pk, blue.pk)
    assert moved.pk == line.pk and lines(buyer) == {blue.pk: 2}
    cart.add_to_cart(buyer, grey.pk, 1)
    merged = cart.change_sku(buyer, line.pk, grey.pk)
    assert lines(buyer) == {grey.pk: 3} and merged.quantity == 3
    assert not CartLine.objects.filter(pk=line.pk).exists()


def test_a_spec_that_cannot_take_the_line_is_refused_and_nothing_changes(shirt):
    white, blue, grey = shirt
    buyer = make_buyer()
    line = cart.add_to_cart(buyer, white.pk, 4)
    cart.add_to_cart(buyer, grey.pk, 2)
    Sku.objects.filter(pk=blue.pk).update(stock=3)
    other = make_product("裤子").skus.get()
    stranger = make_buyer()
    for who, sku, code in (
        (buyer, blue, "STOCK_INSUFFICIENT"),  # 4 wanted, 3 left
        (buyer, grey, "STOCK_INSUFFICIENT"),  # merged: 6 wanted, 5 left
        (buyer, other, "SKU_NOT_FOUND"),  # another product
        (stranger, blue, "NOT_FOUND"),  # not their line
    ):
        with pytest.raises(Exception) as refused:
            cart.change_sku(who, line.pk, sku.pk)
        assert refused.value.code == code
    assert lines(buyer) == {white.pk: 4, grey.pk: 2}


def test_the_h5_cart_offers_the_products_specs_and_switches(shirt, django_assert_max_num_queries):
    white, blue, grey = shirt
    Sku.objects.filter(pk=grey.pk).update(stock=0)
    buyer = make_buyer()
    line = cart.add_to_cart(buyer, white.pk, 1)
    client = login(buyer)
    client.get("/cart/")
    with CaptureQueriesContext(connection) as one:
        page = client.get("/cart/").content.decode()
    switch = page.split('data-testid="spec-switch"')[1].split("</details>")[0]
    assert switch.count("<button") == 3  # 白 (this one), 蓝, 灰 (sold out)
    assert f'"sku": "{blue.pk}"' in switch and "灰 · 缺货" in switch
    for n in range(8):  # more lines with specs to switch cost no more queries
        product = make_product(f"商品{n}", specs_list=[{"尺码": "S"}, {"尺码": "M"}])
        cart.add_to_cart(buyer, product.skus.first().pk, 1)
    with django_assert_max_num_queries(len(one)):
        client.get("/cart/")

    reply = client.post(f"/cart/lines/{line.pk}/", {"sku": blue.pk}, HTTP_HX_REQUEST="true")
    assert reply.status_code == 200 and lines(buyer)[blue.pk] == 1 and white.pk not in lines(buyer)
    client.post(f"/cart/lines/{line.pk}/", {"sku": grey.pk})  # sold out: said, nothing changes
    assert lines(buyer)[blue.pk] == 1
    assert "库存不足" in client.get("/cart/").content.decode()


def test_the_api_changes_spec_and_quantity_together_or_not_at_all(shirt):
    white, blue, _grey = shirt
    buyer = make_buyer()
    api = api_for(buyer)
    line = cart.add_to_cart(buyer, white.pk, 1)
    body = api.patch(f"/cart/lines/{line.pk}", {"sku_id": blue.pk, "quantity": 3}).json()
    assert [(x["sku_id"], x["quantity"]) for x in body["lines"]] == [(blue.pk, 3)]
    refused = api.patch(f"/cart/lines/{line.pk}", {"sku_id": white.pk, "quantity": 9})
    assert refused.status_code == 409 and refused.json()["code"] == "STOCK_INSUFFICIENT"
    assert lines(buyer) == {blue.pk: 3}  # the spec did not change either
    assert api.patch(f"/cart/lines/{line.pk}", {}).status_code == 422
    assert api.patch(f"/cart/lines/{line.pk}", {"sku_id": True}).status_code == 422
