"""Store credit as a tender: pay with the wallet in full or in part, commission base
unchanged, refunds back to where the money came from, holds released on cancellation."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.customers.models import Address, WalletEntry
from fenxiao.customers.services import wallet
from fenxiao.distribution.tests.helpers import bound_buyer, commission, make_distributor
from fenxiao.orders.models import AfterSale, Order
from fenxiao.orders.services import lifecycle
from fenxiao.payments.models import Payment, Refund, SandboxTrade
from fenxiao.testing import api_for, make_address, make_product, make_staff

pytestmark = pytest.mark.django_db


def top_up(user, amount):
    WalletEntry.objects.create(user=user, amount=amount, source_key=f"test-topup:{user.pk}:{amount}")


def checkout(buyer, sku, quantity=1, **extra):
    address = Address.objects.filter(user=buyer).first() or make_address(buyer)
    reply = api_for(buyer).post(
        "/checkout",
        {"lines": [{"sku_id": sku.pk, "quantity": quantity}], "address_id": address.pk, **extra},
    )
    assert reply.status_code == 201, reply.content
    return reply.json()


def pay_rest(buyer, number):
    reply = api_for(buyer).post(f"/orders/{number}/pay", {"gateway": "sandbox"})
    assert reply.status_code == 200, reply.content
    page = Client().post(reply.json()["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert page.status_code == 200
    return reply.json()


def staff_refund(number, lines):
    staff = api_for(make_staff(superuser=True))
    reply = staff.post(
        f"/staff/orders/{number}/refunds", {"kind": "refund_only", "reason": "质量问题", "lines": lines}
    )
    assert reply.status_code == 201, reply.content
    return reply.json()


@pytest.fixture
def distributor():
    return make_distributor()


def test_part_paid_by_wallet_the_gateway_takes_the_rest_and_commission_is_unchanged(distributor):
    buyer = bound_buyer(distributor)
    other = bound_buyer(distributor)
    top_up(buyer, 3000)
    sku = make_product("茶具", price=10000).skus.get()

    preview = api_for(buyer).post("/checkout/preview", {"lines": [{"sku_id": sku.pk, "quantity": 1}]})
    assert preview.json()["wallet_balance"] == 3000
    placed = checkout(buyer, sku, use_wallet=True)
    assert (placed["status"], placed["total"], placed["wallet_amount"], placed["amount_due"]) == (
        "pending_payment",
        10000,
        3000,
        7000,
    )
    assert wallet.balance(buyer.pk) == 0
    pay = pay_rest(buyer, placed["number"])
    assert pay["amount"] == 7000
    order = Order.objects.get(number=placed["number"])
    assert (order.status, order.paid_amount, order.wallet_amount) == ("pending_shipment", 10000, 3000)
    assert order.lines.get().paid_amount == 10000
    # The same purchase paid all by gateway earns exactly the same commission.
    plain = checkout(other, sku)
    pay_rest(other, plain["number"])
    assert (
        commission(order, 1).amount == commission(Order.objects.get(number=plain["number"]), 1).amount == 1000
    )


def test_fully_paid_by_wallet_is_paid_at_once_without_the_gateway(distributor):
    buyer = bound_buyer(distributor)
    top_up(buyer, 25000)
    sku = make_product("茶具", price=10000).skus.get()
    placed = checkout(buyer, sku, use_wallet=True)
    assert (placed["status"], placed["paid_amount"], placed["amount_due"]) == ("pending_shipment", 10000, 0)
    assert wallet.balance(buyer.pk) == 15000
    assert Payment.objects.count() == 0
    order = Order.objects.get(number=placed["number"])
    assert commission(order, 1).amount == 1000  # paid orders earn, whatever the tender
    again = api_for(buyer).post(f"/orders/{placed['number']}/pay", {"gateway": "sandbox"})
    assert (again.status_code, again.json()["code"]) == (409, "PAYMENT_NOT_ALLOWED")


def test_without_the_toggle_the_wallet_is_not_touched():
    buyer = bound_buyer()
    top_up(buyer, 25000)
    placed = checkout(buyer, make_product(price=10000).skus.get())
    assert (placed["wallet_amount"], placed["amount_due"]) == (0, 10000)
    assert wallet.balance(buyer.pk) == 25000


def test_refunds_go_back_to_wallet_and_gateway_in_the_proportion_they_paid(distributor):
    buyer = bound_buyer(distributor)
    top_up(buyer, 3000)
    sku = make_product("茶具", price=5000).skus.get()
    placed = checkout(buyer, sku, 2, use_wallet=True)  # 10000: 3000 wallet + 7000 gateway
    pay_rest(buyer, placed["number"])
    order = Order.objects.get(number=placed["number"])
    line = order.lines.get()

    first = staff_refund(order.number, [{"line_id": line.pk, "quantity": 1}])  # 5000
    assert first["status"] == "refunded"
    assert wallet.balance(buyer.pk) == 1500  # 3000 × 5000 / 10000
    assert list(Refund.objects.values_list("amount", "status")) == [(3500, "succeeded")]
    # Commission follows the refunded amount, not the tender: half of 1000.
    assert commission(order, 1).net_amount == 500

    second = staff_refund(order.number, [{"line_id": line.pk, "amount": 3333}])
    assert second["status"] == "refunded"
    # Cumulative: wallet back 3000 × 8333 // 10000 = 2499 in all, so 999 now; gateway 2334.
    assert wallet.balance(buyer.pk) == 2499
    assert sorted(Refund.objects.values_list("amount", flat=True)) == [2334, 3500]

    staff_refund(order.number, [{"line_id": line.pk}])  # the last 1667
    order.refresh_from_db()
    assert (order.refunded_amount, order.wallet_refunded) == (10000, 3000)
    assert wallet.balance(buyer.pk) == 3000
    assert SandboxTrade.objects.get().refunded_amount == 7000
    assert commission(order, 1).status == "cancelled"


def test_a_wallet_only_order_refunds_to_the_wallet_at_once(distributor):
    buyer = bound_buyer(distributor)
    top_up(buyer, 10000)
    sku = make_product("茶具", price=10000).skus.get()
    placed = checkout(buyer, sku, use_wallet=True)
    assert wallet.balance(buyer.pk) == 0
    reply = api_for(buyer).post(f"/orders/{placed['number']}/cancel", {"reason": "不想要了"})
    assert reply.status_code == 200, reply.content
    order = Order.objects.get(number=placed["number"])
    assert (order.status, order.refunded_amount, order.wallet_refunded) == ("cancelled", 10000, 10000)
    assert AfterSale.objects.get(order=order).status == "refunded"
    assert Refund.objects.count() == 0
    assert wallet.balance(buyer.pk) == 10000
    assert commission(order, 1).status == "cancelled"


def test_cancelling_an_unpaid_order_gives_the_store_credit_back_once():
    buyer = bound_buyer()
    top_up(buyer, 4000)
    sku = make_product(price=10000).skus.get()
    placed = checkout(buyer, sku, use_wallet=True)
    assert wallet.balance(buyer.pk) == 0
    api_for(buyer).post(f"/orders/{placed['number']}/cancel")
    assert Order.objects.get(number=placed["number"]).status == "cancelled"
    assert wallet.balance(buyer.pk) == 4000
    # The payment timeout on another order does the same.
    second = checkout(buyer, sku, use_wallet=True)
    Order.objects.filter(number=second["number"]).update(pay_deadline=timezone.now() - timedelta(minutes=1))
    assert lifecycle.cancel_expired_orders() == 1
    assert wallet.balance(buyer.pk) == 4000
    assert WalletEntry.objects.filter(user=buyer).count() == 5  # top-up, 2 debits, 2 releases


def test_a_wallet_part_paid_order_cannot_be_repriced():
    buyer = bound_buyer()
    top_up(buyer, 4000)
    placed = checkout(buyer, make_product(price=10000).skus.get(), use_wallet=True)
    order = Order.objects.get(number=placed["number"])
    from fenxiao.orders.errors import PriceAdjustInvalid

    with pytest.raises(PriceAdjustInvalid):
        lifecycle.adjust_price(order, make_staff(superuser=True), discount_amount=1000, shipping_fee=0)
    assert Order.objects.get(pk=order.pk).total == 10000


def test_a_debit_never_overdraws_and_is_applied_once():
    buyer = bound_buyer()
    top_up(buyer, 1000)
    from fenxiao.customers.errors import WalletInsufficient

    with pytest.raises(WalletInsufficient):
        wallet.debit(buyer.pk, 1001, source_key="t:1", note="")
    wallet.debit(buyer.pk, 600, source_key="t:2", note="")
    wallet.debit(buyer.pk, 600, source_key="t:2", note="")  # the same debit again: nothing more
    assert wallet.balance(buyer.pk) == 400
