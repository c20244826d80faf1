"""Shared pieces of the gateway tests."""

from fenxiao.testing import api_for, make_address, make_buyer, make_product


def place_order(price=4990, quantity=2):
    """A buyer's unpaid order through the API: (the buyer's API client, the order number)."""
    buyer = make_buyer()
    client = api_for(buyer)
    sku = make_product(price=price, stock=10).skus.get()
    placed = client.post(
        "/checkout",
        {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": make_address(buyer).pk},
    )
    assert placed.status_code == 201, placed.content
    return client, placed.json()["number"]
