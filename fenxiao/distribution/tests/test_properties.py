"""Commission invariants under random prices, quantities, rates, discounts and refunds.

Each example builds its own shop inside a transaction that is rolled back at the end, so
examples never see each other's data. Payment and refund go through the same services the
gateway notification and the refund task call (their commit callbacks would be dropped by
the rollback, so they are run in line here).
"""

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenxiao.core.money import apply_bp
from fenxiao.distribution.errors import RuleExceedsGuard
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    LedgerEntry,
    RuleKind,
    SalesTier,
)
from fenxiao.distribution.services import config, ledger, settlement
from fenxiao.distribution.services.commissions import _apply_guard
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.payments.models import Refund
from fenxiao.payments.services.refunds import execute_refund
from fenxiao.testing import make_address, make_product, make_staff, pay_in_sandbox

from .helpers import after_freeze, bound_buyer, make_distributor, place, sku

pytestmark = pytest.mark.django_db

lines_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "price": st.integers(1, 30000),
            "quantity": st.integers(1, 4),
            # (level 1, level 2) fen per unit; refused at save when it could break the guard
            "fixed": st.none() | st.tuples(st.integers(0, 3000), st.integers(0, 3000)),
            "refund_pct": st.integers(0, 100),
        }
    ),
    min_size=1,
    max_size=4,
)


@st.composite
def shops(draw):
    guard = draw(st.integers(500, 5000))
    level1 = draw(st.integers(0, guard))
    level2 = draw(st.integers(0, guard - level1))
    bonus = draw(st.integers(0, guard - level1 - level2))
    return {"guard": guard, "level1": level1, "level2": level2, "bonus": bonus}


def _pay(order):
    # The buyer pays; the gateway's notification (a commit callback, dropped by the
    # rollback) is applied directly.
    pay_in_sandbox(order, notify=True)
    order.refresh_from_db()
    assert order.status == "pending_shipment"


def _refund(order, staff, lines, wanted):
    items = []
    for line, pct in zip(lines, wanted, strict=True):
        line.refresh_from_db()
        if pct and line.paid_amount:
            items.append({"line_id": line.pk, "quantity": 0, "amount": max(1, line.paid_amount * pct // 100)})
    if not items:
        return
    after_sales.request_after_sale(order, staff, kind="refund_only", reason="随机退款", lines=items)
    for refund in Refund.objects.filter(status="pending"):
        execute_refund(refund.pk)  # what the refund task does once the approval commits


@pytest.fixture
def people():
    """Made once for all examples (each example rolls back only what it did)."""
    a = make_distributor()
    b = make_distributor(parent=a)
    buyer = bound_buyer(b)
    make_address(buyer)
    return make_staff(superuser=True), a, b, buyer


def _run(people, shop, lines_spec, discount_pct, settle_first):
    staff, a, b, buyer = people
    config.update_settings(
        None, max_commission_bp=shop["guard"], level1_bp=shop["level1"], level2_bp=shop["level2"]
    )
    if shop["bonus"]:
        config.save_tier(SalesTier(threshold=0, bonus_bp=shop["bonus"]))
    fixed_products = set()
    items = []
    for spec in lines_spec:
        product = make_product(price=spec["price"])
        if spec["fixed"] is not None:
            try:
                config.save_rule(
                    CommissionRule(
                        name="固定",
                        product=product,
                        kind=RuleKind.FIXED,
                        level1=spec["fixed"][0],
                        level2=spec["fixed"][1],
                    )
                )
                fixed_products.add(product.pk)
            except RuleExceedsGuard:
                pass
        items.append((sku(product), spec["quantity"]))

    order = place(buyer, *items)
    discount = order.goods_amount * discount_pct // 100
    if discount:
        order = lifecycle.adjust_price(
            order, staff, discount_amount=discount, shipping_fee=order.shipping_fee
        )
    _pay(order)
    lines = list(order.lines.order_by("pk"))
    guard = shop["guard"]

    # At payment: the guard holds on every line, and rate lines are exact.
    for line in lines:
        made = {c.level: c for c in Commission.objects.filter(order_line=line)}
        total = sum(c.amount for c in made.values())
        assert total <= apply_bp(line.paid_amount, guard)
        if line.product_id in fixed_products:
            rule = CommissionRule.objects.get(product_id=line.product_id)
            uncapped = (
                rule.level1 * line.quantity
                + apply_bp(line.paid_amount, shop["bonus"])
                + rule.level2 * line.quantity
            )
            assert total == min(uncapped, apply_bp(line.paid_amount, guard))
        else:
            expected = {
                1: apply_bp(line.paid_amount, shop["level1"] + shop["bonus"]),
                2: apply_bp(line.paid_amount, shop["level2"]),
            }
            assert {lv: c.amount for lv, c in made.items()} == {
                lv: amount for lv, amount in expected.items() if amount > 0
            }

    lifecycle.ship(order, staff, carrier="顺丰速运", tracking_number="SF1")
    lifecycle.complete(order, actor=order.buyer)
    if settle_first:
        settlement.settle_due(after_freeze())
    _refund(order, staff, lines, [spec["refund_pct"] for spec in lines_spec])
    settlement.settle_due(after_freeze())

    for line in lines:
        line.refresh_from_db()
        made = list(Commission.objects.filter(order_line=line))
        for c in made:
            assert 0 <= c.net_amount <= c.amount
            assert c.net_amount == c.amount * (line.paid_amount - line.refunded_amount) // line.paid_amount
        assert sum(c.amount for c in made) <= apply_bp(line.paid_amount, guard)
        assert sum(c.net_amount for c in made) <= apply_bp(line.paid_amount - line.refunded_amount, guard)

    for distributor in (a, b):
        entries = LedgerEntry.objects.filter(distributor=distributor)
        by_entry = sum(e.amount for e in entries)
        settled = Commission.objects.filter(distributor=distributor, status="settled")
        assert ledger.balance(distributor.pk) == by_entry
        assert by_entry == sum(c.net_amount for c in settled)
        assert by_entry >= 0
    assert Commission.objects.exclude(status="settled").exclude(status="cancelled").count() == 0
    assert (
        Commission.objects.filter(status="settled").aggregate(s=Sum("amount") - Sum("reversed_amount"))["s"]
        or 0
    ) == (LedgerEntry.objects.aggregate(s=Sum("amount"))["s"] or 0)


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shop=shops(), lines_spec=lines_strategy, discount_pct=st.integers(0, 95), settle_first=st.booleans())
def test_commission_invariants_hold_for_random_orders_and_refunds(
    people, shop, lines_spec, discount_pct, settle_first
):
    with transaction.atomic():
        try:
            _run(people, shop, lines_spec, discount_pct, settle_first)
        finally:
            transaction.set_rollback(True)


def _commission(level, amount):
    return Commission(level=level, amount=amount, capped=0)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(amounts=st.lists(st.integers(0, 10**6), min_size=1, max_size=3), cap=st.integers(0, 2 * 10**6))
def test_the_guard_trims_exactly_the_excess_deepest_level_first(amounts, cap):
    per_line = [_commission(level, amount) for level, amount in enumerate(amounts, start=1)]
    _apply_guard(per_line, cap)
    assert sum(c.amount for c in per_line) == min(sum(amounts), cap)
    for c, original in zip(per_line, amounts, strict=True):
        assert c.amount >= 0 and c.amount + c.capped == original
    # A level is trimmed only once every deeper level is down to zero.
    for shallow, deep in zip(per_line, per_line[1:], strict=False):
        assert not (shallow.capped and deep.amount)
