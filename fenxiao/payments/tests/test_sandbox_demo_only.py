"""Outside demo mode the sandbox gateway is off: nobody can pay without money."""

import pytest
from django.test import Client

from fenxiao.orders.models import Order
from fenxiao.payments.gateways import enabled_gateways
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import SandboxTrade
from fenxiao.testing import api_for, make_address, make_buyer, make_product

pytestmark = pytest.mark.django_db


def place_order(client, sku) -> str:
    placed = client.post(
        "/checkout", {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": client.address}
    )
    assert placed.status_code == 201, placed.content
    return placed.json()["number"]


@pytest.fixture
def buyer_api():
    buyer = make_buyer()
    client = api_for(buyer)
    client.address = make_address(buyer).pk
    return client


@pytest.fixture
def sku():
    return make_product(price=5000, stock=10).skus.get()


def test_demo_mode_offers_the_sandbox(buyer_api, sku):
    assert enabled_gateways() == ["sandbox"]
    number = place_order(buyer_api, sku)
    pay = buyer_api.post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert pay.status_code == 200
    assert buyer_api.client.get(pay.json()["pay_url"]).status_code == 200


def test_production_has_no_sandbox_gateway_cashier_or_notifications(settings, buyer_api, sku):
    # A payment opened while the shop was a demo, then the shop goes to production.
    number = place_order(buyer_api, sku)
    pay = buyer_api.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()
    settings.DEMO_MODE = False

    assert enabled_gateways() == []
    # The cashier page is gone, and posting "pay" to it changes nothing.
    assert buyer_api.client.get(pay["pay_url"]).status_code == 404
    assert buyer_api.client.post(pay["pay_url"], {"action": "pay"}).status_code == 404
    trade = SandboxTrade.objects.get(out_trade_no=pay["out_trade_no"])
    assert trade.status == SandboxTrade.Status.OPEN

    # A notification correctly signed with the sandbox secret is refused.
    trade = SandboxGateway().complete_trade(trade.out_trade_no, notify=False)
    body, headers = SandboxGateway().build_notification(trade)
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"}
    reply = Client().post("/api/v1/payments/notify/sandbox", body, content_type="application/json", **extra)
    assert reply.status_code == 400
    assert reply.json()["code"] == "PAYMENT_GATEWAY_UNAVAILABLE"
    order = Order.objects.get(number=number)
    assert (order.status, order.paid_amount) == ("pending_payment", 0)

    # And no new payment can be started with it.
    again = buyer_api.post(f"/orders/{place_order(buyer_api, sku)}/pay", {"gateway": "sandbox"})
    assert again.status_code == 400
    assert again.json()["code"] == "PAYMENT_GATEWAY_UNAVAILABLE"
