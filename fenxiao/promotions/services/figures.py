"""What each promotion brought in, for the backend: orders, buyers, GMV, discount cost and
commission paid, counted over the orders that were sold: paid, not cancelled and not
refunded in full (an order still waiting for its money, or whose money all went back,
brought in nothing). GMV is what the lines were paid less what was refunded on them.

A promotion's orders are those with an OrderDiscount row naming it; its lines are the lines
that carry such a row (pricing writes one row per line and promotion, so joining lines to
their rows never counts a line twice). Every figure is a grouped query over all the
promotions asked for at once: a list page costs the same few queries for any number of rows.
"""

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum

from fenxiao.distribution.models import Commission, CommissionStatus
from fenxiao.orders.models import OrderDiscount, OrderLine, OrderStatus

from ..models import BuyerCoupon, BuyerCouponStatus


@dataclass(frozen=True)
class Figures:
    orders: int = 0
    buyers: int = 0
    gmv: int = 0  # what the promotion's lines were paid, fen
    discount: int = 0  # what the promotion gave away, shipping waived included, fen
    commission: int = 0  # commission on the promotion's lines, after reversals, fen


# Rows whose order was paid and kept at least in part.
SOLD = (
    Q(order__paid_at__isnull=False)
    & ~Q(order__status=OrderStatus.CANCELLED)
    & Q(order__refunded_amount__lt=F("order__paid_amount"))
)


def promotion_figures(promotion_ids) -> dict[int, Figures]:
    ids = list(promotion_ids)
    if not ids:
        return {}
    rows = {
        r["promotion_id"]: r
        for r in OrderDiscount.objects.filter(SOLD, promotion_id__in=ids)
        .values("promotion_id")
        .annotate(
            orders=Count("order_id", distinct=True),
            buyers=Count("order__buyer_id", distinct=True),
            discount=Sum("amount"),
        )
    }
    gmv = dict(
        OrderLine.objects.filter(SOLD, discounts__promotion_id__in=ids)
        .values_list("discounts__promotion_id")
        .annotate(total=Sum(F("paid_amount") - F("refunded_amount")))
    )
    commission = dict(
        Commission.objects.filter(SOLD, order_line__discounts__promotion_id__in=ids)
        .exclude(status=CommissionStatus.CANCELLED)
        .values_list("order_line__discounts__promotion_id")
        .annotate(total=Sum(F("amount") - F("reversed_amount")))
    )
    result = {}
    for pk in ids:
        row = rows.get(pk, {})
        result[pk] = Figures(
            orders=row.get("orders", 0),
            buyers=row.get("buyers", 0),
            gmv=gmv.get(pk) or 0,
            discount=row.get("discount") or 0,
            commission=commission.get(pk) or 0,
        )
    return result


@dataclass(frozen=True)
class CouponFigures:
    claimed: int = 0  # copies in buyers' hands, claimed or issued
    used: int = 0
    discount: int = 0  # what the used copies took off orders sold, fen


def coupon_figures(coupon_ids) -> dict[int, CouponFigures]:
    ids = list(coupon_ids)
    if not ids:
        return {}
    counts = {
        r["coupon_id"]: r
        for r in BuyerCoupon.objects.filter(coupon_id__in=ids)
        .values("coupon_id")
        .annotate(claimed=Count("pk"), used=Count("pk", filter=Q(status=BuyerCouponStatus.USED)))
    }
    # OrderDiscount keeps the buyer's copy by id (orders never imports promotions).
    copy_of = BuyerCoupon.objects.filter(pk=OuterRef("coupon_id")).values("coupon_id")[:1]
    discount = dict(
        OrderDiscount.objects.filter(
            SOLD,
            coupon_id__in=BuyerCoupon.objects.filter(coupon_id__in=ids).values("pk"),
        )
        .annotate(coupon=Subquery(copy_of))
        .values_list("coupon")
        .annotate(total=Sum("amount"))
    )
    return {
        pk: CouponFigures(
            claimed=counts.get(pk, {}).get("claimed", 0),
            used=counts.get(pk, {}).get("used", 0),
            discount=discount.get(pk) or 0,
        )
        for pk in ids
    }
