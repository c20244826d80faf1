"""Promotions for tests: running now unless told otherwise."""

from datetime import timedelta

from django.utils import timezone

from fenxiao.promotions.models import (
    BuyerCoupon,
    Coupon,
    Promotion,
    PromotionItem,
    PromotionKind,
    SpendTier,
)


def _window(starts_in=None, hours=24):
    now = timezone.now()
    starts = now + starts_in if starts_in is not None else now - timedelta(hours=1)
    return {"starts_at": starts, "ends_at": starts + timedelta(hours=hours)}


def make_flash(
    product, *, price=None, discount_bp=None, sku=None, quota=None, limit=0, starts_in=None, **fields
):
    """A running flash sale on `product` (or one `sku`) at `price` fen or `discount_bp` off."""
    promotion = Promotion.objects.create(
        kind=PromotionKind.FLASH,
        name=fields.pop("name", "限时秒杀"),
        per_buyer_limit=limit,
        **_window(starts_in, fields.pop("hours", 24)),
        **fields,
    )
    PromotionItem.objects.create(
        promotion=promotion,
        product=product,
        sku=sku,
        price=price if discount_bp is None else None,
        discount_bp=discount_bp,
        quota=quota,
    )
    return promotion


def make_spend(tiers, *, scope="shop", categories=(), products=(), repeat=False, stackable=True, **fields):
    """A running 满减: `tiers` are (threshold, reduction) or (threshold, reduction, free_shipping)."""
    promotion = Promotion.objects.create(
        kind=PromotionKind.SPEND,
        name=fields.pop("name", "满减"),
        scope=scope,
        repeat=repeat,
        stackable=stackable,
        **_window(fields.pop("starts_in", None), fields.pop("hours", 24)),
        **fields,
    )
    promotion.categories.set(categories)
    promotion.products.set(products)
    for tier in tiers:
        threshold, reduction, *rest = tier
        SpendTier.objects.create(
            promotion=promotion,
            threshold=threshold,
            reduction=reduction,
            free_shipping=bool(rest and rest[0]),
        )
    return promotion


def make_group(product, *, price, size=2, hours=24, sku=None, limit=0, **fields):
    promotion = Promotion.objects.create(
        kind=PromotionKind.GROUP,
        name=fields.pop("name", "两人拼团"),
        group_size=size,
        group_hours=hours,
        per_buyer_limit=limit,
        **_window(fields.pop("starts_in", None), fields.pop("window_hours", 72)),
        **fields,
    )
    PromotionItem.objects.create(promotion=promotion, product=product, sku=sku, price=price)
    return promotion


def make_coupon(
    *,
    amount=0,
    discount_bp=0,
    max_discount=0,
    min_spend=0,
    scope="shop",
    categories=(),
    products=(),
    **fields,
):
    coupon = Coupon.objects.create(
        name=fields.pop("name", "店铺券"),
        kind="percent" if discount_bp else "fixed",
        amount=amount,
        discount_bp=discount_bp,
        max_discount=max_discount,
        min_spend=min_spend,
        scope=scope,
        **fields,
    )
    coupon.categories.set(categories)
    coupon.products.set(products)
    return coupon


def give_coupon(buyer, coupon, *, days=30, starts_in=None):
    """A copy of `coupon` in the buyer's wallet, valid now for `days` (no quantity taken)."""
    now = timezone.now()
    start = now + starts_in if starts_in is not None else now - timedelta(minutes=1)
    return BuyerCoupon.objects.create(
        coupon=coupon, buyer=buyer, valid_from=start, valid_until=start + timedelta(days=days)
    )
