"""Overlapping settlement runs and simultaneous withdrawals, on real PostgreSQL connections."""

import pytest
from django.db.models import Count, Sum

from fenxiao.core.errors import DomainError
from fenxiao.distribution.models import (
    Commission,
    CustomerBinding,
    Distributor,
    LedgerEntry,
    SettlementBatch,
    Touch,
    Withdrawal,
)
from fenxiao.distribution.services import binding, settlement, withdrawals
from fenxiao.testing import make_buyer, make_product
from fenxiao.testing import run_together as race

from .helpers import (
    after_freeze,
    bound_buyer,
    buy,
    configure,
    earn,
    ledger_sum,
    make_distributor,
    receive,
    sku,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(target, n: int) -> list:
    """Start `n` threads that call target(i) at the same moment; return what each did."""
    results = []
    for outcome in race(n, target, start_timeout=10, join_timeout=60):
        if isinstance(outcome, DomainError):
            results.append(("refused", outcome.code))
        elif isinstance(outcome, BaseException):
            results.append(("crashed", repr(outcome)))
        else:
            results.append(("ok", outcome))
    assert not [r for r in results if r[0] == "crashed"], results
    return results


def test_two_settlement_runs_at_once_settle_each_commission_once(postgres_only):
    a = make_distributor()
    b = make_distributor(parent=a)
    products = [make_product(price=1000 * (i + 1)) for i in range(10)]
    receive(buy(bound_buyer(b), *((sku(p), 1) for p in products)))
    receive(buy(bound_buyer(b), (sku(products[0]), 3)))
    assert Commission.objects.filter(status="frozen").count() == 22
    due = after_freeze()

    run_together(lambda i: settlement.settle_due(due), 2)

    assert Commission.objects.filter(status="settled").count() == 22
    per_commission = (
        LedgerEntry.objects.filter(kind="commission").values("commission_id").annotate(n=Count("pk"))
    )
    assert len(per_commission) == 22 and {row["n"] for row in per_commission} == {1}
    # Level 1 (10%): 100 + 200 + … + 1000 = 5500, plus 3 × 1000 × 10% = 300 → 5800
    # Level 2 (5%):  50 + 100 + … + 500 = 2750, plus 3000 × 5% = 150 → 2900
    assert (ledger_sum(b), ledger_sum(a)) == (5800, 2900)
    batches = SettlementBatch.objects.aggregate(n=Sum("commission_count"), total=Sum("total"))
    assert (batches["n"], batches["total"]) == (22, 5800 + 2900)
    assert all(c.batch_id for c in Commission.objects.all())


def test_resuming_a_dead_run_while_new_runs_start_settles_each_commission_once(postgres_only, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    a = make_distributor()
    b = make_distributor(parent=a)
    products = [make_product(price=1000 * (i + 1)) for i in range(10)]
    receive(buy(bound_buyer(b), *((sku(p), 1) for p in products)))
    due = after_freeze()
    monkeypatch.setattr(settlement, "CHUNK", 2)
    real = settlement._settle_chunk
    calls = []

    def dies_on_the_third_chunk(batch, now, after):
        calls.append(after)
        if len(calls) == 3:
            raise RuntimeError("worker killed")
        return real(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", dies_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        settlement.settle_due(due)
    monkeypatch.setattr(settlement, "_settle_chunk", real)
    assert Commission.objects.filter(status="settled").count() == 4
    # The dead run's heartbeat has gone quiet.
    quiet_since = timezone.now() - timedelta(minutes=11)
    SettlementBatch.objects.filter(status="running").update(heartbeat_at=quiet_since)

    # Two sweepers and a fresh run, all at once.
    run_together(lambda i: settlement.settle_due(due) if i == 2 else settlement.resume_interrupted(), 3)

    assert Commission.objects.filter(status="settled").count() == 20
    per_commission = (
        LedgerEntry.objects.filter(kind="commission").values("commission_id").annotate(n=Count("pk"))
    )
    assert len(per_commission) == 20 and {row["n"] for row in per_commission} == {1}
    # Level 1: 100 + … + 1000 = 5500; level 2: 50 + … + 500 = 2750
    assert (ledger_sum(b), ledger_sum(a)) == (5500, 2750)
    assert set(SettlementBatch.objects.values_list("status", flat=True)) == {"settled"}
    batches = SettlementBatch.objects.aggregate(n=Sum("commission_count"), total=Sum("total"))
    assert (batches["n"], batches["total"]) == (20, 5500 + 2750)


def test_ten_simultaneous_withdrawals_never_overdraw(postgres_only):
    configure(withdraw_limit=100)
    b = make_distributor()
    earn(b, 100000)  # 100000 × 10% = 10000 available
    assert ledger_sum(b) == 10000

    def withdraw(i):
        distributor = Distributor.objects.get(pk=b.pk)
        return withdrawals.request(
            distributor,
            amount=1500,
            method="alipay",
            account={"name": "王五", "account": f"acct{i}@example.com"},
        )

    results = run_together(withdraw, 10)

    accepted = [r for r in results if r[0] == "ok"]
    refused = [r[1] for r in results if r[0] == "refused"]
    # 10000 // 1500 = 6 fit (9000); the other 4 find 1000 left.
    assert len(accepted) == 6
    assert set(refused) <= {"WITHDRAWAL_ABOVE_BALANCE", "WITHDRAWAL_LIMIT_REACHED"}
    assert len(refused) == 4
    holds = LedgerEntry.objects.filter(kind="withdrawal_hold").aggregate(s=Sum("amount"))["s"]
    assert -holds == 6 * 1500 <= 10000
    assert ledger_sum(b) == 10000 - 9000 >= 0
    assert Withdrawal.objects.count() == 6


def test_two_manual_batches_prepared_at_once_never_share_a_commission(postgres_only):
    configure(settlement_mode="manual")
    a = make_distributor()
    b = make_distributor(parent=a)
    products = [make_product(price=2000) for _ in range(8)]
    receive(buy(bound_buyer(b), *((sku(p), 1) for p in products)))
    due = after_freeze()

    results = run_together(lambda i: settlement.create_batch(due), 2)

    batches = [r[1] for r in results if r[1] is not None]
    claimed = SettlementBatch.objects.aggregate(n=Sum("commission_count"), total=Sum("total"))
    # 8 lines × (2000 × 10% + 2000 × 5%) = 8 × 300 = 2400, in 16 commissions
    assert (claimed["n"], claimed["total"]) == (16, 2400)
    assert Commission.objects.filter(batch__isnull=True).count() == 0
    for batch in batches:
        settlement.approve_batch(batch, None, now=due)
    assert LedgerEntry.objects.filter(kind="commission").count() == 16
    assert (ledger_sum(b), ledger_sum(a)) == (8 * 200, 8 * 100)


def test_two_first_visits_at_once_bind_the_buyer_once(postgres_only):
    configure(bind_mode="first")
    a, b = make_distributor(), make_distributor()
    for _ in range(3):
        buyer = make_buyer()
        results = run_together(lambda i, buyer=buyer: binding.record_touch(buyer, (a, b)[i], "link"), 2)
        decisions = sorted(r[1].decision for r in results)
        assert decisions == ["bound", "kept"]  # the loser of the race is kept, not a 500
        winner = CustomerBinding.objects.get(buyer=buyer).distributor
        assert Touch.objects.get(buyer=buyer, decision="bound").distributor == winner
