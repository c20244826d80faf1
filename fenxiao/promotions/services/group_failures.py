"""The group-buy sweep: groups past their deadline are closed, and every member's money or
order follows the outcome.

A group not full at its deadline fails (or, when its promotion allows virtual members and
someone has paid, is completed with virtual members and succeeds). Then, in three passes:

1. close due groups: a chunk at a time, one conditional UPDATE `open → failed` per chunk
   (the rows locked with `skip_locked`, so a second sweep takes other groups, or none);
2. cancel the unpaid orders of closed groups (`lifecycle.cancel_unpaid`, which closes an
   open gateway payment first: a buyer found to have paid becomes a paid member, and pass
   3 of this same run refunds them);
3. refund in full every paid member of a failed group — and anyone who paid after their
   group closed — through the gateway: the member moves `paid → refunded` by a
   conditional UPDATE in the same transaction as `after_sales.start_full_refund`, one
   member per transaction, so two sweeps never refund anyone twice and a sweep that dies
   halfway leaves the rest `paid` for the next run.

Each pass walks its rows in id order after the last one (a keyset cursor) and stops when
its backlog is drained or the time budget is spent; what is left is the next run's.
"""

import logging
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from fenxiao.core.errors import DomainError
from fenxiao.orders.models import ActorKind
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.services.events import log_event

from ..models import GroupBuy, GroupMember, GroupMemberStatus, GroupStatus
from . import groups

logger = logging.getLogger(__name__)

CHUNK_SIZE = 200
# Runs every minute: stop taking new chunks after this long, the rest waits a minute.
BUDGET_SECONDS = 45

# The reasons the sweep cancels or refunds with: kept on the order / after-sale in Chinese
# as written, and catalog entries, so the order's log (which takes them as `text_arg`s in
# `lifecycle` and `after_sales`) shows them in its reader's language.
REFUND_REASON = gettext_noop("拼团失败，全额退款")
LATE_REFUND_REASON = gettext_noop("拼团已结束，付款未能参团，全额退款")
CANCEL_REASON = gettext_noop("拼团失败，订单已取消")
LATE_CANCEL_REASON = gettext_noop("拼团已结束，未付款订单已取消")
# The order log's line for a member refunded (templates, see `orders.services.events`).
FAILED_MESSAGE = gettext_noop("拼团失败：截止时间前未凑满 %(size)s 人，全额退款")
LATE_MESSAGE = LATE_REFUND_REASON


@dataclass
class SweepResult:
    failed: int = 0  # groups closed as failed
    filled: int = 0  # groups completed with virtual members
    cancelled: int = 0  # unpaid member orders cancelled
    refunded: int = 0  # paid members refunded in full


def sweep(now=None, *, chunk_size: int | None = None, budget_seconds: float = BUDGET_SECONDS) -> SweepResult:
    now = now or timezone.now()
    size = chunk_size or CHUNK_SIZE
    stop_at = time.monotonic() + budget_seconds
    result = SweepResult()
    _close_due_groups(now, size, stop_at, result)
    result.cancelled = _walk(_unpaid_of_closed_groups(), size, stop_at, _cancel_unpaid)
    result.refunded = _walk(_paid_without_group(), size, stop_at, _refund_in_full)
    return result


# --- 1. groups past their deadline ----------------------------------------------------------------


def _close_due_groups(now, size: int, stop_at: float, result: SweepResult) -> None:
    after = 0
    while True:
        with transaction.atomic():
            chunk = list(
                GroupBuy.objects.filter(status=GroupStatus.OPEN, deadline__lte=now, pk__gt=after)
                .select_related("promotion")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")[:size]
            )
            # Virtual members complete a group only around real buyers who paid.
            filled = [g for g in chunk if g.promotion.virtual_fill and g.paid_count > 0]
            failing = [g.pk for g in chunk if g not in filled]
            if failing:
                result.failed += GroupBuy.objects.filter(pk__in=failing, status=GroupStatus.OPEN).update(
                    status=GroupStatus.FAILED, closed_at=now
                )
            for group in filled:
                _fill_with_virtual_members(group)
            result.filled += len(filled)
        if len(chunk) < size or time.monotonic() >= stop_at:
            return
        after = chunk[-1].pk


def _fill_with_virtual_members(group: GroupBuy) -> None:
    """With the group row locked: the empty (and unpaid) seats go to virtual members and the
    group succeeds; the unpaid members' orders are cancelled by pass 2."""
    missing = group.size - group.paid_count
    GroupMember.objects.bulk_create(
        GroupMember(group=group, buyer=None, order=None, is_virtual=True, status=GroupMemberStatus.PAID)
        for _ in range(missing)
    )
    GroupBuy.objects.filter(pk=group.pk).update(seats_taken=group.size, paid_count=group.size)
    group.seats_taken = group.paid_count = group.size
    groups.succeed(group)


# --- 2. unpaid members of closed groups ---------------------------------------------------------


def _unpaid_of_closed_groups():
    return GroupMember.objects.filter(
        status=GroupMemberStatus.JOINED,
        order__isnull=False,
        group__status__in=[GroupStatus.FAILED, GroupStatus.SUCCEEDED],
    )


def _cancel_unpaid(member_id: int) -> bool:
    member = (
        GroupMember.objects.filter(pk=member_id, status=GroupMemberStatus.JOINED)
        .select_related("order", "group")
        .first()
    )
    if member is None:
        return False
    reason = CANCEL_REASON if member.group.status == GroupStatus.FAILED else LATE_CANCEL_REASON
    try:
        # Its own transaction; the order's seat is released by the cancellation hook.
        lifecycle.cancel_unpaid(member.order, actor_kind=ActorKind.SYSTEM, reason=reason)
    except DomainError as error:
        # Paid just now (pass 3 refunds it) or cancelled by someone else: nothing to do here.
        logger.info("group member %s: order not cancelled: %s", member_id, error.message)
        return False
    return True


# --- 3. paid members left without a group ---------------------------------------------------------


def _paid_without_group():
    """Paid members of failed groups, and members who paid after their group succeeded
    without them (a virtual-filled group): their orders can never ship."""
    return GroupMember.objects.filter(
        Q(group__status=GroupStatus.FAILED)
        | Q(group__status=GroupStatus.SUCCEEDED, order__awaiting_group=True),
        status=GroupMemberStatus.PAID,
        is_virtual=False,
        order__isnull=False,
    )


def _refund_in_full(member_id: int) -> bool:
    try:
        with transaction.atomic():
            member = (
                GroupMember.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=member_id, status=GroupMemberStatus.PAID)
                .select_related("order", "group")
                .first()
            )
            # Locked by the other sweep, or already refunded: never a second refund.
            if member is None or not GroupMember.objects.filter(
                pk=member_id, status=GroupMemberStatus.PAID
            ).update(status=GroupMemberStatus.REFUNDED):
                return False
            group = member.group
            if group.status == GroupStatus.FAILED:
                reason, message, args = REFUND_REASON, FAILED_MESSAGE, {"size": group.size}
            else:
                reason, message, args = LATE_REFUND_REASON, LATE_MESSAGE, None
            log_event(member.order, "group_failed", ActorKind.SYSTEM, message, args=args, group=group.pk)
            after_sales.start_full_refund(member.order, None, reason=reason)
    except DomainError as error:
        # Left `paid` (the transaction rolled back): the next run tries again.
        logger.warning("group member %s: refund not started: %s", member_id, error.message)
        return False
    return True


def _walk(members, size: int, stop_at: float, handle) -> int:
    """`handle(member_id)` for each of `members` in id order; how many it handled."""
    after, done = 0, 0
    while True:
        ids = list(members.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:size])
        for member_id in ids:
            done += bool(handle(member_id))
        if len(ids) < size or time.monotonic() >= stop_at:
            return done
        after = ids[-1]
