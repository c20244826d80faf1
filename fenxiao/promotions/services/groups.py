"""Group buy (拼团): a buyer opens a group or joins an open one at the group price; the
group succeeds when `size` members have paid before its deadline, and only then do its
orders ship.

Seats are a counter on the group moved by conditional UPDATEs (`seats_taken < size`), so
two buyers racing for the last seat get one seat between them; a buyer holds one seat per
group (a unique constraint). A seat whose order is cancelled unpaid is given back.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import ActorKind, Order
from fenxiao.orders.services.events import log_event

from .. import errors
from ..models import (
    GroupBuy,
    GroupMember,
    GroupMemberStatus,
    GroupStatus,
    Promotion,
    PromotionItem,
    PromotionKind,
    PromotionState,
    running,
)


@dataclass
class GroupTarget:
    """What a group-buy checkout prices and takes: the promotion, the item whose group price
    the line carries, the group joined (None when opening one), and that line."""

    promotion: Promotion
    item: PromotionItem
    group: GroupBuy | None
    line: object


def resolve_target(choice, lines, buyer, now) -> GroupTarget:
    """Check a group-buy checkout before pricing it: one line, of a product in a running
    group-buy promotion, and a group that can still take this buyer."""
    group = None
    if choice.join_group:
        group = GroupBuy.objects.select_related("promotion").filter(pk=choice.join_group).first()
        if group is None:
            raise errors.GroupNotFound()
        _check_joinable(group, buyer, now)
        promotion = group.promotion
    else:
        promotion = Promotion.objects.filter(pk=choice.group_promotion, kind=PromotionKind.GROUP).first()
        if promotion is None:
            raise errors.PromotionInvalid(_("拼团活动不存在"), code="PROMOTION_NOT_FOUND", status=404)
    if not Promotion.objects.filter(running(now), pk=promotion.pk).exists():
        raise errors.PromotionNotRunning(_("拼团活动未开始或已结束"))
    if len(lines) != 1:
        raise errors.GroupInvalid()
    line = lines[0]
    items = PromotionItem.objects.filter(promotion=promotion, product_id=line.sku.product_id).select_related(
        "promotion"
    )
    if group is not None:
        items = items.filter(pk=group.item_id)
    item = next((i for i in items if i.sku_id in (None, line.sku.pk)), None)
    if item is None:
        raise errors.GroupInvalid(_("该商品规格不参加此拼团活动"))
    return GroupTarget(promotion, item, group, line)


def _check_joinable(group: GroupBuy, buyer, now) -> None:
    if group.status != GroupStatus.OPEN or group.deadline <= now:
        raise errors.GroupExpired()
    if group.seats_taken >= group.size:
        raise errors.GroupFull()
    if buyer is not None and (
        GroupMember.objects.filter(group=group, buyer=buyer).exclude(status=GroupMemberStatus.LEFT).exists()
    ):
        raise errors.GroupAlreadyJoined()


def take_seat(order: Order, buyer, target: GroupTarget, now) -> GroupMember:
    """Inside checkout's transaction: open the group, or take a seat in it. Raises (and the
    order is rolled back) when the group filled up or closed meanwhile."""
    if target.group is None:
        promotion = target.promotion
        group = GroupBuy.objects.create(
            promotion=promotion,
            item=target.item,
            leader=buyer,
            size=promotion.group_size,
            seats_taken=1,
            # A group never outlives its promotion.
            deadline=min(now + timedelta(hours=promotion.group_hours), promotion.closes_at),
        )
        leader = True
    else:
        group = target.group
        taken = GroupBuy.objects.filter(
            pk=group.pk, status=GroupStatus.OPEN, deadline__gt=now, seats_taken__lt=F("size")
        ).update(seats_taken=F("seats_taken") + 1)
        if not taken:
            group.refresh_from_db()
            raise errors.GroupFull() if group.seats_taken >= group.size else errors.GroupExpired()
        leader = False
    try:
        with transaction.atomic():
            member = GroupMember.objects.create(group=group, buyer=buyer, order=order, is_leader=leader)
    except IntegrityError:
        raise errors.GroupAlreadyJoined() from None
    Order.objects.filter(pk=order.pk).update(awaiting_group=True)
    order.awaiting_group = True
    return member


def member_paid(order: Order) -> None:
    """Inside the payment's transaction: the member counts; the last one completes the
    group and releases every member's order for shipping."""
    member = GroupMember.objects.filter(order=order, status=GroupMemberStatus.JOINED).first()
    if member is None:
        return
    GroupMember.objects.filter(pk=member.pk).update(status=GroupMemberStatus.PAID)
    group = GroupBuy.objects.select_for_update().get(pk=member.group_id)
    if group.status != GroupStatus.OPEN:
        return  # failed meanwhile: the failure sweep refunds this late payment too
    group.paid_count += 1
    GroupBuy.objects.filter(pk=group.pk).update(paid_count=F("paid_count") + 1)
    if group.paid_count >= group.size:
        succeed(group)


def succeed(group: GroupBuy) -> None:
    """The group is full of paid members: its orders may ship."""
    now = timezone.now()
    GroupBuy.objects.filter(pk=group.pk, status=GroupStatus.OPEN).update(
        status=GroupStatus.SUCCEEDED, closed_at=now
    )
    group.status, group.closed_at = GroupStatus.SUCCEEDED, now
    orders = list(
        Order.objects.filter(group_member__group=group, group_member__status=GroupMemberStatus.PAID).only(
            "pk"
        )
    )
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(awaiting_group=False)
    for order in orders:  # at most `size` rows
        # A template (see `orders.services.events`): each reader sees the line in their language.
        log_event(
            order, "group_succeeded", ActorKind.SYSTEM, gettext_noop("拼团成功，可发货"), group=group.pk
        )


def members_left(order_ids) -> None:
    """Orders cancelled (unpaid, or refunded before shipping): their seats in groups still
    open go back; a member refunded because the group failed is already marked so. A group
    left with no one in it is closed as failed: it would otherwise stay listed, and
    joinable, as its departed leader's group."""
    members = list(
        GroupMember.objects.filter(
            order_id__in=list(order_ids), status__in=[GroupMemberStatus.JOINED, GroupMemberStatus.PAID]
        ).select_related("group")
    )
    for member in sorted(members, key=lambda m: m.group_id):
        group = GroupBuy.objects.select_for_update().get(pk=member.group_id)
        GroupMember.objects.filter(pk=member.pk).update(status=GroupMemberStatus.LEFT)
        if group.status == GroupStatus.OPEN:
            paid = 1 if member.status == GroupMemberStatus.PAID else 0
            empty = (
                {"status": GroupStatus.FAILED, "closed_at": timezone.now()} if group.seats_taken <= 1 else {}
            )
            GroupBuy.objects.filter(pk=group.pk).update(
                seats_taken=F("seats_taken") - 1, paid_count=F("paid_count") - paid, **empty
            )


# --- the read side: the group page and the API ----------------------------------------------------


@dataclass
class GroupView:
    """One group as a buyer sees it: what it sells at which price, who is in, what is left."""

    group: GroupBuy
    sku: Sku | None  # the SKU a joiner buys (the item's own, else the product's cheapest)
    group_price: int
    regular_price: int
    members: list[GroupMember]  # seated members, the leader first
    empty_seats: int
    joinable: bool
    can_open: bool  # a new group of the same promotion can be opened now

    @property
    def seats_left(self) -> int:
        return self.group.size - self.group.seats_taken if self.group.status == GroupStatus.OPEN else 0


def group_view(group_id: int, now=None) -> GroupView:
    """A fixed handful of queries whatever the group's size."""
    now = now or timezone.now()
    if not 0 < group_id < 2**63:  # beyond any id: the databases would fail on it
        raise errors.GroupNotFound()
    group = (
        GroupBuy.objects.select_related("promotion", "item__product", "item__sku", "leader")
        .filter(pk=group_id)
        .first()
    )
    if group is None:
        raise errors.GroupNotFound()
    members = list(
        group.members.exclude(status=GroupMemberStatus.LEFT)
        .select_related("buyer")
        .order_by("-is_leader", "is_virtual", "id")
    )
    sku = group.item.sku or group.item.product.skus.filter(is_active=True).order_by("price", "id").first()
    regular = sku.price if sku else group.item.product.price
    can_open = sku is not None and group.promotion.state(now) == PromotionState.RUNNING
    joinable = can_open and (
        group.status == GroupStatus.OPEN and group.deadline > now and group.seats_taken < group.size
    )
    return GroupView(
        group=group,
        sku=sku,
        group_price=group.item.price_for(regular),
        regular_price=regular,
        members=members,
        empty_seats=max(group.size - len(members), 0),
        joinable=joinable,
        can_open=can_open,
    )


def open_groups(*, promotion_id: int | None = None, product_id: int | None = None, now=None, limit: int = 10):
    """Groups a buyer can still join, the soonest to close first (one query)."""
    now = now or timezone.now()
    groups = GroupBuy.objects.filter(
        status=GroupStatus.OPEN,
        deadline__gt=now,
        seats_taken__lt=F("size"),
        promotion__in=Promotion.objects.filter(running(now)),
    )
    if promotion_id is not None:
        groups = groups.filter(promotion_id=promotion_id)
    if product_id is not None:
        groups = groups.filter(item__product_id=product_id)
    return list(groups.select_related("leader").order_by("deadline", "id")[:limit])


def buyer_groups(buyer, limit: int = 50) -> list[GroupMember]:
    """我的拼团: the buyer's seats, newest first, with their group and product (one query)."""
    return list(
        GroupMember.objects.filter(buyer=buyer)
        .exclude(status=GroupMemberStatus.LEFT)
        .select_related("group__item__product", "order")
        .order_by("-id")[:limit]
    )
