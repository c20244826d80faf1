"""Settlement runs (auto, manual, on their cycle days) and the grade upgrades that follow."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.distribution.models import Commission, DistributorGrade, SettlementBatch
from fenxiao.distribution.services import config, distributors, grades, settlement, settlement_cycle
from fenxiao.orders.models import OrderSettings
from fenxiao.testing import api_for, make_staff

from .helpers import (
    after_freeze,
    bound_buyer,
    buy,
    configure,
    earn,
    ledger_sum,
    make_distributor,
    receive,
    settle_now,
    sku,
    statuses,
    superuser,
    suspend,
    travel,
)

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10%, level 2 = 5%, freeze 7 days.


@pytest.fixture(autouse=True)
def no_after_sale_window():
    """These tests are about the freeze, batches and cycles: with no after-sale window the
    freeze alone decides. The window's hold is tested in test_settlement_safety."""
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=0)


def test_auto_settlement_settles_only_frozen_commission_whose_freeze_has_ended(chain, lamp):
    a, b = chain
    start = timezone.now()
    completed = receive(buy(bound_buyer(b), (sku(lamp), 1)))  # frozen until day 7
    unshipped = buy(bound_buyer(b), (sku(lamp), 1))  # pending
    with travel(timedelta(days=3)):
        later = receive(buy(bound_buyer(b), (sku(lamp), 1)))  # frozen until day 10

    assert settlement.settle_due(start + timedelta(days=6)) is None
    batch = settlement.settle_due(start + timedelta(days=7, minutes=5))
    # Only the first order: 10000 × 10% + 10000 × 5% = 1000 + 500
    assert (batch.mode, batch.status, batch.commission_count, batch.total) == ("auto", "settled", 2, 1500)
    assert statuses(completed) == {"settled"}
    assert statuses(unshipped) == {"pending"}
    assert statuses(later) == {"frozen"}
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)

    second = settlement.settle_due(start + timedelta(days=10, minutes=5))
    assert (second.commission_count, second.total) == (2, 1500)
    assert settlement.settle_due(start + timedelta(days=30)) is None  # each settled once
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)
    assert statuses(unshipped) == {"pending"}


def test_freeze_days_come_from_the_settings(chain, lamp):
    configure(freeze_days=15)
    a, b = chain
    start = timezone.now()
    order = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    frozen_until = order.commissions.first().frozen_until
    assert abs(frozen_until - (order.completed_at + timedelta(days=15))) < timedelta(seconds=1)
    assert settlement.settle_due(start + timedelta(days=14)) is None
    assert settlement.settle_due(start + timedelta(days=15, minutes=5)).total == 1500


def test_a_settlement_that_died_halfway_settles_the_rest_on_the_next_run(chain, lamp, monkeypatch):
    a, b = chain
    for _ in range(3):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    monkeypatch.setattr(settlement, "CHUNK", 2)
    real_settle_chunk = settlement._settle_chunk
    calls = []

    def dies_on_the_second_chunk(batch, now, after):
        calls.append(after)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_settle_chunk(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        settle_now()
    monkeypatch.setattr(settlement, "_settle_chunk", real_settle_chunk)
    assert Commission.objects.filter(status="settled").count() == 2

    # The dead run's batch still tells the truth about what it settled: 1000 + 500.
    dead = SettlementBatch.objects.get()
    assert (dead.commission_count, dead.total) == (2, 1500)

    settle_now()
    assert Commission.objects.filter(status="settled").count() == 6
    # 3 orders × (1000 + 500), each commission credited once
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
    assert Commission.objects.filter(ledger_entries__isnull=True).count() == 0


def test_a_run_that_finds_everything_already_settled_leaves_no_empty_batch(chain, lamp, monkeypatch):
    receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    # An overlapping run got to every commission between our check and our first claim.
    monkeypatch.setattr(settlement, "_settle_chunk", lambda batch, now, after: None)
    assert settle_now() is None
    assert SettlementBatch.objects.count() == 0


def test_manual_mode_batch_is_reviewed_then_approved(chain, lamp):
    configure(settlement_mode="manual")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    receive(buy(bound_buyer(b), (sku(lamp), 2)))
    finance = make_staff(perms=["distribution.add_settlementbatch", "distribution.change_settlementbatch"])
    api = api_for(finance)

    with travel(timedelta(days=7, minutes=5)):
        created = api.post("/staff/distribution/settlements/batches")
        assert created.status_code == 200, created.content
        # 10000 → 1000 + 500; 20000 → 2000 + 1000
        assert {k: created.json()[k] for k in ("mode", "status", "commission_count", "total")} == {
            "mode": "manual",
            "status": "pending_review",
            "commission_count": 4,
            "total": 4500,
        }
        assert Commission.objects.filter(status="frozen").count() == 4  # nothing paid yet
        assert ledger_sum(b) == 0
        assert api.post("/staff/distribution/settlements/batches").json() is None  # all taken

        approved = api.post(f"/staff/distribution/settlements/batches/{created.json()['id']}/approve")
        assert approved.status_code == 200, approved.content
        assert approved.json()["status"] == "settled"
        assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
        again = api.post(f"/staff/distribution/settlements/batches/{created.json()['id']}/approve")
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_STATE_TRANSITION"
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
    batch = SettlementBatch.objects.get()
    assert batch.approved_by == finance


def test_cancelling_a_manual_batch_releases_its_commission_for_the_next_one(chain, lamp):
    configure(settlement_mode="manual")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    staff = superuser()

    batch = settlement.create_batch(after_freeze(), staff=staff)
    assert (batch.commission_count, batch.total) == (2, 1500)
    assert settlement.create_batch(after_freeze(), staff=staff) is None

    cancelled = settlement.cancel_batch(batch, staff)
    assert cancelled.status == "cancelled"
    assert list(Commission.objects.values_list("status", "batch")) == [("frozen", None)] * 2
    assert ledger_sum(b) == 0

    retry = settlement.create_batch(after_freeze(), staff=staff)
    assert (retry.commission_count, retry.total) == (2, 1500)
    settlement.approve_batch(retry, staff, now=after_freeze())
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)
    assert SettlementBatch.objects.get(pk=batch.pk).status == "cancelled"


def test_an_approval_that_died_halfway_is_finished_by_the_sweeper(chain, lamp, monkeypatch):
    configure(settlement_mode="manual")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    staff = superuser()
    batch = settlement.create_batch(after_freeze(), staff=staff)
    assert batch.commission_count == 4
    monkeypatch.setattr(settlement, "CHUNK", 3)
    real_settle_chunk = settlement._settle_chunk
    calls = []

    def dies_on_the_second_chunk(batch, now, after):
        calls.append(after)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real_settle_chunk(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", dies_on_the_second_chunk)
    with pytest.raises(RuntimeError):
        settlement.approve_batch(batch, staff, now=after_freeze())
    monkeypatch.setattr(settlement, "_settle_chunk", real_settle_chunk)
    assert Commission.objects.filter(status="settled").count() == 3  # the first chunk
    batch.refresh_from_db()
    assert batch.status == "running"  # approved, not finished: still holds its commission
    assert settlement.create_batch(after_freeze(), staff=staff) is None

    # The sweeper finds the approval quiet for over 10 minutes and finishes it.
    assert settlement.resume_interrupted(timezone.now() + timedelta(minutes=5)) == []
    [finished] = settlement.resume_interrupted(timezone.now() + timedelta(minutes=11))
    assert (finished.pk, finished.status, finished.commission_count, finished.total) == (
        batch.pk,
        "settled",
        4,
        3000,
    )

    assert Commission.objects.filter(status="settled").count() == 4
    # 2 orders × (10000 × 10%, 10000 × 5%), each commission credited once
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)
    assert Commission.objects.filter(ledger_entries__isnull=True).count() == 0


def test_a_refund_while_a_batch_waits_for_review_is_left_out_of_it(chain, lamp):
    from .helpers import full_refund

    configure(settlement_mode="manual")
    a, b = chain
    kept = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    refunded = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settlement.create_batch(after_freeze())
    assert batch.commission_count == 4

    full_refund(refunded)
    approved = settlement.approve_batch(batch, superuser(), now=after_freeze())

    # Only the kept order: 1000 + 500
    assert (approved.commission_count, approved.total) == (2, 1500)
    assert statuses(kept) == {"settled"} and statuses(refunded) == {"cancelled"}
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)


def local_day(days_ahead: int, weekday: int | None = None, day: int | None = None):
    """02:30 local time on the first matching day at least `days_ahead` days from now."""
    moment = timezone.localtime() + timedelta(days=days_ahead)
    moment = moment.replace(hour=2, minute=30, second=0, microsecond=0)
    while (weekday is not None and moment.weekday() != weekday) or (day is not None and moment.day != day):
        moment += timedelta(days=1)
    return moment


@pytest.mark.parametrize(
    ("cycle", "due_day"),
    [
        ("daily", {}),
        ("weekly", {"weekday": 0}),  # Mondays
        ("monthly", {"day": 1}),  # the 1st
    ],
)
def test_the_scheduled_run_settles_on_its_cycle_day_only(chain, lamp, cycle, due_day):
    configure(settlement_cycle=cycle)
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    run_day = local_day(9, **due_day)

    if cycle != "daily":
        assert settlement_cycle.run_scheduled(run_day + timedelta(days=1)) is None
        assert settlement_cycle.run_scheduled(run_day - timedelta(days=1)) is None
        assert ledger_sum(b) == 0
    batch = settlement_cycle.run_scheduled(run_day)
    assert (batch.mode, batch.status, batch.total) == ("auto", "settled", 1500)
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)


def test_the_scheduled_run_in_manual_mode_prepares_a_batch(chain, lamp):
    configure(settlement_mode="manual", settlement_cycle="weekly")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settlement_cycle.run_scheduled(local_day(9, weekday=0))
    assert (batch.mode, batch.status, batch.total) == ("manual", "pending_review", 1500)
    assert ledger_sum(b) == 0


def make_grade(name, weight, **fields):
    return config.save_grade(DistributorGrade(name=name, weight=weight, **fields))


def test_grades_upgrade_after_settlement_all_or_any_and_never_down_by_themselves(chain):
    normal = make_grade("普通", 1, is_default=True)
    senior = make_grade("高级", 2, logic="all", min_own_orders=1, min_settled_commission=1000)
    gold = make_grade("金牌", 3, logic="all", min_own_orders=1, min_settled_commission=100000)
    diamond = make_grade("钻石", 4, logic="any", min_direct_team=2, min_team_sales=10**9)
    a = make_distributor()
    b = make_distributor(parent=a)
    assert (a.grade, b.grade) == (normal, normal)

    earn(b, 10000)
    b.refresh_from_db()
    a.refresh_from_db()
    # b: 1 completed order and 10000 × 10% = 1000 settled → 高级 (all met);
    # 金牌 needs ¥1000 settled as well as the order: not all met.
    assert b.grade == senior
    assert a.grade == normal  # a's 500 at level 2 is no own order

    members = [make_distributor(parent=b), make_distributor(parent=b)]
    grades.upgrade()  # the daily run
    b.refresh_from_db()
    assert b.grade == diamond  # any: 2 direct team members is enough

    for member in members:
        suspend(member)
    grades.upgrade()
    earn(b, 10000)
    b.refresh_from_db()
    assert b.grade == diamond  # no longer qualifies, never downgraded automatically

    # By hand, both ways.
    distributors.set_grade(b, normal)
    b.refresh_from_db()
    assert b.grade == normal
    c = make_distributor()
    distributors.set_grade(c, gold)
    grades.upgrade()
    c.refresh_from_db()
    assert c.grade == gold  # qualifies for nothing, keeps what staff gave
    distributors.set_grade(c, normal)
    grades.upgrade()
    c.refresh_from_db()
    assert c.grade == normal
