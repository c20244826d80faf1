"""Settlement: held commission whose hold has ended becomes balance, exactly once.

The invariant: every commission is settled once and only once, even when runs overlap,
one dies halfway, or a cycle day is missed.

- Each commission is settled in its own short transaction with its row locked and its
  status re-checked, and its ledger entry is unique on the commission.
- A run is a batch row: `running` while it works (with a heartbeat), then `settled`. A run
  that dies leaves its batch `running`; the sweeper resumes every batch whose heartbeat has
  gone quiet, and staff can resume one from the backend. Resuming only settles what is
  still frozen, so a resume that overlaps a live run settles nothing twice.
- Commission is held until its freeze has ended *and* the order's after-sale window has
  closed with no after-sale open, and only while its distributor may be paid (active, or
  banned with the held commission released by staff).
- Each cycle day that ran is recorded, so the next scheduled run catches up a missed one.
"""

from datetime import date, timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import MAX_AFTER_SALE_DAYS, OPEN_AFTER_SALE, AfterSale, OrderSettings

from ..errors import BatchNotFound
from ..models import (
    BanDecision,
    Commission,
    CommissionStatus,
    Cycle,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    SettlementBatch,
    SettlementCycleRun,
    SettlementMode,
)
from . import config, totals

# A running batch without progress for this long is taken to be dead and is resumed.
STALE_AFTER = timedelta(minutes=10)
HEARTBEAT_EVERY = 100  # commissions

Status = SettlementBatch.Status
CLAIMING = (Status.PENDING_REVIEW, Status.RUNNING)


def after_sale_closed_before(now):
    """Orders completed before this moment are past their after-sale window."""
    days = min(OrderSettings.current().after_sale_days, MAX_AFTER_SALE_DAYS)
    return now - timedelta(days=days)


def _payable() -> Q:
    """Distributors whose held commission may settle: active ones, and banned ones whose
    held commission staff released. Suspended ones wait until they are reactivated."""
    return Q(distributor__status=DistributorStatus.ACTIVE) | Q(
        distributor__status=DistributorStatus.BANNED, distributor__ban_decision=BanDecision.RELEASE
    )


def _due(now):
    open_after_sale = AfterSale.objects.filter(order_id=OuterRef("order_id"), status__in=OPEN_AFTER_SALE)
    return Commission.objects.filter(
        _payable(),
        status=CommissionStatus.FROZEN,
        frozen_until__lte=now,
        order__completed_at__lte=after_sale_closed_before(now),
    ).exclude(Exists(open_after_sale))


def _unclaimed() -> Q:
    """Not held by a batch under review or being settled. A frozen commission still pointing
    at a settled batch was left behind by an older approval: the next run takes it.
    (Plain column tests, so a concurrent claim is re-checked on the row it locked.)"""
    closed = SettlementBatch.objects.exclude(status__in=CLAIMING).values("pk")
    return Q(batch__isnull=True) | Q(batch_id__in=closed)


def _settle_one(commission_id: int, batch: SettlementBatch, now) -> Commission | None:
    with transaction.atomic():
        commission = (
            Commission.objects.select_for_update(of=("self",))
            .filter(pk=commission_id, status=CommissionStatus.FROZEN, frozen_until__lte=now)
            .first()
        )
        if commission is None:
            return None
        if (
            commission.batch_id not in (None, batch.pk)
            and SettlementBatch.objects.filter(pk=commission.batch_id, status__in=CLAIMING).exists()
        ):
            return None
        # Re-checked under the lock: an after-sale opened, or the distributor suspended.
        if not _due(now).filter(pk=commission.pk).exists():
            return None
        # The batch row first: once another runner has finished (or removed) the batch,
        # this one settles nothing more into it.
        progress = {"heartbeat_at": timezone.now()}
        if commission.batch_id != batch.pk:
            # Counted as it settles, so a run that dies halfway leaves true totals behind.
            progress.update(
                commission_count=F("commission_count") + 1, total=F("total") + commission.net_amount
            )
        if not SettlementBatch.objects.filter(pk=batch.pk, status=Status.RUNNING).update(**progress):
            return None
        Commission.objects.filter(pk=commission.pk).update(
            status=CommissionStatus.SETTLED, settled_at=now, batch=batch
        )
        net = commission.net_amount
        totals.add({commission.distributor_id: {"frozen": -net, "settled": net, "balance": net}})
        if commission.net_amount > 0:
            LedgerEntry.objects.create(
                distributor_id=commission.distributor_id,
                kind=LedgerKind.COMMISSION,
                amount=commission.net_amount,
                source_key=f"commission:{commission.pk}",
                commission=commission,
                note=f"订单 {commission.order_id} {commission.level}级佣金结算",
            )
        return commission


def _refresh_totals(batch: SettlementBatch) -> SettlementBatch:
    totals = Commission.objects.filter(batch=batch).aggregate(
        n=Count("pk"), total=Sum("amount") - Sum("reversed_amount")
    )
    SettlementBatch.objects.filter(pk=batch.pk).update(
        commission_count=totals["n"] or 0, total=totals["total"] or 0
    )
    batch.refresh_from_db()
    return batch


def _beat(batch: SettlementBatch) -> None:
    SettlementBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now())


def _finish(batch: SettlementBatch) -> SettlementBatch | None:
    """Close a batch with its true totals, under its row lock: a runner still settling into
    it waits, then finds it closed (or gone) and settles nothing more into it."""
    # Anything refunded, under after-sale or held meanwhile goes back for a later batch.
    # (Before the batch lock: a runner holds a commission's lock while it waits for the batch.)
    Commission.objects.filter(batch=batch).exclude(status=CommissionStatus.SETTLED).update(batch=None)
    with transaction.atomic():
        locked = SettlementBatch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None:
            return None
        totals = Commission.objects.filter(batch=locked).aggregate(
            n=Count("pk"), total=Sum("amount") - Sum("reversed_amount")
        )
        if locked.status == Status.RUNNING and locked.mode == SettlementMode.AUTO and not totals["n"]:
            # An overlapping run settled everything first: no empty batch is left behind.
            locked.delete()
            return None
        status = Status.SETTLED if locked.status == Status.RUNNING else locked.status
        SettlementBatch.objects.filter(pk=locked.pk).update(
            status=status, commission_count=totals["n"] or 0, total=totals["total"] or 0
        )
    return SettlementBatch.objects.filter(pk=batch.pk).first()


def _run(batch: SettlementBatch) -> SettlementBatch | None:
    """Settle a running batch to the end, from wherever it stands: a new run, an approval,
    or the resume of one that died. Only what is still frozen is touched."""
    from .grades import upgrade_after_settlement

    now = batch.approved_at or batch.cutoff
    _beat(batch)
    if batch.mode == SettlementMode.AUTO:
        ids = _due(now).filter(_unclaimed()).values_list("pk", flat=True)
    else:
        ids = Commission.objects.filter(batch=batch, status=CommissionStatus.FROZEN).values_list(
            "pk", flat=True
        )
    for i, pk in enumerate(list(ids), start=1):
        _settle_one(pk, batch, now)
        if i % HEARTBEAT_EVERY == 0:
            _beat(batch)
    batch = _finish(batch)
    if batch is None:
        return None
    upgrade_after_settlement(
        set(Commission.objects.filter(batch=batch).values_list("distributor_id", flat=True))
    )
    return batch


def settle_due(now=None, *, staff=None) -> SettlementBatch | None:
    """Auto mode: settle everything due now into a new batch."""
    now = now or timezone.now()
    if not _due(now).filter(_unclaimed()).exists():
        return None
    batch = SettlementBatch.objects.create(
        mode=SettlementMode.AUTO,
        status=Status.RUNNING,
        cutoff=now,
        created_by=staff,
        approved_at=now,
        heartbeat_at=timezone.now(),
    )
    return _run(batch)


def create_batch(now=None, *, staff=None) -> SettlementBatch | None:
    """Manual mode: gather what is due into a batch for finance to review."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(_due(now).filter(_unclaimed()).values_list("pk", flat=True))
        if not ids:
            return None
        batch = SettlementBatch.objects.create(
            mode=SettlementMode.MANUAL,
            status=Status.PENDING_REVIEW,
            cutoff=now,
            created_by=staff,
        )
        Commission.objects.filter(_unclaimed(), pk__in=ids, status=CommissionStatus.FROZEN).update(
            batch=batch
        )
    return _refresh_totals(batch)


def approve_batch(batch: SettlementBatch, staff, now=None) -> SettlementBatch:
    """Finance approves a reviewed batch: its commissions are settled now. The batch is
    `running` until the last one is done, so an approval that dies is resumed, not lost."""
    now = now or timezone.now()
    moved = SettlementBatch.objects.filter(pk=batch.pk, status=Status.PENDING_REVIEW).update(
        status=Status.RUNNING, approved_by=staff, approved_at=now, heartbeat_at=timezone.now()
    )
    if not moved:
        raise InvalidTransition("该结算批次不是待审核状态")
    batch.refresh_from_db()
    return _run(batch)


def cancel_batch(batch: SettlementBatch, staff) -> SettlementBatch:
    with transaction.atomic():
        moved = SettlementBatch.objects.filter(pk=batch.pk, status=Status.PENDING_REVIEW).update(
            status=Status.CANCELLED, approved_by=staff, approved_at=timezone.now()
        )
        if not moved:
            raise InvalidTransition("该结算批次不是待审核状态")
        Commission.objects.filter(batch=batch, status=CommissionStatus.FROZEN).update(batch=None)
    batch.refresh_from_db()
    return batch


def resume_batch(batch: SettlementBatch, staff=None) -> SettlementBatch | None:
    """Finish a run that stopped halfway (staff's "继续结算", or the sweeper)."""
    # Re-read: an overlapping run may have closed it, or removed it when it had nothing left.
    current = SettlementBatch.objects.filter(pk=batch.pk).first()
    if current is None or current.status != Status.RUNNING:
        raise InvalidTransition("只有“结算中”的批次可以继续结算")
    return _run(current)


def resume_interrupted(now=None) -> list[SettlementBatch]:
    """The sweeper: resume every running batch whose heartbeat has gone quiet."""
    now = now or timezone.now()
    quiet = SettlementBatch.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - STALE_AFTER)
    )
    finished = []
    for batch in quiet.order_by("pk"):
        try:
            done = resume_batch(batch)
        except InvalidTransition:  # another resumer finished it first
            continue
        if done is not None:
            finished.append(done)
    return finished


def cycle_day(cycle: str, now) -> date:
    """The latest settlement day of `cycle` on or before `now`, in the shop's time zone."""
    today = timezone.localdate(now)
    if cycle == Cycle.WEEKLY:
        return today - timedelta(days=today.weekday())  # Mondays
    if cycle == Cycle.MONTHLY:
        return today.replace(day=1)
    return today


def is_settlement_day(cycle: str, now) -> bool:
    return cycle_day(cycle, now) == timezone.localdate(now)


def run_scheduled(now=None):
    """The periodic task: settle (auto) or prepare a batch (manual) once per cycle.

    It runs on the cycle day, or on a later day when that day was missed (the worker was
    down, or the run failed): a cycle counts as run only once it finished. Before a cycle
    has ever run there is nothing known to be missed, so the first run waits for a cycle day.
    """
    now = now or timezone.now()
    cfg = config.current()
    cycle = cfg.settlement_cycle
    day = cycle_day(cycle, now)
    runs = SettlementCycleRun.objects.filter(cycle=cycle)
    if runs.filter(day=day).exists():
        return None
    if not is_settlement_day(cycle, now) and not runs.exists():
        return None
    result = settle_due(now) if cfg.settlement_mode == SettlementMode.AUTO else create_batch(now)
    SettlementCycleRun.objects.get_or_create(cycle=cycle, day=day, defaults={"batch": result})
    return result


def get_batch(pk: int) -> SettlementBatch:
    batch = SettlementBatch.objects.filter(pk=pk).first()
    if batch is None:
        raise BatchNotFound()
    return batch
