"""Settlement: frozen commission whose freeze has ended becomes balance, exactly once.

Each commission is settled in its own short transaction with its row locked and its status
re-checked, and its ledger entry is unique on the commission: two overlapping runs, or a
run that dies halfway and is started again, settle every commission once and only once.
"""

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from fenxiao.core.errors import InvalidTransition
from fenxiao.orders.models import OPEN_AFTER_SALE, AfterSale

from ..errors import BatchNotFound
from ..models import (
    Commission,
    CommissionStatus,
    Cycle,
    LedgerEntry,
    LedgerKind,
    SettlementBatch,
    SettlementMode,
)
from . import config


def _due(now):
    open_after_sale = AfterSale.objects.filter(order_id=OuterRef("order_id"), status__in=OPEN_AFTER_SALE)
    return Commission.objects.filter(status=CommissionStatus.FROZEN, frozen_until__lte=now).exclude(
        Exists(open_after_sale)
    )


def _unclaimed() -> Q:
    """Not held by a batch under review. A frozen commission still pointing at an approved
    batch was left behind by an approval that died halfway: the next run takes it.
    (Plain column tests, so a concurrent claim is re-checked on the row it locked.)"""
    closed = SettlementBatch.objects.exclude(status=SettlementBatch.Status.PENDING_REVIEW).values("pk")
    return Q(batch__isnull=True) | Q(batch_id__in=closed)


def _settle_one(commission_id: int, batch: SettlementBatch, now) -> Commission | None:
    with transaction.atomic():
        commission = (
            Commission.objects.select_for_update()
            .filter(pk=commission_id, status=CommissionStatus.FROZEN, frozen_until__lte=now)
            .first()
        )
        if commission is None:
            return None
        if (
            commission.batch_id not in (None, batch.pk)
            and SettlementBatch.objects.filter(
                pk=commission.batch_id, status=SettlementBatch.Status.PENDING_REVIEW
            ).exists()
        ):
            return None
        if AfterSale.objects.filter(order_id=commission.order_id, status__in=OPEN_AFTER_SALE).exists():
            return None
        Commission.objects.filter(pk=commission.pk).update(
            status=CommissionStatus.SETTLED, settled_at=now, batch=batch
        )
        if commission.batch_id != batch.pk:
            # Counted as it settles, so a run that dies halfway leaves true totals behind.
            SettlementBatch.objects.filter(pk=batch.pk).update(
                commission_count=F("commission_count") + 1, total=F("total") + commission.net_amount
            )
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


def settle_due(now=None, *, staff=None) -> SettlementBatch | None:
    """Auto mode: settle everything due now into a new, already-settled batch."""
    from .grades import upgrade_after_settlement

    now = now or timezone.now()
    ids = list(_due(now).filter(_unclaimed()).values_list("pk", flat=True))
    if not ids:
        return None
    batch = SettlementBatch.objects.create(
        mode=SettlementMode.AUTO,
        status=SettlementBatch.Status.SETTLED,
        cutoff=now,
        created_by=staff,
        approved_at=now,
    )
    settled = [c for c in (_settle_one(pk, batch, now) for pk in ids) if c is not None]
    if not settled:
        # An overlapping run settled everything first: no empty batch is left behind.
        batch.delete()
        return None
    upgrade_after_settlement({c.distributor_id for c in settled})
    return _refresh_totals(batch)


def create_batch(now=None, *, staff=None) -> SettlementBatch | None:
    """Manual mode: gather what is due into a batch for finance to review."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(_due(now).filter(_unclaimed()).values_list("pk", flat=True))
        if not ids:
            return None
        batch = SettlementBatch.objects.create(
            mode=SettlementMode.MANUAL,
            status=SettlementBatch.Status.PENDING_REVIEW,
            cutoff=now,
            created_by=staff,
        )
        Commission.objects.filter(_unclaimed(), pk__in=ids, status=CommissionStatus.FROZEN).update(
            batch=batch
        )
    return _refresh_totals(batch)


def approve_batch(batch: SettlementBatch, staff, now=None) -> SettlementBatch:
    """Finance approves a reviewed batch: its commissions are settled now."""
    from .grades import upgrade_after_settlement

    now = now or timezone.now()
    moved = SettlementBatch.objects.filter(pk=batch.pk, status=SettlementBatch.Status.PENDING_REVIEW).update(
        status=SettlementBatch.Status.SETTLED, approved_by=staff, approved_at=now
    )
    if not moved:
        raise InvalidTransition("该结算批次不是待审核状态")
    ids = list(
        Commission.objects.filter(batch=batch, status=CommissionStatus.FROZEN).values_list("pk", flat=True)
    )
    settled = [c for c in (_settle_one(pk, batch, now) for pk in ids) if c is not None]
    # Anything refunded or under after-sale meanwhile goes back for a later batch.
    Commission.objects.filter(batch=batch).exclude(status=CommissionStatus.SETTLED).update(batch=None)
    upgrade_after_settlement({c.distributor_id for c in settled})
    return _refresh_totals(batch)


def cancel_batch(batch: SettlementBatch, staff) -> SettlementBatch:
    with transaction.atomic():
        moved = SettlementBatch.objects.filter(
            pk=batch.pk, status=SettlementBatch.Status.PENDING_REVIEW
        ).update(status=SettlementBatch.Status.CANCELLED, approved_by=staff, approved_at=timezone.now())
        if not moved:
            raise InvalidTransition("该结算批次不是待审核状态")
        Commission.objects.filter(batch=batch, status=CommissionStatus.FROZEN).update(batch=None)
    batch.refresh_from_db()
    return batch


def is_settlement_day(cycle: str, now) -> bool:
    local = timezone.localtime(now)
    if cycle == Cycle.WEEKLY:
        return local.weekday() == 0
    if cycle == Cycle.MONTHLY:
        return local.day == 1
    return True


def run_scheduled(now=None):
    """The periodic task: on each cycle's day, settle (auto) or prepare a batch (manual)."""
    now = now or timezone.now()
    cfg = config.current()
    if not is_settlement_day(cfg.settlement_cycle, now):
        return None
    if cfg.settlement_mode == SettlementMode.AUTO:
        return settle_due(now)
    return create_batch(now)


def get_batch(pk: int) -> SettlementBatch:
    batch = SettlementBatch.objects.filter(pk=pk).first()
    if batch is None:
        raise BatchNotFound()
    return batch
