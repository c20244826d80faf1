"""Banning a distributor: staff's decision settles all of their money that is not paid out.

The invariant: after a ban, every fen the distributor had with the shop has a stated fate,
on the ledger, and none is left where nobody can reach it.

- 保留 (release): held (pending and frozen) commission settles as it would have, and the
  balance stays withdrawable (`Distributor.may_withdraw`).
- 作废 (void): held commission is cancelled, and the available balance (settled, not yet
  asked for) is written off, since a distributor banned this way can never withdraw it.
  A negative balance (a clawback larger than what was left) is a debt, not money: it is
  left as it is. A withdrawal already asked for keeps its hold and goes on as staff decide;
  if it is rejected or fails, the amount it gives back is written off the same way
  (`write_off_after_ban`, for the release of a hold).

The ban's one ledger entry (`ban:<id>`) carries what it took from the balance (0 or less)
and says what became of the held commission and of the balance, and why. A ban is set-based
whatever the number of held commissions: a fixed number of statements.
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
)
from . import ledger, risk, totals


@transaction.atomic
def ban(distributor: Distributor, staff, *, decision: str, reason: str) -> Distributor:
    """Ban a distributor with staff's decision on their money (see the module's docstring).
    The decision and its reason go on each held commission's history and on the ledger."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写封禁原因"), code="REASON_REQUIRED")
    if decision not in BanDecision.values:
        raise InvalidInput(
            _("请选择封禁后待结算佣金的处理方式（作废或保留结算）"), code="BAN_DECISION_REQUIRED"
        )
    # The conditional update locks the distributor's row until commit: a withdrawal request
    # or a clawback (both take this lock, `ledger.lock`) waits, so the balance read below
    # stays what it is until the write-off is in.
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
    # Read after the held rows are locked: a settlement chunk that had claimed one of them
    # has committed its credit by now, and none can claim them any more.
    available = ledger.balance(distributor.pk)
    written_off = available if void and available > 0 else 0
    held = f"待结算佣金 {count} 笔 {format_fen(held_total)} " + ("已作废" if void else "保留，照常结算")
    LedgerEntry.objects.create(
        distributor=distributor,
        kind=LedgerKind.BAN,
        amount=-written_off,
        source_key=f"ban:{distributor.pk}",
        note=f"封禁：{held}；{_balance_fate(void, available)}（原因：{reason}）"[:200],
    )
    changes[distributor.pk]["balance"] -= written_off
    totals.add(changes)
    if void:
        risk.close_moot(distributor_id=distributor.pk)
    return distributor


def _balance_fate(void: bool, available: int) -> str:
    """What the ban does with the balance, in the ban entry's words."""
    if available < 0:  # a clawback's debt: nothing to write off or to withdraw
        return f"账户余额 {format_fen(available)}（退款追回），未清零"
    if void:
        return f"可提现余额 {format_fen(available)} 清零"
    return f"可提现余额 {format_fen(available)} 可继续提现"


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
    note = (f"封禁作废：{reason}" if void else f"封禁后保留，照常结算：{reason}")[:200]
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


@transaction.atomic
def write_off_after_ban(distributor_id: int) -> int:
    """Money that came back to a distributor banned with 作废 (a withdrawal asked for
    before the ban, then rejected or failed) is written off as the ban wrote off their
    balance: one more ban entry, keyed by the last entry it answers, so a repeated call
    writes nothing. Anyone else: nothing. Returns the amount written off."""
    distributor = ledger.lock(distributor_id)
    if distributor.status != DistributorStatus.BANNED or distributor.ban_decision != BanDecision.VOID:
        return 0
    available = ledger.balance(distributor_id)
    if available <= 0:
        return 0
    reason = distributor.status_reason
    last = (
        LedgerEntry.objects.filter(distributor_id=distributor_id)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    LedgerEntry.objects.create(
        distributor_id=distributor_id,
        kind=LedgerKind.BAN,
        amount=-available,
        source_key=f"ban:{distributor_id}:after:{last}",
        note=f"封禁作废：退回的可提现余额 {format_fen(available)} 清零（原因：{reason}）"[:200],
    )
    totals.add({distributor_id: {"balance": -available}})
    return available
