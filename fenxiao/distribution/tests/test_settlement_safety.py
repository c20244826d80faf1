"""Settlement that strands nothing and pays nothing early: interrupted runs are resumed,
the after-sale window holds commission, inactive distributors wait, a ban decides what
becomes of held commission, day counts are bounded, missed cycle days are caught up."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.distribution import tasks
from fenxiao.distribution.models import (
    Commission,
    DistributionSettings,
    DistributorGrade,
    LedgerEntry,
    SettlementBatch,
    SettlementCycleRun,
)
from fenxiao.distribution.services import config, distributors, grades, settlement, settlement_cycle
from fenxiao.orders.models import OrderSettings
from fenxiao.testing import api_for, login, make_product, make_staff

from .helpers import (
    after_freeze,
    assert_totals_match_history,
    bound_buyer,
    buy,
    configure,
    full_refund,
    ledger_sum,
    make_distributor,
    receive,
    settle_now,
    sku,
    staff_refund,
    statuses,
    suspend,
    travel,
)

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10%, level 2 = 5%, freeze 7 days, after-sale window 15 days.


def set_after_sale_days(days: int) -> None:
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=days)


def killed_at(n: int, monkeypatch, run=settle_now, chunk: int = 1) -> None:
    """`run()` settling `chunk` commissions per transaction, the worker killed as its n-th
    chunk starts (after n - 1 chunks committed), as a deploy's SIGTERM would; runs after it
    are healthy again. With the default of one commission per chunk, n - 1 are settled."""
    monkeypatch.setattr(settlement, "CHUNK", chunk)
    real = settlement._settle_chunk
    calls = []

    def settle_chunk(batch, now, after):
        calls.append(after)
        if len(calls) == n:
            raise RuntimeError("worker killed")
        return real(batch, now, after)

    monkeypatch.setattr(settlement, "_settle_chunk", settle_chunk)
    with pytest.raises(RuntimeError):
        run()
    monkeypatch.setattr(settlement, "_settle_chunk", real)


# --- an interrupted run is resumed -----------------------------------------------------------


def test_a_run_killed_halfway_is_finished_by_the_sweeper(chain, lamp, monkeypatch):
    a, b = chain
    for _ in range(3):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    killed_at(3, monkeypatch)
    dead = SettlementBatch.objects.get()
    assert (dead.status, dead.commission_count, dead.total) == ("running", 2, 1500)

    # A run still making progress is left alone.
    with travel(timedelta(minutes=5)):
        tasks.resume_interrupted_settlements.call_local()
    assert SettlementBatch.objects.get().status == "running"

    # Quiet for more than 10 minutes: the periodic sweeper finishes it, in the same batch.
    with travel(timedelta(minutes=11)):
        tasks.resume_interrupted_settlements.call_local()
    batch = SettlementBatch.objects.get()
    assert (batch.pk, batch.status, batch.commission_count, batch.total) == (dead.pk, "settled", 6, 4500)
    # 3 orders × (1000 + 500), each commission credited once
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)
    per_commission = (
        LedgerEntry.objects.filter(kind="commission").values("commission_id").annotate(n=Count("pk"))
    )
    assert len(per_commission) == 6 and {row["n"] for row in per_commission} == {1}

    # Sweeping again, or running again, settles nothing twice.
    with travel(timedelta(minutes=30)):
        assert settlement.resume_interrupted() == []
    assert settle_now() is None
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)


def test_a_new_run_and_the_resume_of_a_dead_one_settle_each_commission_once(chain, lamp, monkeypatch):
    a, b = chain
    for _ in range(3):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    killed_at(2, monkeypatch)
    dead = SettlementBatch.objects.get()

    fresh = settle_now()  # the next run takes what the dead one left
    assert (fresh.status, fresh.commission_count) == ("settled", 5)
    [resumed] = settlement.resume_interrupted(timezone.now() + timedelta(minutes=11))
    assert (resumed.pk, resumed.status, resumed.commission_count) == (dead.pk, "settled", 1)
    assert Commission.objects.filter(status="settled").count() == 6
    assert (ledger_sum(b), ledger_sum(a)) == (3000, 1500)


def test_a_run_killed_before_settling_anything_leaves_no_empty_batch(chain, lamp, monkeypatch):
    receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    killed_at(1, monkeypatch)
    assert SettlementBatch.objects.get().status == "running"
    settle_now()  # a later run settles everything first
    assert settlement.resume_interrupted(timezone.now() + timedelta(minutes=11)) == []
    assert list(SettlementBatch.objects.values_list("status", "commission_count")) == [("settled", 2)]


def test_a_batch_removed_by_an_overlapping_run_is_skipped_by_the_sweeper(chain, lamp, monkeypatch):
    """A sweeper listed a quiet batch, then the run that owned it closed it empty (and
    removed it) before the sweeper got to it: the sweeper moves on, nothing crashes."""
    quiet = SettlementBatch.objects.create(
        mode="auto", status="running", cutoff=timezone.now(), approved_at=timezone.now()
    )
    listed = SettlementBatch.objects.get(pk=quiet.pk)
    quiet.delete()
    with pytest.raises(DomainError) as refused:
        settlement.resume_batch(listed)
    assert refused.value.status == 409

    gone = SettlementBatch.objects.create(
        mode="auto", status="running", cutoff=timezone.now(), approved_at=timezone.now()
    )
    real = settlement.resume_batch

    def removed_first(batch, staff=None):
        SettlementBatch.objects.filter(pk=gone.pk).delete()
        return real(batch, staff)

    monkeypatch.setattr(settlement, "resume_batch", removed_first)
    assert settlement.resume_interrupted(timezone.now() + timedelta(minutes=11)) == []


def test_staff_resume_an_interrupted_batch_from_the_backend(chain, lamp, monkeypatch):
    configure(settlement_mode="manual")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settlement.create_batch(after_freeze())
    finance = make_staff(
        perms=[
            "distribution.view_settlementbatch",
            "distribution.add_settlementbatch",
            "distribution.change_settlementbatch",
        ]
    )
    killed_at(2, monkeypatch, lambda: settlement.approve_batch(batch, finance, now=after_freeze()))
    batch.refresh_from_db()
    assert batch.status == "running"

    browser = login(finance)
    resume = reverse("admin:distribution_settlementbatch_resume_batch", args=[batch.pk])
    page = browser.get(reverse("admin:distribution_settlementbatch_change", args=[batch.pk]))
    assert page.status_code == 200 and resume in page.content.decode()
    assert browser.get(resume).status_code == 200
    reply = browser.post(resume, {"_confirm": "1"})
    assert reply.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.commission_count, batch.total) == ("settled", 4, 3000)
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)

    # A settled batch cannot be resumed: refused with a message, nothing paid twice.
    reply = browser.post(resume, {"_confirm": "1"})
    assert reply.status_code == 200
    assert "只有“结算中”的批次可以继续结算" in reply.content.decode()
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)


# --- the after-sale window -------------------------------------------------------------------


def test_no_commission_settles_while_the_after_sale_window_is_open(chain, lamp):
    a, b = chain
    order = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    # Freeze 7 days, after-sale window 15: held until the window closes.
    frozen_until = order.commissions.first().frozen_until
    assert abs(frozen_until - (order.completed_at + timedelta(days=15))) < timedelta(seconds=1)
    assert settlement.settle_due(order.completed_at + timedelta(days=8)) is None
    assert settlement.settle_due(order.completed_at + timedelta(days=14, hours=23)) is None

    # The buyer asks for a refund on day 14: it is a reduction, not a clawback.
    with travel(timedelta(days=14)):
        staff_refund(order, {"line_id": order.lines.get().pk, "amount": 5000})
    assert statuses(order) == {"frozen"}
    assert settlement.settle_due(order.completed_at + timedelta(days=15, minutes=1)).total == 750
    assert (ledger_sum(b), ledger_sum(a)) == (500, 250)


def test_a_window_lengthened_after_completion_still_holds_the_commission(chain, lamp):
    order = receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    set_after_sale_days(30)
    assert settlement.settle_due(order.completed_at + timedelta(days=16)) is None
    assert settlement.create_batch(order.completed_at + timedelta(days=16)) is None
    assert settlement.settle_due(order.completed_at + timedelta(days=30, minutes=1)).total == 1500


def test_a_freeze_longer_than_the_window_still_counts(chain, lamp):
    configure(freeze_days=20)
    order = receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    assert settlement.settle_due(order.completed_at + timedelta(days=16)) is None
    assert settlement.settle_due(order.completed_at + timedelta(days=20, minutes=1)).total == 1500


# --- suspended and banned distributors -------------------------------------------------------


def test_a_suspended_distributors_frozen_commission_waits_until_reactivated(chain, lamp):
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    suspend(b)
    batch = settle_now()
    assert (batch.commission_count, batch.total) == (1, 500)  # a's level 2 only
    assert (ledger_sum(b), ledger_sum(a)) == (0, 500)
    assert Commission.objects.get(distributor=b).status == "frozen"

    distributors.set_status(b, None, "active", reason="申诉通过")
    assert settle_now().total == 1000
    assert ledger_sum(b) == 1000


def test_a_distributor_suspended_while_a_batch_waits_for_review_is_left_out(chain, lamp):
    configure(settlement_mode="manual")
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settlement.create_batch(after_freeze())
    assert batch.commission_count == 2
    suspend(b)
    approved = settlement.approve_batch(batch, None, now=after_freeze())
    assert (approved.commission_count, approved.total) == (1, 500)
    held = Commission.objects.get(distributor=b)
    assert (held.status, held.batch_id) == ("frozen", None)  # free for a later batch


def test_a_ban_that_voids_held_commission_records_why(chain, lamp):
    a, b = chain
    frozen = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    pending = buy(bound_buyer(b), (sku(lamp), 1))
    with pytest.raises(DomainError) as refused:
        distributors.ban(b, None, decision="", reason="刷单")
    assert (refused.value.status, refused.value.code) == (400, "BAN_DECISION_REQUIRED")
    with pytest.raises(DomainError) as refused:
        distributors.ban(b, None, decision="void", reason="  ")
    assert (refused.value.status, refused.value.code) == (400, "REASON_REQUIRED")
    b.refresh_from_db()
    assert b.status == "active"

    distributors.ban(b, None, decision="void", reason="刷单")
    for order in (frozen, pending):
        mine = Commission.objects.get(order=order, distributor=b)
        assert (mine.status, mine.net_amount) == ("cancelled", 0)
        adjustment = mine.adjustments.get()
        assert (adjustment.kind, adjustment.amount, adjustment.note) == ("voided", 1000, "封禁作废：刷单")
    entry = LedgerEntry.objects.get(distributor=b)
    assert (entry.kind, entry.amount) == ("ban", 0)
    assert entry.note == "封禁：待结算佣金 2 笔 ¥20.00 已作废（原因：刷单）"

    receive(pending)
    settle_now()
    assert (ledger_sum(b), ledger_sum(a)) == (0, 1000)  # a's level 2 is untouched


@pytest.mark.parametrize("decision", ["void", "release"])
def test_a_ban_costs_the_same_statements_for_2_or_12_held_commissions(chain, lamp, decision):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a, b = chain
    counts = []
    for held in (2, 12):
        banned = make_distributor(parent=b)
        for _ in range(held):
            buy(bound_buyer(banned), (sku(lamp), 1))
        with CaptureQueriesContext(connection) as queries:
            distributors.ban(banned, None, decision=decision, reason="刷单")
        counts.append(len(queries))
        commissions = Commission.objects.filter(distributor=banned)
        expected = "cancelled" if decision == "void" else "pending"
        assert set(commissions.values_list("status", flat=True)) == {expected}
        assert all(c.adjustments.count() == 1 for c in commissions)
    assert counts[0] == counts[1]
    assert_totals_match_history()


def test_a_ban_that_releases_held_commission_lets_it_settle(chain, lamp):
    a, b = chain
    order = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    distributors.ban(b, None, decision="release", reason="停止合作，佣金照付")
    mine = Commission.objects.get(order=order, distributor=b)
    assert mine.status == "frozen"
    assert mine.adjustments.get().note == "封禁后保留，照常结算：停止合作，佣金照付"
    assert LedgerEntry.objects.get(distributor=b).note == (
        "封禁：待结算佣金 1 笔 ¥10.00 保留，照常结算（原因：停止合作，佣金照付）"
    )
    settle_now()
    assert (ledger_sum(b), ledger_sum(a)) == (1000, 500)


def test_released_commission_can_be_withdrawn_after_a_ban_and_voided_cannot(chain, lamp):
    a, b = chain
    receive(buy(bound_buyer(b), (sku(lamp), 1)))
    receive(buy(bound_buyer(a), (sku(lamp), 1)))
    distributors.ban(b, None, decision="release", reason="停止合作，佣金照付")
    distributors.ban(a, None, decision="void", reason="刷单")
    settle_now()
    assert ledger_sum(b) == 1000
    account = {"name": "张三", "account": "zhangsan@example.com"}
    released = api_for(b.user)
    assert released.get("/distribution/balance").status_code == 200
    reply = released.post(
        "/distribution/withdrawals", {"amount": 1000, "method": "alipay", "account": account}
    )
    assert reply.status_code == 201, reply.content
    assert ledger_sum(b) == 0

    voided = api_for(a.user)
    assert voided.get("/distribution/balance").status_code == 403
    reply = voided.post("/distribution/withdrawals", {"amount": 100, "method": "alipay", "account": account})
    assert reply.status_code == 403


def test_the_backend_ban_asks_for_the_decision_and_the_reason(chain, lamp):
    a, b = chain
    order = receive(buy(bound_buyer(b), (sku(lamp), 1)))
    browser = login(make_staff(superuser=True))
    ban = reverse("admin:distribution_distributor_ban", args=[b.pk])
    page = browser.get(ban)
    assert "作废待结算佣金" in page.content.decode() and "保留，照常结算" in page.content.decode()

    reply = browser.post(ban, {"reason": "刷单"})
    assert reply.status_code == 200
    b.refresh_from_db()
    assert b.status == "active"

    assert browser.post(ban, {"reason": "刷单", "decision": "void"}).status_code == 302
    b.refresh_from_db()
    assert (b.status, b.ban_decision, b.status_reason) == ("banned", "void", "刷单")
    assert Commission.objects.get(order=order, distributor=b).status == "cancelled"


# --- bounded day counts ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["freeze_days", "bind_days", "protect_days"])
def test_a_huge_day_count_is_refused_and_nothing_saved(field):
    before = config.current()
    with pytest.raises(DomainError) as refused:
        configure(**{field: 10**9})
    assert refused.value.status == 400
    assert refused.value.code == "DISTRIBUTION_SETTINGS_INVALID"
    assert "天之间" in refused.value.message
    after = DistributionSettings.objects.get()
    assert (getattr(after, field), after.version) == (getattr(before, field), before.version)


def test_the_backend_settings_forms_refuse_a_huge_day_count():
    browser = login(make_staff(superuser=True))
    cfg = config.current()
    change = reverse("admin:distribution_distributionsettings_change", args=[cfg.pk])
    form = browser.get(change).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "condition_products"}
    data["withdraw_methods"] = []
    data["freeze_days"] = 10**9
    reply = browser.post(change, data)
    assert reply.status_code == 200
    assert "确保该值小于或等于365" in reply.content.decode()
    assert DistributionSettings.objects.get().freeze_days == 7

    order_settings = OrderSettings.current()
    change = reverse("admin:orders_ordersettings_change", args=[order_settings.pk])
    reply = browser.post(
        change,
        {
            "payment_timeout_minutes": 30,
            "auto_complete_days": 7,
            "after_sale_days": 10**9,
            "shipping_fee": "0",
            "free_shipping_threshold": "0",
            "low_stock_threshold": "10",
        },
    )
    assert reply.status_code == 200
    assert "确保该值小于或等于365" in reply.content.decode()
    assert OrderSettings.objects.get().after_sale_days == 15


def test_confirm_receipt_works_even_with_a_huge_stored_day_count(chain, lamp):
    # A value saved before the bounds existed: confirm-receipt used to fail with an overflow.
    DistributionSettings.objects.filter(pk=config.current().pk).update(freeze_days=10**9)
    set_after_sale_days(10**9)
    order = receive(buy(bound_buyer(chain[1]), (sku(lamp), 1)))
    assert order.status == "completed" and statuses(order) == {"frozen"}
    frozen_until = order.commissions.first().frozen_until
    assert frozen_until <= order.completed_at + timedelta(days=366)


# --- grade condition: single order amount ----------------------------------------------------


def test_the_single_order_condition_ignores_what_was_refunded(chain):
    normal = config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))
    big = config.save_grade(DistributorGrade(name="大单", weight=2, min_single_order=10000))
    a, b = chain
    distributors.set_grade(b, normal)
    expensive = make_product("音响", price=20000)

    full_refund(receive(buy(bound_buyer(b), (sku(expensive), 1))))  # 20000 paid, all refunded
    partly = receive(buy(bound_buyer(b), (sku(expensive), 1)))
    staff_refund(partly, {"line_id": partly.lines.get().pk, "amount": 15000})  # keeps 5000
    grades.upgrade()
    b.refresh_from_db()
    assert b.grade == normal
    assert grades.metrics([b.pk])[b.pk]["min_single_order"] == 5000

    # Orders count once received (an upgrade is for good; see test_grade_measures).
    receive(buy(bound_buyer(b), (sku(make_product(price=10000)), 1)))
    grades.upgrade()
    b.refresh_from_db()
    assert b.grade == big


# --- the dashboard's team and bound buyers ---------------------------------------------------


def test_the_team_counts_active_members_and_bound_buyers_only_live_bindings(chain):
    a, b = chain
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    active_indirect = make_distributor(parent=b)
    make_distributor(parent=a, status="suspended")
    make_distributor(parent=a, status="banned")
    distributors.apply(bound_buyer(a))  # pending applicant, a's team if approved
    rejected = distributors.apply(bound_buyer(a))
    distributors.reject(rejected, None, reason="资料不全")
    make_distributor(parent=active_indirect)  # three levels down: not a's team

    figures = api_for(a.user).get("/distribution/dashboard").json()
    assert (figures["team_direct"], figures["team_indirect"]) == (1, 1)
    assert figures["bound_buyers"] == 2  # the two applicants bought through a's link
    team = api_for(a.user).get("/distribution/team").json()
    assert [m["id"] for m in team["items"]] == [b.pk]

    configure(bind_mode="expiring", bind_days=30)
    bound_buyer(a)  # bound today, expires in 30 days
    with travel(timedelta(days=31)):
        figures = api_for(a.user).get("/distribution/dashboard").json()
    assert figures["bound_buyers"] == 0


# --- settlement cycles -----------------------------------------------------------------------


def local(year, month, day, hour=2, minute=30):
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_a_missed_weekly_cycle_day_is_caught_up_on_the_next_run(chain, lamp):
    configure(settlement_cycle="weekly")
    set_after_sale_days(0)
    a, b = chain
    with travel(local(2027, 1, 4) - timezone.now() - timedelta(days=8)):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))  # due from 2027-01-03

    # Monday 2027-01-04 runs and is recorded.
    first = settlement_cycle.run_scheduled(local(2027, 1, 4))
    assert first.total == 1500
    with travel(local(2027, 1, 5) - timezone.now()):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))  # due from 2027-01-12

    # Monday 2027-01-11 is missed (the worker was down). Wednesday catches it up, once.
    assert settlement_cycle.run_scheduled(local(2027, 1, 13)).total == 1500
    assert settlement_cycle.run_scheduled(local(2027, 1, 14)) is None
    assert (ledger_sum(b), ledger_sum(a)) == (2000, 1000)
    assert list(SettlementCycleRun.objects.order_by("day").values_list("day", flat=True)) == [
        datetime(2027, 1, 4).date(),
        datetime(2027, 1, 11).date(),
    ]


def test_a_failed_monthly_run_is_caught_up_the_next_day(chain, lamp, monkeypatch):
    configure(settlement_cycle="monthly")
    set_after_sale_days(0)
    a, b = chain
    settlement_cycle.run_scheduled(local(2027, 1, 1))  # nothing due yet, but the cycle ran
    with travel(local(2027, 1, 10) - timezone.now()):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    assert settlement_cycle.run_scheduled(local(2027, 1, 20)) is None  # not a cycle day, none missed

    def broken(now=None, *, staff=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(settlement, "settle_due", broken)
    with pytest.raises(RuntimeError):
        settlement_cycle.run_scheduled(local(2027, 2, 1))
    monkeypatch.undo()
    assert settlement_cycle.run_scheduled(local(2027, 2, 2)).total == 1500
    assert ledger_sum(b) == 1000


def test_huey_reads_its_schedule_in_the_shops_time_zone():
    from huey.contrib.djhuey import HUEY

    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert HUEY.utc is False
    shanghai = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs(HUEY._get_timestamp() - shanghai) < timedelta(minutes=1)

    # 02:30 on the shop's clock, not 02:30 UTC (10:30 in Shanghai).
    def due(moment):
        return "scheduled_settlement" in {t.name for t in HUEY.read_periodic(moment)}

    assert due(datetime(2027, 1, 4, 2, 30))
    assert not due(datetime(2027, 1, 4, 10, 30))
