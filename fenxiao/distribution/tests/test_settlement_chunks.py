"""Settlement in chunks: many commissions per transaction, each still settled exactly once
when runs overlap, die between chunks or meet an after-sale opened halfway."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, F, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.models import Commission, LedgerEntry, SettlementBatch
from fenxiao.distribution.services import settlement
from fenxiao.testing import api_for, make_product, postgres_only_marks, run_together

from .helpers import (
    after_freeze,
    assert_totals_match_history,
    bound_buyer,
    buy,
    configure,
    ledger_sum,
    line,
    make_distributor,
    receive,
    settle_now,
    sku,
    statuses,
    superuser,
)

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10%, level 2 = 5%, freeze 7 days, after-sale window 15 days.


def postgres_only(test):
    for mark in postgres_only_marks():
        test = mark(test)
    return test


def shop(distributors: int = 5, lines: int = 10):
    """`distributors` chains of two (a → b), each b with one received order of `lines`
    products priced 1000, 2000, …: 2 × distributors × lines frozen commissions."""
    products = [make_product(price=1000 * (i + 1)) for i in range(lines)]
    people = []
    for _ in range(distributors):
        a = make_distributor()
        b = make_distributor(parent=a)
        receive(buy(bound_buyer(b), *((sku(p), 1) for p in products)))
        people += [a, b]
    return people


def chunk_calls(monkeypatch, chunk: int, *, dies_at: int | None = None, before=None) -> list[int]:
    """Settle `chunk` commissions per transaction and record each chunk's start; the
    worker is killed as chunk number `dies_at` starts, and `before(n)` runs before chunk n."""
    monkeypatch.setattr(settlement, "CHUNK", chunk)
    real = settlement._settle_chunk
    calls = []

    def settle_chunk(batch, now, after):
        calls.append(after)
        if before is not None:
            before(len(calls))
        if len(calls) == dies_at:
            raise RuntimeError("worker killed")
        return real(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", settle_chunk)
    return calls


def assert_books_balance():
    """Each settled commission has exactly one ledger entry of its net amount, each
    distributor's balance is the sum of their settled commissions, and each batch's totals
    are the commissions it holds."""
    per_commission = (
        LedgerEntry.objects.filter(kind="commission").values("commission_id").annotate(n=Count("pk"))
    )
    assert {row["n"] for row in per_commission} <= {1}
    settled = Commission.objects.filter(status="settled")
    assert not settled.filter(batch__isnull=True).exists()
    assert set(LedgerEntry.objects.filter(kind="commission").values_list("commission_id", flat=True)) == set(
        settled.filter(amount__gt=F("reversed_amount")).values_list("pk", flat=True)
    )
    for row in settled.values("distributor_id").annotate(net=Sum("amount") - Sum("reversed_amount")):
        assert (
            LedgerEntry.objects.filter(distributor_id=row["distributor_id"]).aggregate(s=Sum("amount"))["s"]
            == row["net"]
        )
    for batch in SettlementBatch.objects.all():
        mine = Commission.objects.filter(batch=batch).aggregate(
            n=Count("pk"), net=Sum("amount") - Sum("reversed_amount")
        )
        assert (batch.commission_count, batch.total) == (mine["n"], mine["net"] or 0), batch
    # The dashboards' running totals moved with every chunk, however many distributors it paid.
    assert_totals_match_history()


@postgres_only
def test_a_run_settles_with_parallel_workers_each_commission_once(monkeypatch, settings):
    people = shop()
    settings.SETTLEMENT_WORKERS = 3
    monkeypatch.setattr(settlement, "CHUNK", 4)
    real, workers = settlement._settle_chunk, set()

    def settle_chunk(batch, now, after):
        workers.add(threading.get_ident())
        return real(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", settle_chunk)
    # Two runs at once, three workers each: six connections leapfrog through the windows.
    outcomes = run_together(2, lambda i: settlement.settle_due(after_freeze()))

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert len(workers) >= 3  # each run that found work ran three workers
    assert Commission.objects.filter(status="settled").count() == 100
    assert_books_balance()
    assert [ledger_sum(d) for d in people] == [2750, 5500] * 5


@postgres_only
def test_two_chunked_runs_at_once_settle_each_commission_once(monkeypatch):
    people = shop()
    assert Commission.objects.filter(status="frozen").count() == 100
    monkeypatch.setattr(settlement, "CHUNK", 7)
    due = after_freeze()

    outcomes = run_together(2, lambda i: settlement.settle_due(due))

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert Commission.objects.filter(status="settled").count() == 100
    assert LedgerEntry.objects.filter(kind="commission").count() == 100
    assert_books_balance()
    # Each b: (1000 + … + 10000) × 10% = 5500; each a: × 5% = 2750
    assert [ledger_sum(d) for d in people] == [2750, 5500] * 5
    assert set(SettlementBatch.objects.values_list("status", flat=True)) == {"settled"}
    batches = SettlementBatch.objects.aggregate(n=Sum("commission_count"), total=Sum("total"))
    assert (batches["n"], batches["total"]) == (100, 5 * (5500 + 2750))


@pytest.mark.parametrize("finisher", ["sweeper", "next_run"])
def test_a_run_killed_between_chunks_loses_nothing_and_pays_nothing_twice(monkeypatch, finisher):
    people = shop(distributors=2, lines=5)  # 20 commissions
    calls = chunk_calls(monkeypatch, 7, dies_at=3)
    with pytest.raises(RuntimeError):
        settle_now()
    # Two chunks of 7 committed; the third died before touching anything.
    assert len(calls) == 3
    dead = SettlementBatch.objects.get()
    assert (dead.status, dead.commission_count) == ("running", 14)
    assert Commission.objects.filter(status="settled").count() == 14
    assert_books_balance()

    chunk_calls(monkeypatch, 7)
    if finisher == "sweeper":
        assert settlement.resume_interrupted(timezone.now() + timedelta(minutes=5)) == []
        [resumed] = settlement.resume_interrupted(timezone.now() + timedelta(minutes=11))
        assert (resumed.pk, resumed.status, resumed.commission_count) == (dead.pk, "settled", 20)
    else:
        fresh = settle_now()
        assert (fresh.status, fresh.commission_count) == ("settled", 6)
        [resumed] = settlement.resume_interrupted(timezone.now() + timedelta(minutes=11))
        assert (resumed.pk, resumed.status, resumed.commission_count) == (dead.pk, "settled", 14)
    assert Commission.objects.filter(status="settled").count() == 20
    assert_books_balance()
    # Each b: (1000 + … + 5000) × 10% = 1500; each a: × 5% = 750
    assert [ledger_sum(d) for d in people] == [750, 1500] * 2
    assert settle_now() is None
    assert settlement.resume_interrupted(timezone.now() + timedelta(minutes=30)) == []


def test_an_after_sale_opened_between_chunks_keeps_its_commission_out(chain, lamp, monkeypatch):
    a, b = chain
    buyers = [bound_buyer(b) for _ in range(3)]
    orders = [receive(buy(buyer, (sku(lamp), 1))) for buyer in buyers]  # 2 commissions each

    def open_after_sale(n):
        if n == 2:  # chunk 1 (the first order) has committed; the second order is next
            reply = api_for(buyers[1]).post(
                f"/orders/{orders[1].number}/after-sales",
                {
                    "kind": "refund_only",
                    "reason": "有划痕",
                    "lines": [{"line_id": line(orders[1]).pk, "quantity": 0, "amount": 2000}],
                },
            )
            assert reply.status_code == 201, reply.content
            opened.append(reply.json()["number"])

    opened = []
    chunk_calls(monkeypatch, 2, before=open_after_sale)
    batch = settle_now()

    assert (batch.commission_count, batch.total) == (4, 3000)  # orders 1 and 3: 1000 + 500 each
    assert statuses(orders[0]) == statuses(orders[2]) == {"settled"}
    held = Commission.objects.filter(order=orders[1])
    assert set(held.values_list("status", "batch")) == {("frozen", None)}
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)

    # Staff reject the request: the after-sale closes and the next run pays the commission.
    rejected = api_for(superuser()).post(
        f"/staff/after-sales/{opened[0]}/reject", {"reason": "划痕为使用痕迹，不予退款"}
    )
    assert rejected.status_code == 200, rejected.content
    later = settle_now()
    assert (later.commission_count, later.total) == (2, 1500)
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
    assert_books_balance()


def test_an_approved_manual_batch_is_settled_in_chunks(monkeypatch):
    configure(settlement_mode="manual")
    people = shop(distributors=2, lines=4)  # 16 commissions
    batch = settlement.create_batch(after_freeze())
    assert (batch.commission_count, batch.total) == (16, 2 * (1000 + 500))

    calls = chunk_calls(monkeypatch, 5)
    approved = settlement.approve_batch(batch, superuser(), now=after_freeze())

    assert len(calls) == 5  # 5 + 5 + 5 + 1, then one that finds nothing left
    assert (approved.status, approved.commission_count, approved.total) == ("settled", 16, 3000)
    assert Commission.objects.filter(batch=batch, status="settled").count() == 16
    # Each b: (1000 + … + 4000) × 10% = 1000; each a: × 5% = 500
    assert [ledger_sum(d) for d in people] == [500, 1000] * 2
    assert_books_balance()


def test_the_ledger_notes_name_the_order_and_the_level(chain, lamp):
    order = receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    settle_now()
    entries = LedgerEntry.objects.filter(kind="commission").order_by("commission__level")
    assert [(e.amount, e.note, e.source_key) for e in entries] == [
        (c.net_amount, f"订单 {order.pk} {c.level}级佣金结算", f"commission:{c.pk}")
        for c in Commission.objects.filter(order=order).order_by("level")
    ]


def queries_to_settle(orders: int) -> int:
    a = make_distributor()
    b = make_distributor(parent=a)
    lamp = make_product(price=10000)
    for _ in range(orders):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    with CaptureQueriesContext(connection) as captured:
        batch = settle_now()
    assert batch.commission_count == 2 * orders
    return len(captured.captured_queries)


def test_a_run_takes_as_many_queries_for_many_commissions_as_for_few():
    few = queries_to_settle(1)
    many = queries_to_settle(12)
    assert many == few
