"""Coupons handed to buyers: claimed in the coupon center or on a product page, or issued
by staff (the issuance log keeps each batch).

The coupon's quantity is a counter moved by one conditional UPDATE (`issued < total`), so
50 buyers claiming the last 10 get 10 copies between them; a buyer's own limit is checked
with the buyer's row locked, so one buyer claiming twice at once gets what the limit allows,
and checked again once the coupon row is locked (by taking its quantity), so a claim racing
staff issuing the same coupon to the same buyer never goes over the limit either.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen
from fenxiao.customers.models import User

from .. import errors
from ..models import BuyerCoupon, BuyerCouponStatus, Coupon, CouponIssue, CouponKind, CouponSource, Scope

MAX_ISSUE_BATCH = 10_000


def validity(coupon: Coupon, now) -> tuple:
    """(valid_from, valid_until) of a copy handed out at `now`."""
    if coupon.valid_days:
        start = max(now, coupon.valid_from) if coupon.valid_from else now
        end = start + timedelta(days=coupon.valid_days)
        return start, min(end, coupon.valid_until) if coupon.valid_until else end
    return coupon.valid_from or now, coupon.valid_until or now + timedelta(days=3650)


def _fold(bp: int) -> str:
    """10% off is 9折, 15% off 8.5折 (integer arithmetic: no float ever shows)."""
    paid = 10000 - bp
    return f"{paid // 1000}.{paid % 1000:03d}".rstrip("0").rstrip(".") + "折"


def discount_words(bp: int) -> str:
    """9折 in Chinese (what is paid); other languages say what comes off ("10% off"), through
    the catalog's '%(percent)s%% off'. The backend, the API and share cards all word a
    percentage coupon through here."""
    if (get_language() or "zh-hans").startswith("zh"):
        return _fold(bp)
    percent = f"{bp // 100}.{bp % 100:02d}".rstrip("0").rstrip(".")
    return _("%(percent)s%% off") % {"percent": percent}


def summary(coupon: Coupon) -> str:
    """What the coupon takes off, in words: 满¥100.00减¥20.00, 满¥50.00打9折,
    无门槛8.5折，最多减¥30.00."""
    values = {"min_spend": format_fen(coupon.min_spend), "amount": format_fen(coupon.amount)}
    if coupon.kind == CouponKind.PERCENT:
        values["discount"] = discount_words(coupon.discount_bp)
        if coupon.min_spend:
            # 打 keeps the two numbers apart: 满¥50.00打9折, never 满¥50.009折.
            text = _("满%(min_spend)s打%(discount)s") % values
        else:
            text = _("无门槛%(discount)s") % values
        if coupon.max_discount:
            text += _("，最多减%(max_discount)s") % {"max_discount": format_fen(coupon.max_discount)}
        return text
    if coupon.min_spend:
        return _("满%(min_spend)s减%(amount)s") % values
    return _("无门槛减%(amount)s") % values


def available(now=None) -> Q:
    """Coupons that can still be handed out: active, not expired, not all issued."""
    now = now or timezone.now()
    return (
        Q(is_active=True)
        & (Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        & (Q(total_quantity=0) | Q(issued__lt=F("total_quantity")))
    )


def _check_open(coupon: Coupon, now) -> None:
    if not coupon.is_active:
        raise errors.CouponUnavailable()
    if coupon.valid_until and coupon.valid_until <= now:
        raise errors.CouponExpired(_("优惠券已过期，不能再领取"))


def _take_quantity(coupon_id: int, count: int) -> int:
    """Take up to `count` copies from the coupon's quantity; returns how many it got."""
    unlimited = Coupon.objects.filter(pk=coupon_id, total_quantity=0).update(issued=F("issued") + count)
    if unlimited:
        return count
    while count > 0:
        if Coupon.objects.filter(pk=coupon_id, issued__lte=F("total_quantity") - count).update(
            issued=F("issued") + count
        ):
            return count
        left = (
            Coupon.objects.filter(pk=coupon_id)
            .values_list(F("total_quantity") - F("issued"), flat=True)
            .first()
        )
        count = min(count - 1, left or 0)
    return 0


def _check_buyer_limit(coupon: Coupon, buyer) -> None:
    held = BuyerCoupon.objects.filter(coupon=coupon, buyer=buyer).count()
    if coupon.per_buyer_limit and held >= coupon.per_buyer_limit:
        raise errors.CouponLimitReached(
            _("每人限领%(per_buyer_limit)s张，您已领取") % {"per_buyer_limit": coupon.per_buyer_limit}
        )


@transaction.atomic
def claim(buyer, coupon_id: int, now=None) -> BuyerCoupon:
    """The buyer taps 领取."""
    now = now or timezone.now()
    coupon = Coupon.objects.filter(pk=coupon_id, claimable=True).first()
    if coupon is None:
        raise errors.CouponNotFound()
    _check_open(coupon, now)
    # The buyer's row serialises one buyer's claims; the coupon row is left free for others.
    # NO KEY UPDATE: staff issuing to this buyer meanwhile may still insert copies pointing
    # at the row (a plain FOR UPDATE blocks their foreign key check: a deadlock).
    User.objects.select_for_update(no_key=True).filter(pk=buyer.pk).values_list("pk").first()
    _check_buyer_limit(coupon, buyer)
    if not _take_quantity(coupon.pk, 1):
        raise errors.CouponSoldOut()
    # Taking the quantity locked the coupon row until this commits, as staff issuing the
    # coupon (`issue`) do: a batch that gave this buyer a copy meanwhile is seen now.
    _check_buyer_limit(coupon, buyer)
    start, end = validity(coupon, now)
    return BuyerCoupon.objects.create(
        coupon=coupon, buyer=buyer, valid_from=start, valid_until=end, source=CouponSource.CLAIMED
    )


@transaction.atomic
def issue(coupon: Coupon, buyer_ids, staff, *, audience: str, note: str = "", now=None) -> CouponIssue:
    """Staff hand `coupon` to buyers, one copy each, as far as its quantity and each buyer's
    limit allow; the batch is logged with how many were asked for and how many went out."""
    now = now or timezone.now()
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
    _check_open(coupon, now)
    buyer_ids = sorted(set(User.objects.filter(pk__in=list(buyer_ids)).values_list("pk", flat=True)))
    if len(buyer_ids) > MAX_ISSUE_BATCH:
        raise errors.PromotionInvalid(
            _("一次最多发放给 %(MAX_ISSUE_BATCH)s 位买家") % {"MAX_ISSUE_BATCH": MAX_ISSUE_BATCH},
            code="COUPON_ISSUE_TOO_MANY",
        )
    if coupon.per_buyer_limit:
        full = set(
            BuyerCoupon.objects.filter(coupon=coupon, buyer_id__in=buyer_ids)
            .values("buyer_id")
            .annotate(n=Count("pk"))
            .filter(n__gte=coupon.per_buyer_limit)
            .values_list("buyer_id", flat=True)
        )
        eligible = [pk for pk in buyer_ids if pk not in full]
    else:
        eligible = buyer_ids
    got = _take_quantity(coupon.pk, len(eligible)) if eligible else 0
    log = CouponIssue.objects.create(
        coupon=coupon,
        staff=staff,
        audience=audience[:200],
        requested=len(buyer_ids),
        issued=got,
        note=note[:200],
    )
    start, end = validity(coupon, now)
    BuyerCoupon.objects.bulk_create(
        BuyerCoupon(
            coupon=coupon,
            buyer_id=pk,
            valid_from=start,
            valid_until=end,
            source=CouponSource.ISSUED,
            issue=log,
        )
        for pk in eligible[:got]
    )
    return log


def wallet(buyer, now=None) -> dict[str, list[BuyerCoupon]]:
    """The buyer's coupons for 我的优惠券: usable, used, expired."""
    now = now or timezone.now()
    copies = list(
        BuyerCoupon.objects.filter(buyer=buyer).select_related("coupon").order_by("valid_until", "-pk")[:200]
    )
    return {
        "unused": [c for c in copies if c.status == BuyerCouponStatus.UNUSED and c.valid_until > now],
        "used": [c for c in copies if c.status == BuyerCouponStatus.USED],
        "expired": [c for c in copies if c.status == BuyerCouponStatus.UNUSED and c.valid_until <= now],
    }


def held_refusal(copy: BuyerCoupon, now=None) -> str:
    """Why checkout would refuse an unused, unexpired copy the buyer holds ("" if it would
    take it): the merchant stopped the coupon, or its dates start later."""
    now = now or timezone.now()
    if not copy.coupon.is_active:
        return _("商家已停用此券，暂不能使用")
    if copy.valid_from > now:
        return _("%(start)s 起可用") % {
            "start": timezone.localtime(copy.valid_from).strftime("%Y-%m-%d %H:%M")
        }
    return ""


def where_to_use(coupons) -> dict[int, str]:
    """去使用 of each coupon, by id: the one listed product or the one category it names,
    else the shop (a coupon for several goes to the whole shop or category tree). Two
    queries however many coupons."""
    coupons = list(coupons)
    ids = [c.pk for c in coupons]
    products = {
        row["coupon_id"]: row
        for row in Coupon.products.through.objects.filter(coupon_id__in=ids, product__is_listed=True)
        .values("coupon_id")
        .annotate(count=Count("product_id"), first=Min("product_id"))
    }
    categories = {
        row["coupon_id"]: row
        for row in Coupon.categories.through.objects.filter(coupon_id__in=ids)
        .values("coupon_id")
        .annotate(count=Count("category_id"), first=Min("category_id"))
    }
    urls = {}
    for coupon in coupons:
        url = "/"
        if coupon.scope == Scope.PRODUCTS and (row := products.get(coupon.pk)) and row["count"] == 1:
            url = f"/products/{row['first']}/"
        elif coupon.scope == Scope.CATEGORIES:
            row = categories.get(coupon.pk)
            url = f"/categories/?c={row['first']}" if row and row["count"] == 1 else "/categories/"
        urls[coupon.pk] = url
    return urls
