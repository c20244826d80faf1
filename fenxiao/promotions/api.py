"""Promotions for app and mini-program clients: flash sales, a product's offers, the coupon
center, claiming, the buyer's coupons, the 满减 running now.

Reads are public; a buyer token (or the H5 session), when sent, adds what only that buyer
can see (coupons already claimed). Claiming and "my coupons" need a signed-in buyer.
"""

from datetime import datetime
from typing import Annotated, Literal

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.security import django_auth

from fenxiao.catalog.errors import ProductNotFound
from fenxiao.catalog.models import Product
from fenxiao.core.money import format_fen
from fenxiao.customers.auth import TokenAuth, buyer_auth
from fenxiao.orders.schemas import MAX_ID

from .models import BuyerCoupon, Coupon, Promotion, PromotionState, Scope, SpendTier
from .services import catalog_offers, coupons, offers


def _anyone(request):
    """Last in the chain of a public read: a caller without valid credentials reads as a
    visitor instead of being refused."""
    return True


# A token or session identifies the buyer when there is one; nobody is turned away.
optional_buyer = [TokenAuth(), django_auth, _anyone]

router = Router(tags=["营销活动"])


def _buyer(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def tier_text(tier: SpendTier, repeat: bool) -> str:
    values = {"threshold": format_fen(tier.threshold), "reduction": format_fen(tier.reduction)}
    if tier.reduction and tier.free_shipping:
        text = (
            _("每满%(threshold)s减%(reduction)s、包邮")
            if repeat
            else _("满%(threshold)s减%(reduction)s、包邮")
        )
    elif tier.reduction:
        text = _("每满%(threshold)s减%(reduction)s") if repeat else _("满%(threshold)s减%(reduction)s")
    elif tier.free_shipping:
        text = _("每满%(threshold)s包邮") if repeat else _("满%(threshold)s包邮")
    else:
        text = _("每满%(threshold)s") if repeat else _("满%(threshold)s")
    return text % values


# --- schemas ------------------------------------------------------------------------------------


class FlashItemOut(Schema):
    item_id: int
    product_id: int
    sku_id: int | None
    product_name: str
    cover_url: str | None
    flash_price: int
    flash_price_display: str
    regular_price: int
    regular_price_display: str
    quota: int | None
    sold: int
    remaining: int | None
    percent_sold: int
    sold_out: bool


class FlashSaleOut(Schema):
    id: int
    name: str
    state: str
    state_display: str
    starts_at: datetime
    ends_at: datetime
    countdown_to: datetime
    per_buyer_limit: int
    items: list[FlashItemOut]


class FlashOfferOut(Schema):
    product_id: int
    promotion_id: int
    name: str
    state: str
    starts_at: datetime
    ends_at: datetime
    countdown_to: datetime
    sku_id: int | None
    flash_price: int
    regular_price: int
    per_buyer_limit: int
    remaining: int | None
    percent_sold: int
    sold_out: bool


class TierOut(Schema):
    threshold: int
    reduction: int
    free_shipping: bool
    text: str


class SpendPromotionOut(Schema):
    id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    scope: str
    scope_display: str
    category_ids: list[int]
    product_ids: list[int]
    repeat: bool
    stackable: bool
    tiers: list[TierOut]
    summary: str


class GroupOfferOut(Schema):
    promotion_id: int
    item_id: int
    name: str
    sku_id: int | None
    group_price: int
    regular_price: int
    group_size: int
    group_hours: int
    per_buyer_limit: int
    ends_at: datetime


class CouponTermsOut(Schema):
    """What a coupon takes off and where, as the coupon center and the buyer's wallet show it."""

    name: str
    kind: str
    summary: str
    amount: int
    discount_bp: int
    max_discount: int
    min_spend: int
    scope: str
    scope_display: str


class CouponOut(CouponTermsOut):
    id: int
    valid_from: datetime | None
    valid_until: datetime | None
    valid_days: int | None
    remaining: int | None
    per_buyer_limit: int
    claimed: int
    can_claim: bool


class ProductPromotionsOut(Schema):
    product_id: int
    flash: FlashOfferOut | None
    spend: list[SpendPromotionOut]
    groups: list[GroupOfferOut]
    coupons: list[CouponOut]


class BuyerCouponOut(CouponTermsOut):
    id: int = Field(description="买家优惠券 ID：下单时作为 coupon_id 传入")
    coupon_id: int
    status: Literal["unused", "used", "expired"]
    source: str
    valid_from: datetime
    valid_until: datetime
    used_at: datetime | None
    claimed_at: datetime
    usable: bool = Field(description="现在下单可用（未使用、未过期、已开始、商家未停用）")
    unusable_reason: str = Field(
        description="未使用、未过期却暂不可用时的原因，如“商家已停用此券，暂不能使用”；其余为空"
    )


class MyCouponsOut(Schema):
    unused: list[BuyerCouponOut]
    used: list[BuyerCouponOut]
    expired: list[BuyerCouponOut]


# --- shaping ------------------------------------------------------------------------------------


def _cover(request, product) -> str | None:
    images = list(product.images.all())
    return request.build_absolute_uri(images[0].image.url) if images else None


def _flash_sale(request, sale: catalog_offers.FlashSaleView) -> dict:
    promotion = sale.promotion
    return {
        "id": promotion.pk,
        "name": promotion.name,
        "state": sale.state,
        "state_display": str(PromotionState(sale.state).label),
        "starts_at": promotion.starts_at,
        "ends_at": promotion.closes_at,
        "countdown_to": sale.countdown_to,
        "per_buyer_limit": promotion.per_buyer_limit,
        "items": [
            {
                "item_id": view.item.pk,
                "product_id": view.product.pk,
                "sku_id": view.item.sku_id,
                "product_name": view.product.name,
                "cover_url": _cover(request, view.product),
                "flash_price": view.price,
                "flash_price_display": format_fen(view.price),
                "regular_price": view.regular,
                "regular_price_display": format_fen(view.regular),
                "quota": view.item.quota,
                "sold": view.item.units_sold,
                "remaining": view.item.remaining,
                "percent_sold": view.percent_sold,
                "sold_out": view.sold_out,
            }
            for view in sale.items
        ],
    }


def _flash_offer(offer: offers.FlashOffer) -> dict:
    return {
        "product_id": offer.item.product_id,
        "promotion_id": offer.promotion.pk,
        "name": offer.promotion.name,
        "state": PromotionState.RUNNING if offer.started else PromotionState.UPCOMING,
        "starts_at": offer.promotion.starts_at,
        "ends_at": offer.promotion.closes_at,
        "countdown_to": offer.countdown_to,
        "sku_id": offer.item.sku_id,
        "flash_price": offer.price,
        "regular_price": offer.regular,
        "per_buyer_limit": offer.promotion.per_buyer_limit,
        "remaining": offer.item.remaining,
        "percent_sold": offer.percent_sold,
        "sold_out": offer.sold_out,
    }


def _spend(promotion: Promotion) -> dict:
    tiers = sorted(promotion.tiers.all(), key=lambda t: t.threshold)
    texts = [tier_text(t, promotion.repeat) for t in tiers]
    return {
        "id": promotion.pk,
        "name": promotion.name,
        "starts_at": promotion.starts_at,
        "ends_at": promotion.closes_at,
        "scope": promotion.scope,
        "scope_display": str(Scope(promotion.scope).label),
        "category_ids": [c.pk for c in promotion.categories.all()],
        "product_ids": [p.pk for p in promotion.products.all()],
        "repeat": promotion.repeat,
        "stackable": promotion.stackable,
        "tiers": [
            {
                "threshold": t.threshold,
                "reduction": t.reduction,
                "free_shipping": t.free_shipping,
                "text": text,
            }
            for t, text in zip(tiers, texts, strict=True)
        ],
        "summary": "；".join(texts),
    }


def _coupon_terms(coupon: Coupon) -> dict:
    return {
        "name": coupon.name,
        "kind": coupon.kind,
        "summary": coupons.summary(coupon),
        "amount": coupon.amount,
        "discount_bp": coupon.discount_bp,
        "max_discount": coupon.max_discount,
        "min_spend": coupon.min_spend,
        "scope": coupon.scope,
        "scope_display": str(Scope(coupon.scope).label),
    }


def _claimable(coupon: Coupon) -> dict:
    return {
        "id": coupon.pk,
        **_coupon_terms(coupon),
        "valid_from": coupon.valid_from,
        "valid_until": coupon.valid_until,
        "valid_days": coupon.valid_days,
        "remaining": coupon.total_quantity - coupon.issued if coupon.total_quantity else None,
        "per_buyer_limit": coupon.per_buyer_limit,
        "claimed": coupon.claimed,
        "can_claim": coupon.can_claim,
    }


def _copy(copy: BuyerCoupon, status: str, now) -> dict:
    refusal = coupons.held_refusal(copy, now) if status == "unused" else ""
    return {
        "usable": status == "unused" and not refusal,
        "unusable_reason": refusal,
        "id": copy.pk,
        "coupon_id": copy.coupon_id,
        **_coupon_terms(copy.coupon),
        "status": status,
        "source": copy.source,
        "valid_from": copy.valid_from,
        "valid_until": copy.valid_until,
        "used_at": copy.used_at,
        "claimed_at": copy.claimed_at,
    }


# --- endpoints ----------------------------------------------------------------------------------


@router.get("/flash-sales", response=list[FlashSaleOut], auth=None)
def flash_sales(request, state: Literal["running", "upcoming"] | None = None):
    """Flash sales running now and those starting within 24 hours, with every item's flash
    and regular price, flash stock left and share sold (amounts in fen)."""
    return [_flash_sale(request, sale) for sale in catalog_offers.flash_sales(state)]


@router.get("/flash-offers", response=list[FlashOfferOut], auth=None)
def flash_offers(
    request,
    product_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Query(..., min_length=1, max_length=50),
):
    """For product cards: each listed product's flash offer (running, or starting within 24
    hours), the lowest flash price among its SKUs; products without one are left out."""
    products = Product.objects.filter(pk__in=set(product_ids), is_listed=True).only("pk", "price")
    found = offers.flash_offers(products)
    return [_flash_offer(found[pk]) for pk in sorted(found)]


@router.get("/spend-promotions", response=list[SpendPromotionOut], auth=None)
def spend_promotions(request):
    """满减 running now, with their tiers (amounts in fen) and scope."""
    return [_spend(p) for p in catalog_offers.running_spend()]


@router.get("/products/{product_id}/promotions", response=ProductPromotionsOut, auth=optional_buyer)
def product_promotions(request, product_id: int = Path(..., ge=1, le=MAX_ID)):
    """What a product page advertises: its flash offer (running, or starting within 24 hours),
    the 满减 that cover it, its group buys and the coupons that can be claimed for it."""
    product = Product.objects.filter(pk=product_id, is_listed=True).first()
    if product is None:
        raise ProductNotFound()
    now = timezone.now()
    offer = offers.flash_offers([product], now).get(product.pk)
    return {
        "product_id": product.pk,
        "flash": _flash_offer(offer) if offer is not None else None,
        "spend": [_spend(p) for p in catalog_offers.spend_for_product(product, now)],
        "groups": [
            {
                "promotion_id": view.promotion.pk,
                "item_id": view.item.pk,
                "name": view.promotion.name,
                "sku_id": view.item.sku_id,
                "group_price": view.price,
                "regular_price": view.regular,
                "group_size": view.promotion.group_size,
                "group_hours": view.promotion.group_hours,
                "per_buyer_limit": view.promotion.per_buyer_limit,
                "ends_at": view.promotion.closes_at,
            }
            for view in catalog_offers.group_offers(product, now)
        ],
        "coupons": [
            _claimable(c) for c in offers.claimable_coupons(_buyer(request), product=product, now=now)
        ],
    }


@router.get("/coupons", response=list[CouponOut], auth=optional_buyer)
def coupon_center(request):
    """The coupon center: coupons open for claiming. With a buyer's token (or session) each
    says how many that buyer holds (`claimed`) and whether one more may be claimed."""
    return [_claimable(c) for c in offers.claimable_coupons(_buyer(request))]


@router.post("/coupons/{coupon_id}/claim", response={201: BuyerCouponOut}, auth=buyer_auth)
def claim_coupon(request, coupon_id: int = Path(..., ge=1, le=MAX_ID)):
    """Claim one copy of a coupon (its quantity and the per-buyer limit permitting)."""
    copy = coupons.claim(request.user, coupon_id)
    copy = BuyerCoupon.objects.select_related("coupon").get(pk=copy.pk)
    return Status(201, _copy(copy, "unused", timezone.now()))


@router.get("/me/coupons", response=MyCouponsOut, auth=buyer_auth)
def my_coupons(request):
    """The buyer's coupons: usable (`unused`, its `id` is what checkout takes as `coupon_id`),
    used, and expired unused."""
    now = timezone.now()
    wallet = coupons.wallet(request.user, now)
    return {status: [_copy(c, status, now) for c in copies] for status, copies in wallet.items()}
