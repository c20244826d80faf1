"""What an order takes from promotions at checkout, and gives back when it is cancelled.

Taken inside checkout's transaction with conditional UPDATEs, so no count ever passes its
limit however many buyers race: flash stock (`sold <= quota`), the buyer's units in a
limited promotion (`quantity <= per_buyer_limit`), the coupon (`unused → used`), the group
seat (see `groups`). Each take is a `PromotionUse` row that records the units it took from
the flash stock and from the buyer's allowance; giving back returns exactly those (never
by the quota or limit set now, which the merchant may have changed since), locks the
unreleased rows it finds and marks them released, so a second giver waits, then finds
nothing: the units go back once, whoever cancels.

An item without a quota has no counter to keep: checkout writes nothing on its row, so
buyers of a hot item never queue behind each other's payment. What it has sold (已售) is
read from its `PromotionUse` rows not given back (see `with_units_sold`).
"""

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import errors
from ..models import BuyerAllowance, BuyerCoupon, BuyerCouponStatus, PromotionItem, PromotionUse
from . import groups


def take(order, q, buyer, now=None) -> None:
    """A fixed number of statements whatever the number of lines and promotions."""
    now = now or timezone.now()
    by_item: dict[int, int] = defaultdict(int)
    items = {}
    for line in q.lines:
        if line.promotion_item is not None:
            by_item[line.promotion_item.pk] += line.quantity
            items[line.promotion_item.pk] = line.promotion_item
    stocked = {pk for pk in by_item if items[pk].quota is not None}
    _take_stock({pk: by_item[pk] for pk in stocked})
    limited: dict[int, int] = defaultdict(int)
    for pk, quantity in by_item.items():
        if items[pk].promotion.per_buyer_limit:
            limited[items[pk].promotion_id] += quantity
    promotions = {item.promotion_id: item.promotion for item in items.values()}
    _take_allowances(buyer, {pk: (promotions[pk], n) for pk, n in limited.items()})
    # What was taken is recorded, so giving back never depends on a quota or limit the
    # merchant set after the order.
    PromotionUse.objects.bulk_create(
        PromotionUse(
            order=order,
            promotion_id=items[pk].promotion_id,
            item_id=pk,
            buyer=buyer,
            quantity=n,
            stock_taken=n if pk in stocked else 0,
            allowance_taken=n if items[pk].promotion_id in limited else 0,
        )
        for pk, n in by_item.items()
    )
    if q.coupon_id is not None:
        _use_coupon(q.coupon_id, order, buyer, now)
    if q.group is not None:
        groups.take_seat(order, buyer, q.group, now)


def _per(values: dict[int, int], key: str = "pk") -> Case:
    return Case(*[When(**{key: k}, then=Value(v)) for k, v in values.items()], output_field=IntegerField())


def _take_stock(quantities: dict[int, int]) -> None:
    """Flash stock of every item or of none, in one UPDATE (as `catalog.stock.take_stock`)."""
    if not quantities:
        return
    taken = PromotionItem.objects.filter(
        pk__in=list(quantities), sold__lte=F("quota") - _per(quantities)
    ).update(sold=F("sold") + _per(quantities))
    if taken != len(quantities):
        raise errors.FlashSoldOut()


def _limit_exceeded(wanted) -> errors.FlashLimitExceeded:
    if len(wanted) == 1:
        ((promotion, _quantity),) = wanted.values()
        limit = promotion.per_buyer_limit
        return errors.FlashLimitExceeded(
            _("“%(name)s”每人限购%(limit)s件") % {"name": promotion.name, "limit": limit}, limit=limit
        )
    return errors.FlashLimitExceeded()


def _take_allowances(buyer, wanted: dict[int, tuple]) -> None:
    """The buyer's units in each limited promotion ({promotion id: (promotion, units)}): the
    rows the buyer has are moved by one conditional UPDATE, missing ones inserted; a row
    written meanwhile by the buyer's other checkout makes the insert fail, and then that
    row decides, under the same condition."""
    if not wanted:
        return
    if any(quantity > promotion.per_buyer_limit for promotion, quantity in wanted.values()):
        raise _limit_exceeded(wanted)
    room = {pk: promotion.per_buyer_limit - quantity for pk, (promotion, quantity) in wanted.items()}
    add = {pk: quantity for pk, (_promotion, quantity) in wanted.items()}
    mine = BuyerAllowance.objects.filter(buyer=buyer, promotion_id__in=list(wanted))
    moved = mine.filter(quantity__lte=_per(room, "promotion_id")).update(
        quantity=F("quantity") + _per(add, "promotion_id")
    )
    if moved == len(wanted):
        return
    held = set(mine.values_list("promotion_id", flat=True))
    if len(held) > moved:
        raise _limit_exceeded(wanted)
    missing = [pk for pk in wanted if pk not in held]
    try:
        with transaction.atomic():
            BuyerAllowance.objects.bulk_create(
                BuyerAllowance(promotion_id=pk, buyer=buyer, quantity=add[pk]) for pk in missing
            )
            return
    except IntegrityError:
        pass
    for pk in missing:
        if not mine.filter(promotion_id=pk, quantity__lte=room[pk]).update(quantity=F("quantity") + add[pk]):
            raise _limit_exceeded(wanted)


def _use_coupon(copy_id: int, order, buyer, now) -> None:
    used = BuyerCoupon.objects.filter(
        pk=copy_id,
        buyer=buyer,
        status=BuyerCouponStatus.UNUSED,
        valid_from__lte=now,
        valid_until__gt=now,
    ).update(status=BuyerCouponStatus.USED, order=order, used_at=now)
    if not used:
        raise errors.CouponUsed(_("优惠券已使用或已失效，请重新选择"))


def give_back(order_ids, now=None) -> None:
    """Cancelled orders (any number, e.g. a timeout sweep's chunk): the flash stock and the
    allowance units each order took go back, coupons return if still valid, group seats
    are freed. A counter never goes below zero, whatever happened to it meanwhile."""
    now = now or timezone.now()
    order_ids = list(order_ids)
    uses = list(
        PromotionUse.objects.select_for_update(of=("self",))
        .filter(order_id__in=order_ids, released_at__isnull=True)
        .values(
            "pk",
            "item_id",
            "promotion_id",
            "buyer_id",
            "quantity",
            "stock_taken",
            "allowance_taken",
            "item__quota",
            "promotion__per_buyer_limit",
        )
    )
    if uses:
        PromotionUse.objects.filter(pk__in=[u["pk"] for u in uses]).update(released_at=now)
        stock, allowance = defaultdict(int), defaultdict(int)
        for use in uses:
            if use["item_id"] is not None:
                stock[use["item_id"]] += _taken(use, "stock_taken", use["item__quota"] is not None)
            allowance[(use["promotion_id"], use["buyer_id"])] += _taken(
                use, "allowance_taken", bool(use["promotion__per_buyer_limit"])
            )
        for item_id, quantity in sorted(stock.items()):
            if quantity:
                PromotionItem.objects.filter(pk=item_id).update(sold=Greatest(F("sold") - quantity, Value(0)))
        for (promotion_id, buyer_id), quantity in sorted(allowance.items()):
            if quantity:
                BuyerAllowance.objects.filter(promotion_id=promotion_id, buyer_id=buyer_id).update(
                    quantity=Greatest(F("quantity") - quantity, Value(0))
                )
    return_coupons(order_ids, now)
    groups.members_left(order_ids)


def _taken(use: dict, column: str, by_settings_now: bool) -> int:
    """Units a use took from a counter; a row written before this was recorded (null)
    falls back to the promotion's settings now."""
    if use[column] is not None:
        return use[column]
    return use["quantity"] if by_settings_now else 0


def return_coupons(order_ids, now=None) -> int:
    """A cancelled or fully refunded order's coupon is the buyer's again, if still valid."""
    now = now or timezone.now()
    return BuyerCoupon.objects.filter(
        order_id__in=list(order_ids), status=BuyerCouponStatus.USED, valid_until__gt=now
    ).update(status=BuyerCouponStatus.UNUSED, order=None, used_at=None, returned_at=now)


def with_units_sold(items: QuerySet) -> QuerySet:
    """Promotion items with `units_sold` (已售): units taken by orders not cancelled. For an
    item with a quota that is its flash-stock counter; for one without, the units held by its
    `PromotionUse` rows not given back, summed in a subquery of the same statement, so a page
    of items costs no extra query and checkout no write."""
    held = (
        PromotionUse.objects.filter(item_id=OuterRef("pk"), released_at__isnull=True)
        .order_by()
        .values("item_id")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    return items.annotate(
        units_sold=Case(
            When(quota__isnull=False, then=F("sold")),
            default=Coalesce(Subquery(held, output_field=IntegerField()), Value(0)),
            output_field=IntegerField(),
        )
    )


def units_sold(item: PromotionItem) -> int:
    """已售 of an item read through `with_units_sold`; a row not yet saved has sold none."""
    return getattr(item, "units_sold", item.sold)
