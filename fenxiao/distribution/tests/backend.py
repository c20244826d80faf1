"""Helpers for the tests of the distribution backend (the merchant console): sign-in,
admin URLs, messages, the orders, credits and withdrawals those tests start from, and
their fixtures (`staff`, `boss`: a signed-in client, `world`: a shop with every record),
which `conftest.py` makes available to every test here."""

import itertools
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from fenxiao.catalog.models import Category
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    Distributor,
    DistributorGrade,
    LedgerEntry,
    LedgerKind,
    RiskReview,
    SalesTier,
    TouchSource,
    Withdrawal,
)
from fenxiao.distribution.services import (
    binding,
    claims,
    config,
    distributors,
    reconciliation,
    risk,
    scheduled,
    settlement,
    totals,
    withdrawals,
)
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff

_credit = itertools.count(1)


def url(obj, action=None):
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{action or 'change'}"
    return reverse(name, args=[obj.pk])


def list_url(model, action="changelist"):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}")


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def designate(parent=None, grade=None, phone=None) -> Distributor:
    return distributors.designate(make_buyer(phone), None, parent=parent, grade=grade)


def credit(distributor, amount: int) -> LedgerEntry:
    """Settled commission on the ledger, for withdrawal tests (with the running balance
    moved as settlement moves it)."""
    entry = LedgerEntry.objects.create(
        distributor=distributor,
        kind=LedgerKind.COMMISSION,
        amount=amount,
        source_key=f"test-credit:{next(_credit)}",
        note="测试入账",
    )
    totals.add({distributor.pk: {"balance": amount}})
    return entry


def paid_order(buyer, sku, quantity=1) -> Order:
    address = buyer.addresses.first() or make_address(buyer)
    order = place_order(buyer, [(sku.pk, quantity)], address_id=address.pk)
    payment = start_payment(order, "sandbox")
    SandboxGateway().complete_trade(payment.out_trade_no)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    return order


def completed_order(buyer, sku, staff_user, quantity=1) -> Order:
    order = paid_order(buyer, sku, quantity)
    lifecycle.ship(order, staff_user, carrier="顺丰速运", tracking_number=f"SF{order.pk}")
    return lifecycle.complete(order, actor=buyer)


def request_withdrawal(distributor, amount=2000, method="alipay", account=None) -> Withdrawal:
    account = account if account is not None else {"name": "王五", "account": "b@alipay.com"}
    return withdrawals.request(distributor, amount=amount, method=method, account=account)


@pytest.fixture
def staff():
    return make_staff("boss", superuser=True)


@pytest.fixture
def boss(staff):
    return login(staff)


@pytest.fixture
def world(staff):
    """At least one record of every distribution model, in interesting states."""
    config.update_settings(staff, withdraw_fee_bp=100, freeze_days=7)
    # No after-sale window: the freeze alone decides when commission settles here.
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=0)
    normal = DistributorGrade.objects.create(name="普通", weight=1, is_default=True)
    gold = DistributorGrade.objects.create(name="金牌", weight=3, level1_bp=1500, min_own_sales=100000)
    a = designate(grade=normal, phone="13900000001")
    b = designate(parent=a, phone="13900000002")
    pending = distributors.apply(make_buyer("13900000003"), real_name="张三", note="想推广")
    buyer = make_buyer("13900000004")
    binding.record_touch(buyer, b, TouchSource.LINK)
    binding.record_touch(None, a, TouchSource.QR)
    product = make_product("T恤", category=Category.objects.create(name="服装"), price=9900)
    sku = product.skus.get()
    rule = config.save_rule(
        CommissionRule(name="T恤固定佣金", product=product, kind="fixed", level1=500, level2=200)
    )
    tier = config.save_tier(SalesTier(threshold=1000000, bonus_bp=100))
    done = completed_order(buyer, sku, staff)
    settled = settlement.settle_due(timezone.now() + timedelta(days=8))
    second = completed_order(buyer, sku, staff)
    Commission.objects.filter(order=second).update(
        frozen_until=timezone.now() - timedelta(minutes=1)
    )  # its freeze has ended
    batch = settlement.create_batch(staff=staff)
    claimed = paid_order(buyer, sku)  # pending commission
    withdrawal = request_withdrawal(b, amount=300)
    reconciliation.run()
    # Delivered to b's own phone: the abuse guards hold b's commission for review (风控审核).
    suspect = make_buyer("13900000005")
    binding.record_touch(suspect, b, TouchSource.LINK)
    make_address(suspect, phone=b.user.phone)
    held = paid_order(suspect, sku)
    lifecycle.ship(held, staff, carrier="顺丰速运", tracking_number=f"SF{held.pk}")
    # b's mother, cleared and trusted (风控信任名单).
    mother = make_buyer("13900000006")
    binding.record_touch(mother, b, TouchSource.LINK)
    make_address(mother, phone=b.user.phone)
    trusted = paid_order(mother, sku)
    lifecycle.ship(trusted, staff, carrier="顺丰速运", tracking_number=f"SF{trusted.pk}")
    risk.clear(RiskReview.objects.get(order=trusted), staff, note="其母亲", trust=True)
    # a says the pending order was theirs (掉单申诉), waiting for staff.
    claims.file(a, order_number=claimed.number, phone_tail=buyer.phone[-4:], reason="客户是我线下介绍的")
    # A rate change set to take effect tomorrow (生效时间).
    scheduled.schedule_settings(staff, timezone.now() + timedelta(days=1), {"level1_bp": 1200})
    return {
        "a": a,
        "b": b,
        "pending": pending,
        "buyer": buyer,
        "normal": normal,
        "gold": gold,
        "rule": rule,
        "tier": tier,
        "order": done,
        "settled_batch": settled,
        "batch": batch,
        "withdrawal": withdrawal,
        "sku": sku,
    }
