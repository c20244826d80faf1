"""What an order takes from promotions at checkout, and gives back when it is cancelled.

Taken inside checkout's transaction with conditional UPDATEs, so no count ever passes its
limit however many buyers race: flash stock (`sold <= quota`), the buyer's units in a
limited promotion (`quantity <= per_buyer_limit`), the coupon (`unused → used`), the group
seat (see `groups`). Each take is a `PromotionUse` row; giving back marks it released in
the same statement that finds it, so it happens once whoever cancels.
"""

from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .. import errors
from ..models import BuyerAllowance, BuyerCoupon, BuyerCouponStatus, PromotionItem, PromotionUse
from . import groups


def take(order, q, buyer, now=None) -> None:
    now = now or timezone.now()
    by_item: dict[int, int] = defaultdict(int)
    items = {}
    for line in q.lines:
        if line.promotion_item is not None:
            by_item[line.promotion_item.pk] += line.quantity
            items[line.promotion_item.pk] = line.promotion_item
    for item_id in sorted(by_item):  # always in id order: two checkouts never lock crosswise
        _take_stock(items[item_id], by_item[item_id])
    by_promotion: dict[int, int] = defaultdict(int)
    for item_id, quantity in by_item.items():
        if items[item_id].promotion.per_buyer_limit:
            by_promotion[items[item_id].promotion_id] += quantity
    for promotion_id in sorted(by_promotion):
        promotion = next(i.promotion for i in items.values() if i.promotion_id == promotion_id)
        _take_allowance(promotion, buyer, by_promotion[promotion_id])
    PromotionUse.objects.bulk_create(
        PromotionUse(order=order, promotion_id=items[i].promotion_id, item_id=i, buyer=buyer, quantity=n)
        for i, n in by_item.items()
    )
    if q.coupon_id is not None:
        _use_coupon(q.coupon_id, order, buyer, now)
    if q.group is not None:
        groups.take_seat(order, buyer, q.group, now)


def _take_stock(item: PromotionItem, quantity: int) -> None:
    if item.quota is None:
        return
    if not PromotionItem.objects.filter(pk=item.pk, sold__lte=F("quota") - quantity).update(
        sold=F("sold") + quantity
    ):
        raise errors.FlashSoldOut()


def _take_allowance(promotion, buyer, quantity: int) -> None:
    limit = promotion.per_buyer_limit
    if quantity > limit:
        raise errors.FlashLimitExceeded(f"“{promotion.name}”每人限购{limit}件", limit=limit)
    mine = BuyerAllowance.objects.filter(promotion=promotion, buyer=buyer, quantity__lte=limit - quantity)
    if mine.update(quantity=F("quantity") + quantity):
        return
    try:
        with transaction.atomic():
            BuyerAllowance.objects.create(promotion=promotion, buyer=buyer, quantity=quantity)
            return
    except IntegrityError:
        pass  # the buyer's row exists (maybe just written by their other checkout): it decides
    if not mine.update(quantity=F("quantity") + quantity):
        raise errors.FlashLimitExceeded(f"“{promotion.name}”每人限购{limit}件", limit=limit)


def _use_coupon(copy_id: int, order, buyer, now) -> None:
    used = BuyerCoupon.objects.filter(
        pk=copy_id,
        buyer=buyer,
        status=BuyerCouponStatus.UNUSED,
        valid_from__lte=now,
        valid_until__gt=now,
    ).update(status=BuyerCouponStatus.USED, order=order, used_at=now)
    if not used:
        raise errors.CouponUsed("优惠券已使用或已失效，请重新选择")


def give_back(order_ids, now=None) -> None:
    """Cancelled orders (any number, e.g. a timeout sweep's chunk): flash stock and the
    buyers' allowances go back, coupons return if still valid, group seats are freed."""
    now = now or timezone.now()
    order_ids = list(order_ids)
    uses = list(
        PromotionUse.objects.filter(order_id__in=order_ids, released_at__isnull=True).values(
            "pk",
            "item_id",
            "promotion_id",
            "buyer_id",
            "quantity",
            "item__quota",
            "promotion__per_buyer_limit",
        )
    )
    if uses:
        PromotionUse.objects.filter(pk__in=[u["pk"] for u in uses]).update(released_at=now)
        stock, allowance = defaultdict(int), defaultdict(int)
        for use in uses:
            if use["item__quota"] is not None:
                stock[use["item_id"]] += use["quantity"]
            if use["promotion__per_buyer_limit"]:
                allowance[(use["promotion_id"], use["buyer_id"])] += use["quantity"]
        for item_id in sorted(stock):
            PromotionItem.objects.filter(pk=item_id).update(sold=F("sold") - stock[item_id])
        for (promotion_id, buyer_id), quantity in sorted(allowance.items()):
            BuyerAllowance.objects.filter(promotion_id=promotion_id, buyer_id=buyer_id).update(
                quantity=F("quantity") - quantity
            )
    return_coupons(order_ids, now)
    groups.members_left(order_ids)


def return_coupons(order_ids, now=None) -> int:
    """A cancelled or fully refunded order's coupon is the buyer's again, if still valid."""
    now = now or timezone.now()
    return BuyerCoupon.objects.filter(
        order_id__in=list(order_ids), status=BuyerCouponStatus.USED, valid_until__gt=now
    ).update(status=BuyerCouponStatus.UNUSED, order=None, used_at=None, returned_at=now)
