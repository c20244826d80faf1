"""Banning a distributor: staff decide what becomes of their held (pending and frozen)
commission: voided (cancelled now) or released (it settles as it would have). The decision
and its reason go on each held commission's history and on the ledger, in one ban entry
(`ban:<id>`) of 0: only voided commission leaves the pending/frozen figures. A ban is
set-based whatever the number of held commissions: a fixed number of statements.

The balance is left as it is. A 作废 ban stops withdrawals (`Distributor.may_withdraw`), so
what is settled stays with the shop; writing it off on the ledger as well would take it a
second time whenever a later refund claws back a commission it was made of.

A payment that read its chain before a 作废 ban committed still writes that distributor's
commission after the ban has voided what was held then: `void_late_held` (hourly) voids
such late commission the same way, so none stays pending or frozen for ever.
"""

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from fenxiao.core.errors import InvalidInput
from fenxiao.core.money import format_fen

from ..models import (
    DISTRIBUTOR_FLOW,
    BanDecision,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    Distributor,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    texts,
)
from . import risk, totals


@transaction.atomic
def ban(distributor: Distributor, staff, *, decision: str, reason: str) -> Distributor:
    """Ban a distributor with staff's decision on their held commission (see the module's
    docstring). The decision and its reason go on each held commission's history and on the
    ledger."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写封禁原因"), code="REASON_REQUIRED")
    if decision not in BanDecision.values:
        raise InvalidInput(
            _("请选择封禁后待结算佣金的处理方式（作废或保留结算）"), code="BAN_DECISION_REQUIRED"
        )
    # The conditional update locks the distributor's row until commit: a withdrawal request
    # (which takes this lock, `ledger.lock`) waits, and then finds withdrawals stopped.
    DISTRIBUTOR_FLOW.move(
        distributor,
        DistributorStatus.BANNED,
        stale=_("分销商状态已变化，请刷新后重试"),
        status_reason=reason[:200],
        reviewed_by=staff,
        ban_decision=decision,
    )
    void = decision == BanDecision.VOID
    changes = totals.deltas()
    count, held_total = _decide_held(distributor, void, reason, changes)
    outcome = texts.BAN_VOIDED if void else texts.BAN_KEPT
    LedgerEntry.objects.create(
        distributor=distributor,
        kind=LedgerKind.BAN,
        amount=0,
        source_key=f"ban:{distributor.pk}",
        note=(
            texts.BANNED
            % {"count": count, "amount": format_fen(held_total), "outcome": outcome, "reason": reason}
        )[:200],
    )
    totals.add(changes)
    if void:
        risk.close_moot(distributor_id=distributor.pk)
    return distributor


def void_late_held() -> int:
    """Void the held commission of distributors banned with 作废 that their ban could not
    see (written by a payment in flight when it committed); one query when there is none.
    Each distributor in a transaction of its own, locked first as `ban` locks them.
    Returns how many commissions were voided."""
    late = (
        Distributor.objects.filter(
            status=DistributorStatus.BANNED,
            ban_decision=BanDecision.VOID,
            commissions__status__in=[CommissionStatus.PENDING, CommissionStatus.FROZEN],
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    voided = 0
    for pk in list(late):
        with transaction.atomic():
            distributor = Distributor.objects.select_for_update().get(pk=pk)
            changes = totals.deltas()
            count, _net = _decide_held(distributor, True, distributor.status_reason, changes)
            totals.add(changes)
            risk.close_moot(distributor_id=pk)
        voided += count
    return voided


def _decide_held(
    distributor: Distributor, void: bool, reason: str, changes: totals.Deltas
) -> tuple[int, int]:
    """Void or release the distributor's held commission: one locking read, one insert of
    their history, one update. Returns (how many, their net total)."""
    held_rows = Commission.objects.filter(
        distributor=distributor, status__in=[CommissionStatus.PENDING, CommissionStatus.FROZEN]
    )
    # Their orders first, as refunds and the auto-complete sweep take them: the sweep reads
    # a commission's amount under its order's lock and moves it after, so a void between
    # the two would be counted twice in the running totals.
    from fenxiao.orders.models import Order

    list(
        Order.objects.select_for_update()
        .filter(pk__in=held_rows.exclude(order__isnull=True).values("order_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    held = list(
        held_rows.select_for_update(of=("self",))
        .order_by("pk")
        .annotate(line_refunded=F("order_line__refunded_amount"))
        .values("pk", "status", "amount", "reversed_amount", "line_refunded")
    )
    net = {row["pk"]: row["amount"] - row["reversed_amount"] for row in held}
    note = ((texts.BAN_VOID if void else texts.BAN_RELEASE) % {"reason": reason})[:200]
    CommissionAdjustment.objects.bulk_create(
        CommissionAdjustment(
            commission_id=row["pk"],
            kind=CommissionAdjustment.Kind.VOIDED if void else CommissionAdjustment.Kind.RELEASED,
            amount=net[row["pk"]] if void else 0,
            # A till sale's line is never refunded here.
            refunded_base=row["line_refunded"] or 0,
            note=note,
        )
        for row in held
    )
    if void and held:
        # Locked above, so every one is still in the status it was read in.
        held_rows.update(status=CommissionStatus.CANCELLED, reversed_amount=F("amount"))
        for row in held:
            changes[distributor.pk][totals.BUCKET[row["status"]]] -= net[row["pk"]]
    return len(held), sum(net.values())
