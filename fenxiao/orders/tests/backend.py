"""What the order backend tests share: a signed-in superuser client (`boss`, made available
by `conftest.py`), orders placed and paid in the sandbox, admin URLs and messages, and a
snapshot of an order that a refused action must leave as it was."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fenxiao.orders.models import AfterSale, Order, OrderEvent, OrderSettings
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Refund
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def make_order(*, prices=(4990,), quantity=1, stock=10, buyer=None) -> Order:
    buyer = buyer or make_buyer()
    address = make_address(buyer)
    skus = [make_product(price=price, stock=stock).skus.get() for price in prices]
    return place_order(buyer, [(sku.pk, quantity) for sku in skus], address_id=address.pk)


def set_return_address(address: str = "浙江省杭州市余杭区仓前街道 1 号退货仓") -> OrderSettings:
    """订单设置 with a return address: a return (退货退款) is approved only with one."""
    rules = OrderSettings.current()
    rules.return_recipient, rules.return_phone, rules.return_address = "王仓管", "13800000000", address
    rules.save()
    return rules


def pay(order: Order) -> Order:
    """The buyer pays on the sandbox cashier; the gateway's signed notification marks it paid."""
    payment = start_payment(order, "sandbox")
    SandboxGateway().complete_trade(payment.out_trade_no)
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    return order


def url(obj, action=None):
    """The change page of `obj`, or the page of one of its actions ("delete", "ship" …)."""
    opts = obj._meta
    if action is None:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    if action in ("delete", "history"):
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[obj.pk])
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{changelist}{obj.pk}/{action}/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.total,
        order.discount_amount,
        order.shipping_fee,
        order.refunded_amount,
        order.carrier,
        order.tracking_number,
        OrderEvent.objects.filter(order=order).count(),
        AfterSale.objects.filter(order=order).count(),
        Refund.objects.count(),
    )
