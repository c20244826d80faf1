"""What the shop windows show of promotions: flash prices with their countdowns, the
claimable coupons. Read-only, a fixed number of queries for any number of products."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    BuyerAllowance,
    BuyerCoupon,
    Coupon,
    Promotion,
    PromotionItem,
    PromotionKind,
    Scope,
    running,
)
from .coupons import available, validity

UPCOMING_WINDOW_HOURS = 24  # a flash sale is announced ("starts in …") this long before


@dataclass
class FlashOffer:
    promotion: Promotion
    item: PromotionItem
    price: int  # the lowest flash price among the product's SKUs still selling
    regular: int
    started: bool

    @property
    def countdown_to(self):
        """What the countdown counts to: the start before the window, the end during it."""
        return self.promotion.closes_at if self.started else self.promotion.starts_at

    @property
    def sold_out(self) -> bool:
        return self.item.sold_out

    @property
    def percent_sold(self) -> int:
        return self.item.percent_sold


def selling_flash(product, now=None) -> FlashOffer | None:
    """The product's flash offer if it is selling now (started, not sold out): the price
    and commission a share of the product carries."""
    flash = flash_offers([product], now).get(product.pk)
    return flash if flash is not None and flash.started and not flash.sold_out else None


def flash_refusal(offer: FlashOffer | None, buyer) -> str:
    """Why checkout would refuse the SKUs a running flash offer covers right now, as the
    product page says it beside its disabled buttons ("" while they can be bought): its
    flash stock is gone, or this buyer holds the per-buyer limit. Checkout refuses both
    (FLASH_SOLD_OUT, FLASH_LIMIT_EXCEEDED) rather than charge the regular price unasked."""
    if offer is None or not offer.started:
        return ""
    if offer.sold_out:
        return _("活动库存已抢光，活动结束后可按原价购买")
    limit = offer.promotion.per_buyer_limit
    if limit and buyer is not None and buyer.is_authenticated:
        held = BuyerAllowance.objects.filter(promotion=offer.promotion, buyer=buyer).values_list(
            "quantity", flat=True
        )
        if next(iter(held), 0) >= limit:
            return _("每人限购%(limit)s件，您已购买%(limit)s件") % {"limit": limit}
    return ""


def flash_offers(products, now=None) -> dict[int, FlashOffer]:
    """The running (or about-to-start) flash offer of each product, by product id."""
    now = now or timezone.now()
    products = {p.pk: p for p in products}
    if not products:
        return {}
    soon = now + timedelta(hours=UPCOMING_WINDOW_HOURS)
    items = (
        PromotionItem.objects.filter(
            product_id__in=list(products),
            promotion__kind=PromotionKind.FLASH,
            promotion__starts_at__lte=soon,
            promotion__ends_at__gt=now,
        )
        .filter(Q(promotion__ended_at__isnull=True) | Q(promotion__ended_at__gt=now))
        .select_related("promotion", "sku")
        .order_by("pk")
    )
    offers: dict[int, FlashOffer] = {}
    for item in items:
        product = products[item.product_id]
        regular = item.sku.price if item.sku_id else product.price
        price = item.price_for(regular)
        started = item.promotion.starts_at <= now
        offer = FlashOffer(item.promotion, item, price, regular, started)
        best = offers.get(item.product_id)
        # A running offer beats an upcoming one, one with flash stock left beats a sold-out
        # one (a share or a card offers what can still be bought); then the lower price.
        if best is None or (not started, offer.sold_out, price) < (
            not best.started,
            best.sold_out,
            best.price,
        ):
            offers[item.product_id] = offer
    return offers


def running_flash_items(now=None, limit: int = 10) -> list[PromotionItem]:
    """The home page's 限时抢购 block: items of flash sales running now, soonest to end first."""
    now = now or timezone.now()
    return list(
        PromotionItem.objects.filter(promotion__kind=PromotionKind.FLASH, product__is_listed=True)
        .filter(promotion__in=Promotion.objects.filter(running(now)).values("pk"))
        .select_related("promotion", "product", "sku")
        .order_by("promotion__ends_at", "pk")[:limit]
    )


def _covers(product) -> Q:
    from fenxiao.catalog.services.products import ancestor_ids

    naming_product = Coupon.products.through.objects.filter(product_id=product.pk)
    return (
        Q(scope=Scope.SHOP)
        | Q(scope=Scope.PRODUCTS, pk__in=naming_product.values("coupon_id"))
        | Q(
            scope=Scope.CATEGORIES,
            pk__in=Coupon.categories.through.objects.filter(
                category_id__in=ancestor_ids(product.category_id)
            ).values("coupon_id"),
        )
    )


def next_window_change(now=None):
    """The next moment the flash offers a shop window shows change by the clock alone: a
    flash sale is announced (its window of `UPCOMING_WINDOW_HOURS` opens), starts, or
    closes. None when no flash sale is ahead. One query."""
    now = now or timezone.now()
    soon = now + timedelta(hours=UPCOMING_WINDOW_HOURS)
    moments = (
        Promotion.objects.filter(kind=PromotionKind.FLASH, ends_at__gt=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now))
        .aggregate(
            announced=Min("starts_at", filter=Q(starts_at__gt=soon)),
            starts=Min("starts_at", filter=Q(starts_at__gt=now)),
            ends=Min("ends_at"),
            ended=Min("ended_at"),
        )
    )
    if moments["announced"] is not None:
        moments["announced"] -= timedelta(hours=UPCOMING_WINDOW_HOURS)
    return min((moment for moment in moments.values() if moment is not None), default=None)


def claimable_coupons(buyer=None, *, product=None, now=None) -> list[Coupon]:
    """Coupons the coupon center (or a product page, for that product) offers; each carries
    `claimed` (copies the buyer holds) so the page can say 已领取. For a product, the scope
    is decided in the query: shop-wide, naming the product, or naming its category or one
    above it."""
    now = now or timezone.now()
    coupons = Coupon.objects.filter(available(now), claimable=True)
    if product is not None:
        coupons = coupons.filter(_covers(product))
    return _with_claims(list(coupons.order_by("min_spend", "-pk")[:50]), buyer, now)


def claimable_coupon(coupon_id: int, buyer=None, *, now=None) -> Coupon | None:
    """One coupon of the coupon center (the page a shared coupon opens), with `claimed` and
    `can_claim` as in `claimable_coupons`; None once it cannot be claimed."""
    now = now or timezone.now()
    coupon = Coupon.objects.filter(available(now), claimable=True, pk=coupon_id).first()
    return _with_claims([coupon], buyer, now)[0] if coupon is not None else None


def _with_claims(coupons: list[Coupon], buyer, now=None) -> list[Coupon]:
    now = now or timezone.now()
    held = {}
    if buyer is not None and getattr(buyer, "is_authenticated", False):
        for coupon_id in BuyerCoupon.objects.filter(
            buyer=buyer, coupon_id__in=[c.pk for c in coupons]
        ).values_list("coupon_id", flat=True):
            held[coupon_id] = held.get(coupon_id, 0) + 1
    for coupon in coupons:
        coupon.claimed = held.get(coupon.pk, 0)
        coupon.can_claim = not coupon.per_buyer_limit or coupon.claimed < coupon.per_buyer_limit
        # The window of a copy claimed now, for the card to say: a coupon whose dates begin
        # later is usable only from then (its N days count from then too), and N days after
        # claiming stop at the coupon's own end.
        start, end = validity(coupon, now)
        coupon.copy_starts = start if start > now else None
        coupon.copy_end = end
        coupon.copy_capped = bool(coupon.valid_days) and end < start + timedelta(days=coupon.valid_days)
    return coupons
