"""Running totals stay equal to the history they summarise, after every real flow.

Each step goes through the services and APIs a real user drives, then compares every
distributor's `DistributorTotals` row with the figures recomputed from commissions, the
ledger, withdrawals and level-1 orders (`totals.computed`).
"""

import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from fenxiao.distribution.models import DistributorTotals
from fenxiao.distribution.services import dashboard, distributors, ledger, totals
from fenxiao.testing import api_for, make_product, make_staff

from .helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    configure,
    earn,
    full_refund,
    line,
    make_distributor,
    receive,
    settle_now,
    sku,
    staff_refund,
    suspend,
)

pytestmark = pytest.mark.django_db

BANK = {"name": "王五", "bank": "招商银行杭州分行", "account": "6225880000000000"}


def stored(distributor) -> dict:
    return totals.stored([distributor.pk])[distributor.pk]


def test_pay_complete_partial_refund_settle_and_claw_back(chain):
    a, b = chain
    buyer = bound_buyer(b)
    order = buy(buyer, (sku(make_product(price=10000)), 2), (sku(make_product(price=5000)), 1))
    assert_totals_match_history()
    # b at 10%: 2000 + 500; a at 5%: 1000 + 250 — all pending; b sold 25000 in one order.
    assert stored(b) == {
        "pending": 2500,
        "frozen": 0,
        "settled": 0,
        "balance": 0,
        "withdrawn": 0,
        "orders": 1,
        "sales": 25000,
    }
    assert stored(a)["pending"] == 1250 and stored(a)["orders"] == 0

    staff_refund(order, {"line_id": line(order).pk, "quantity": 1})  # one of two units
    assert_totals_match_history()
    assert (stored(b)["pending"], stored(b)["sales"]) == (1500, 15000)

    receive(order)
    assert_totals_match_history()
    assert (stored(b)["pending"], stored(b)["frozen"]) == (0, 1500)

    settle_now()
    assert_totals_match_history()
    assert (stored(b)["frozen"], stored(b)["settled"], stored(b)["balance"]) == (0, 1500, 1500)

    staff_refund(order, {"line_id": line(order, 1).pk, "quantity": 0, "amount": 2000})  # after settlement
    assert_totals_match_history()
    # b's 500 on the ¥50 line shrinks to 500 × 3000 // 5000 = 300: 200 clawed back.
    assert (stored(b)["settled"], stored(b)["balance"], stored(b)["sales"]) == (1300, 1300, 13000)
    assert stored(b)["balance"] == ledger.balance(b.pk)


def test_settling_for_a_distributor_without_a_totals_row_makes_the_row(chain):
    a, b = chain
    order = buy(bound_buyer(b), (sku(make_product(price=10000)), 1))
    receive(order)
    DistributorTotals.objects.filter(pk=b.pk).delete()  # a row lost, or never built
    settle_now()
    # The chunk moves a's row and leaves b's to be made: b's row holds only what the
    # settlement moved (the lost row's earlier figures are the rebuild's to restore).
    assert (stored(b)["frozen"], stored(b)["settled"], stored(b)["balance"]) == (-1000, 1000, 1000)
    assert (stored(a)["frozen"], stored(a)["settled"], stored(a)["balance"]) == (0, 500, 500)
    totals.rebuild([b.pk])
    assert_totals_match_history()


def test_a_full_refund_before_settlement_cancels_and_after_it_claws_back(chain):
    a, b = chain
    buyer = bound_buyer(b)
    pending = buy(buyer, (sku(make_product(price=8000)), 1))
    frozen = receive(buy(buyer, (sku(make_product(price=6000)), 1)))
    full_refund(pending)
    assert_totals_match_history()
    full_refund(frozen)
    assert_totals_match_history()
    assert stored(b) == dict.fromkeys(stored(b), 0) | {"orders": 2}

    settled = earn(b, 10000)
    assert_totals_match_history()
    full_refund(settled)
    assert_totals_match_history()
    assert (stored(b)["settled"], stored(b)["balance"], stored(a)["balance"]) == (0, 0, 0)


def test_a_buyer_cancelling_before_payment_leaves_the_totals_alone(chain):
    a, b = chain
    buyer = bound_buyer(b)
    order = buy(buyer, (sku(make_product(price=5000)), 1))
    reply = api_for(buyer).post(f"/orders/{order.number}/cancel", {"reason": "不想要了"})
    assert reply.status_code == 200, reply.content
    assert_totals_match_history()


def test_a_suspended_level_1_still_counts_the_sale_it_does_not_earn_on(chain):
    a, b = chain
    buyer = bound_buyer(b)
    suspend(b)
    buy(buyer, (sku(make_product(price=4000)), 1))
    assert_totals_match_history()
    assert (stored(b)["orders"], stored(b)["sales"], stored(b)["pending"]) == (1, 4000, 0)


@pytest.mark.parametrize("decision", ["void", "release"])
def test_a_ban_voids_or_releases_held_commission(chain, decision):
    a, b = chain
    buyer = bound_buyer(b)
    earn(b, 10000)
    receive(buy(buyer, (sku(make_product(price=3000)), 1)))
    buy(buyer, (sku(make_product(price=2000)), 1))
    assert_totals_match_history()

    distributors.ban(b, make_staff(), decision=decision, reason="刷单")
    assert_totals_match_history()
    held = (stored(b)["pending"], stored(b)["frozen"])
    assert held == ((0, 0) if decision == "void" else (200, 300))

    settle_now()
    assert_totals_match_history()
    assert stored(b)["balance"] == (1000 if decision == "void" else 1300) == ledger.balance(b.pk)


def test_withdrawals_requested_rejected_paid_and_failed():
    configure(withdraw_limit=100)
    b = make_distributor()
    earn(b, 100000)  # 10000 settled
    app = api_for(b.user)
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))

    def ask(amount, method="bank", account=BANK):
        reply = app.post(
            "/distribution/withdrawals", {"amount": amount, "method": method, "account": account}
        )
        assert reply.status_code == 201, reply.content
        assert_totals_match_history()
        return reply.json()["number"]

    def staff(number, action, **body):
        assert (
            finance.post(f"/staff/distribution/withdrawals/{number}/{action}", body or None).status_code
            == 200
        )
        assert_totals_match_history()

    staff(ask(1000), "reject", reason="信息有误")
    wallet = ask(1500, method="store_credit", account={})
    staff(wallet, "approve")  # paid at once
    bank = ask(2000)
    staff(bank, "approve")
    staff(bank, "paid", reference="CMB-1")
    bounced = ask(2500)
    staff(bounced, "approve")
    staff(bounced, "failed", reason="账户已销户")
    alipay = ask(500, method="alipay", account={"name": "王五", "account": "wangwu@example.com"})
    staff(alipay, "approve")  # the sandbox pays it

    assert (stored(b)["withdrawn"], stored(b)["balance"]) == (1500 + 2000 + 500, 10000 - 4000)
    assert stored(b)["balance"] == ledger.balance(b.pk)
    figures = dashboard.figures(b)
    assert (figures["commission_withdrawn"], figures["commission_available"]) == (4000, 6000)


def test_rebuild_and_the_command_repair_drifted_rows(chain):
    a, b = chain
    earn(b, 10000)
    buy(bound_buyer(b), (sku(make_product(price=3000)), 1))
    DistributorTotals.objects.filter(pk=b.pk).update(balance=123, sales=0)
    DistributorTotals.objects.filter(pk=a.pk).delete()
    assert set(totals.mismatches()) == {a.pk, b.pk}

    out = StringIO()
    call_command("rebuild_distributor_totals", "--check", stdout=out)
    assert "2 distributor(s) differ" in out.getvalue()
    assert totals.mismatches() != {}  # a check changes nothing

    call_command("rebuild_distributor_totals", stdout=StringIO())
    assert_totals_match_history()
    assert totals.rebuild([b.pk]) == 1
    assert_totals_match_history()


def test_the_migration_builds_rows_equal_to_history(chain):
    a, b = chain
    earn(b, 10000)
    order = buy(bound_buyer(b), (sku(make_product(price=3000)), 1))
    staff_refund(order, {"line_id": line(order).pk, "quantity": 0, "amount": 1000})
    make_distributor()  # no history at all
    DistributorTotals.objects.all().delete()

    migration = importlib.import_module("fenxiao.distribution.migrations.0007_distributor_totals")
    migration.build_totals(apps, None)

    assert DistributorTotals.objects.count() == 3
    assert_totals_match_history()


def test_unknown_fields_are_refused_and_zero_deltas_write_nothing(django_assert_num_queries):
    b = make_distributor()
    with pytest.raises(ValueError):
        totals.add({b.pk: {"balanse": 1}})
    with django_assert_num_queries(0):
        totals.add({b.pk: {"balance": 0}})
    DistributorTotals.objects.filter(pk=b.pk).delete()  # a row lost, or never built
    with django_assert_num_queries(3):  # update finds no row, create it, update again
        totals.add({b.pk: {"balance": 5}})
    with django_assert_num_queries(1):
        totals.add({b.pk: {"balance": -5, "orders": 1}})
    assert stored(b)["balance"] == 0 and stored(b)["orders"] == 1


def test_many_distributors_are_updated_together_in_a_fixed_number_of_statements(
    django_assert_num_queries, monkeypatch
):
    """A settlement or auto-complete chunk pays thousands of distributors: their rows are
    locked in one ordered statement and updated in one joined statement per part."""
    monkeypatch.setattr(totals, "MANY_PER_STATEMENT", 3)
    people = [make_distributor() for _ in range(7)]
    DistributorTotals.objects.filter(pk=people[0].pk).delete()  # a row lost, or never built
    changes = totals.deltas()
    for n, person in enumerate(people, start=1):
        changes[person.pk]["frozen"] -= n
        changes[person.pk]["settled"] += n
        changes[person.pk]["balance"] += 2 * n
    # lock, create the missing row, lock it, then 7 rows in three parts
    with django_assert_num_queries(6):
        totals.add(changes)
    assert [stored(p)["settled"] for p in people] == [1, 2, 3, 4, 5, 6, 7]
    assert [stored(p)["balance"] for p in people] == [2, 4, 6, 8, 10, 12, 14]
    assert [stored(p)["frozen"] for p in people] == [-1, -2, -3, -4, -5, -6, -7]
    with django_assert_num_queries(4):  # every row there: lock, then three parts
        totals.add(changes)
    assert stored(people[6])["settled"] == 14


def test_commission_moves_groups_a_bulk_move_in_one_query(chain, django_assert_num_queries):
    """What bulk callers (settlement chunks, the bulk freeze) wire themselves with."""
    from fenxiao.distribution.models import Commission

    a, b = chain
    order = receive(
        buy(bound_buyer(b), (sku(make_product(price=10000)), 1), (sku(make_product(price=3000)), 1))
    )
    frozen = Commission.objects.filter(order=order, status="frozen")

    with django_assert_num_queries(1):
        moves = totals.commission_moves(frozen, "frozen", "settled", credit_balance=True)

    assert {pk: dict(v) for pk, v in moves.items()} == {
        b.pk: {"frozen": -1300, "settled": 1300, "balance": 1300},
        a.pk: {"frozen": -650, "settled": 650, "balance": 650},
    }
    cancelled = totals.commission_moves(frozen, "frozen", "cancelled")
    assert dict(cancelled[b.pk]) == {"frozen": -1300}
