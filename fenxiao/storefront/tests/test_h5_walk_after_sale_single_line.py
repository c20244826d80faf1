"""申请售后 for an order of one item: that item comes ticked. It came unticked, and a buyer who
chose a reason and described the problem was refused for not choosing among a single item."""

import re

import pytest
from django.test import Client

from fenxiao.orders.services import checkout
from fenxiao.testing import make_address, make_buyer, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db


def ticked(html: str) -> dict[str, bool]:
    """{checkbox name: ticked} of the form's line checkboxes."""
    boxes = re.findall(r'<input type="checkbox" name="(line_\d+)" value="1" ([^>]*)>', html)
    return {name: rest.startswith("checked") for name, rest in boxes}


def paid_order(*prices: int):
    buyer = make_buyer()
    address = make_address(buyer)
    skus = [make_product(price=price).skus.get() for price in prices]
    order = checkout.place_order(buyer, [(sku.pk, 1) for sku in skus], address_id=address.pk)
    pay_in_sandbox(order)
    client = Client()
    client.force_login(buyer)
    return order, client


def test_the_only_item_comes_ticked():
    order, client = paid_order(5980)
    line = order.lines.get()
    assert ticked(client.get(f"/orders/{order.number}/after-sale/").content.decode()) == {
        f"line_{line.pk}": True
    }


def test_with_several_items_the_buyer_chooses():
    order, client = paid_order(5980, 3900)
    boxes = ticked(client.get(f"/orders/{order.number}/after-sale/").content.decode())
    assert len(boxes) == 2 and not any(boxes.values())


def test_a_refused_request_keeps_the_buyers_own_choice():
    """Unticked and sent (no reason either): the page comes back as the buyer left it."""
    order, client = paid_order(5980)
    reply = client.post(f"/orders/{order.number}/after-sale/", {"kind": "refund_only"})
    assert reply.status_code == 400
    assert ticked(reply.content.decode()) == {f"line_{order.lines.get().pk}": False}
