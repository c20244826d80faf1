"""Refunds reduce, cancel or claw back commission, exact to the fen."""

import pytest

from fenxiao.distribution.models import Commission, CommissionAdjustment, LedgerEntry
from fenxiao.testing import api_for, make_product

from .helpers import (
    bound_buyer,
    buy,
    commission,
    earn,
    full_refund,
    ledger_sum,
    line,
    receive,
    settle_now,
    sku,
    staff_refund,
    superuser,
)

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10%, level 2 = 5%, freeze 7 days.


def test_a_partial_refund_before_settlement_reduces_every_level_in_proportion(chain):
    a, b = chain
    cup = make_product("杯子", price=3333)
    order = receive(buy(bound_buyer(b), (sku(cup), 3)))
    # Paid 3 × 3333 = 9999. Level 1: 9999 × 10% = 999.9 → 999; level 2: 499.95 → 499.
    assert (commission(order, 1).amount, commission(order, 2).amount) == (999, 499)

    staff_refund(order, {"line_id": line(order).pk, "quantity": 1})

    # One unit back at its share: 9999 × 1 / 3 = 3333 refunded, 6666 still paid.
    # Level 1: 999 × 6666 / 9999 = 666 exactly       → reduced by 333
    # Level 2: 499 × 6666 / 9999 = 332.66… → 332     → reduced by 167
    assert line(order).refunded_amount == 3333
    one, two = commission(order, 1), commission(order, 2)
    assert (one.net_amount, one.reversed_amount, one.status) == (666, 333, "frozen")
    assert (two.net_amount, two.reversed_amount, two.status) == (332, 167, "frozen")
    assert list(
        CommissionAdjustment.objects.filter(commission=two).values_list("kind", "amount", "refunded_base")
    ) == [("reduced", 167, 3333)]

    staff_refund(order, {"line_id": line(order).pk, "quantity": 1})
    # A second unit: 3333 still paid, always measured from the original amount:
    # level 1: 999 × 3333 / 9999 = 333 exactly; level 2: 499 × 3333 / 9999 = 166.33… → 166
    assert (commission(order, 1).net_amount, commission(order, 2).net_amount) == (333, 166)

    batch = settle_now()
    assert batch.total == 333 + 166
    assert (ledger_sum(b), ledger_sum(a)) == (333, 166)


def test_a_refund_of_part_of_the_amount_reduces_in_proportion_to_the_amount(chain):
    a, b = chain
    coat = make_product("外套", price=12345)
    order = buy(bound_buyer(b), (sku(coat), 1))
    # Level 1: 12345 × 10% = 1234.5 → 1234; level 2: 617.25 → 617
    staff_refund(order, {"line_id": line(order).pk, "quantity": 0, "amount": 2345})
    # 10000 of 12345 still paid: 1234 × 10000 / 12345 = 999.59… → 999;
    #                            617 × 10000 / 12345 = 499.79… → 499
    assert (commission(order, 1).net_amount, commission(order, 2).net_amount) == (999, 499)
    assert commission(order, 1).status == "pending"


def test_a_full_refund_before_settlement_cancels_every_level(chain):
    a, b = chain
    shoes, socks = make_product("鞋", price=20000), make_product("袜", price=1500)
    order = receive(buy(bound_buyer(b), (sku(shoes), 1), (sku(socks), 2)))
    assert Commission.objects.filter(order=order).count() == 4

    full_refund(order)

    for c in Commission.objects.filter(order=order):
        assert (c.status, c.net_amount) == ("cancelled", 0)
    assert set(CommissionAdjustment.objects.values_list("kind", flat=True)) == {"cancelled"}
    assert settle_now() is None
    assert LedgerEntry.objects.count() == 0
    dash = api_for(b.user).get("/distribution/dashboard").json()
    assert (dash["commission_estimated"], dash["commission_total"]) == (0, 0)


def test_a_pending_order_cancelled_by_the_buyer_cancels_its_commission(chain):
    a, b = chain
    buyer = bound_buyer(b)
    order = buy(buyer, (sku(make_product(price=5000)), 1))
    reply = api_for(buyer).post(f"/orders/{order.number}/cancel", {"reason": "不想要了"})
    assert reply.status_code == 200, reply.content
    assert reply.json()["status"] == "cancelled"
    assert set(Commission.objects.values_list("status", flat=True)) == {"cancelled"}


def test_a_full_refund_after_settlement_claws_back_both_levels(chain):
    a, b = chain
    order = earn(b, 10000)
    # Settled: b 10000 × 10% = 1000, a 10000 × 5% = 500.
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)

    full_refund(order)

    clawbacks = LedgerEntry.objects.filter(kind="clawback").order_by("distributor_id")
    assert sorted((e.distributor_id, e.amount) for e in clawbacks) == sorted([(b.pk, -1000), (a.pk, -500)])
    for level in (1, 2):
        c = commission(order, level)
        assert (c.status, c.net_amount) == ("settled", 0)
        assert c.adjustments.get().kind == "clawback"
    assert (ledger_sum(b), ledger_sum(a)) == (0, 0)


def test_a_negative_balance_blocks_withdrawals_until_later_earnings_offset_it(chain):
    a, b = chain
    api = api_for(b.user)
    order = earn(b, 10000)  # b: +1000
    account = {"name": "王五", "account": "wangwu@alipay.com"}
    paid = api.post("/distribution/withdrawals", {"amount": 800, "method": "alipay", "account": account})
    assert paid.status_code == 201
    assert (
        api_for(superuser())
        .post(f"/staff/distribution/withdrawals/{paid.json()['number']}/approve")
        .json()["status"]
        == "paid"
    )
    assert ledger_sum(b) == 200  # 1000 − 800 withdrawn

    full_refund(order)  # clawback −1000 after the money has left

    assert ledger_sum(b) == -800
    assert api.get("/distribution/balance").json() == {"available": -800, "available_display": "-¥8.00"}
    refused = api.post("/distribution/withdrawals", {"amount": 100, "method": "alipay", "account": account})
    assert refused.status_code == 409
    assert refused.json()["code"] == "WITHDRAWAL_ABOVE_BALANCE"
    assert "退款追回" in refused.json()["message"]

    earn(b, 20000)  # +2000 (20000 × 10%): −800 + 2000 = 1200
    assert ledger_sum(b) == 1200
    again = api.post("/distribution/withdrawals", {"amount": 1200, "method": "alipay", "account": account})
    assert again.status_code == 201, again.content
    assert ledger_sum(b) == 0


def test_an_open_after_sale_holds_settlement_until_it_closes(chain):
    a, b = chain
    kettle = make_product("水壶", price=8000)
    buyer = bound_buyer(b)
    disputed = receive(buy(buyer, (sku(kettle), 1)))
    quiet = receive(buy(buyer, (sku(kettle), 1)))

    request = api_for(buyer).post(
        f"/orders/{disputed.number}/after-sales",
        {
            "kind": "refund_only",
            "reason": "有划痕",
            "lines": [{"line_id": line(disputed).pk, "quantity": 0, "amount": 2000}],
        },
    )
    assert request.status_code == 201, request.content
    assert request.json()["status"] == "requested"

    first = settle_now()
    # Only the quiet order: 8000 × 10% + 8000 × 5% = 800 + 400
    assert (first.commission_count, first.total) == (2, 1200)
    assert {c.status for c in disputed.commissions.all()} == {"frozen"}
    assert {c.status for c in quiet.commissions.all()} == {"settled"}

    staff = api_for(superuser())
    rejected = staff.post(
        f"/staff/after-sales/{request.json()['number']}/reject", {"reason": "划痕为使用痕迹，不予退款"}
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    second = settle_now()
    assert (second.commission_count, second.total) == (2, 1200)
    assert (ledger_sum(b), ledger_sum(a)) == (800 + 800, 400 + 400)


def test_an_approved_refund_closes_the_after_sale_and_the_reduced_commission_settles(chain):
    a, b = chain
    buyer = bound_buyer(b)
    order = receive(buy(buyer, (sku(make_product(price=8000)), 1)))
    request = (
        api_for(buyer)
        .post(
            f"/orders/{order.number}/after-sales",
            {
                "kind": "refund_only",
                "reason": "少发配件",
                "lines": [{"line_id": line(order).pk, "quantity": 0, "amount": 2000}],
            },
        )
        .json()
    )
    assert settle_now() is None

    approved = api_for(superuser()).post(f"/staff/after-sales/{request['number']}/approve")
    assert approved.status_code == 200
    assert approved.json()["status"] == "refunded"  # the sandbox paid the refund back

    # 6000 of 8000 still paid: level 1 800 × 6000 / 8000 = 600; level 2 400 × 6000 / 8000 = 300
    batch = settle_now()
    assert (batch.commission_count, batch.total) == (2, 900)
    assert (ledger_sum(b), ledger_sum(a)) == (600, 300)


def test_a_partial_refund_after_settlement_claws_back_only_the_share(chain):
    a, b = chain
    order = earn(b, 9999)
    # Settled: 9999 × 10% = 999, 9999 × 5% = 499
    staff_refund(order, {"line_id": line(order).pk, "quantity": 0, "amount": 3333})
    # 6666 still paid: 999 × 6666 / 9999 = 666 (claw back 333);
    #                  499 × 6666 / 9999 = 332 (claw back 167)
    assert sorted(LedgerEntry.objects.filter(kind="clawback").values_list("amount", flat=True)) == [
        -333,
        -167,
    ]
    assert (ledger_sum(b), ledger_sum(a)) == (666, 332)


def test_an_amount_only_refund_reduces_commission_by_the_amount_not_by_units(chain):
    a, b = chain
    cup = make_product("保温杯", price=9604)
    order = buy(bound_buyer(b), (sku(cup), 2))
    # Paid 19208. Level 1: 1920.8 → 1920; level 2: 960.4 → 960.
    assert (commission(order, 1).amount, commission(order, 2).amount) == (1920, 960)
    staff_refund(order, {"line_id": line(order).pk, "amount": 9604})
    # Half the money back, one of two units: level 1 × 9604 / 19208 = 960; level 2 = 480.
    assert (line(order).refunded_amount, line(order).refunded_quantity) == (9604, 1)
    assert (commission(order, 1).net_amount, commission(order, 2).net_amount) == (960, 480)
    assert commission(order, 1).status == "pending"
