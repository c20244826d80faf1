"""What the API's shop windows read of promotions beyond `offers`: the flash sales with all
their items, the 满减 running now, the group buys and 满减 a product page advertises.

Read-only. Each helper runs a fixed number of queries whatever the number of promotions,
items or tiers, so a list page costs the same with one sale or fifty.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from fenxiao.catalog.models import Product, ProductImage

from ..models import Promotion, PromotionItem, PromotionKind, PromotionState, running
from .offers import UPCOMING_WINDOW_HOURS
from .pricing import Scopes
from .reservations import with_units_sold

MAX_FLASH_SALES = 20
MAX_ITEMS_PER_SALE = 50


@dataclass
class FlashItemView:
    item: PromotionItem
    product: Product
    price: int
    regular: int

    @property
    def percent_sold(self) -> int:
        return self.item.percent_sold

    @property
    def sold_out(self) -> bool:
        return self.item.sold_out


@dataclass
class FlashSaleView:
    promotion: Promotion
    state: str
    items: list[FlashItemView]

    @property
    def countdown_to(self):
        """The start before the window, the end during it (what the H5 countdown counts to)."""
        if self.state == PromotionState.UPCOMING:
            return self.promotion.starts_at
        return self.promotion.closes_at


def _open(now) -> Q:
    return Q(ended_at__isnull=True) | Q(ended_at__gt=now)


def flash_sales(state: str | None = None, now=None) -> list[FlashSaleView]:
    """Flash sales running now, and those starting within the announcement window, soonest
    to end (or to start) first; `state` keeps only "running" or only "upcoming". Items of
    delisted products are left out, and a sale with no item left is not shown."""
    now = now or timezone.now()
    soon = now + timedelta(hours=UPCOMING_WINDOW_HOURS)
    promotions = Promotion.objects.filter(_open(now), kind=PromotionKind.FLASH, ends_at__gt=now)
    if state == PromotionState.RUNNING:
        promotions = promotions.filter(starts_at__lte=now)
    elif state == PromotionState.UPCOMING:
        promotions = promotions.filter(starts_at__gt=now, starts_at__lte=soon)
    else:
        promotions = promotions.filter(starts_at__lte=soon)
    promotions = list(promotions.order_by("starts_at", "ends_at", "pk")[:MAX_FLASH_SALES])
    items = with_units_sold(
        PromotionItem.objects.filter(promotion__in=[p.pk for p in promotions], product__is_listed=True)
        .select_related("product", "sku")
        .prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("sort_order", "id"))
        )
        .order_by("pk")
    )
    by_promotion: dict[int, list[FlashItemView]] = {p.pk: [] for p in promotions}
    for item in items:
        views = by_promotion[item.promotion_id]
        if len(views) < MAX_ITEMS_PER_SALE:
            regular = item.sku.price if item.sku_id else item.product.price
            views.append(FlashItemView(item, item.product, item.price_for(regular), regular))
    sales = [FlashSaleView(p, p.state(now), by_promotion[p.pk]) for p in promotions if by_promotion[p.pk]]
    # Running sales first (the one ending soonest on top), then those about to start.
    return sorted(sales, key=lambda s: (s.state != PromotionState.RUNNING, s.countdown_to, s.promotion.pk))


def running_spend(now=None) -> list[Promotion]:
    """满减 promotions running now, each with its tiers, categories and products loaded."""
    now = now or timezone.now()
    return list(
        Promotion.objects.filter(running(now), kind=PromotionKind.SPEND)
        .prefetch_related("tiers", "categories", "products")
        .order_by("ends_at", "pk")
    )


def spend_for_product(product: Product, now=None) -> list[Promotion]:
    """The running 满减 whose scope covers `product` (a category scope includes subcategories)."""
    scopes = Scopes()
    return [
        p
        for p in running_spend(now)
        if p.tiers.all() and scopes.covers_product(p, product.pk, product.category_id)
    ]


@dataclass
class GroupOfferView:
    promotion: Promotion
    item: PromotionItem
    price: int
    regular: int


def group_offers(product: Product, now=None) -> list[GroupOfferView]:
    """The running group buys that sell `product` (or one of its SKUs) at a group price."""
    now = now or timezone.now()
    items = (
        PromotionItem.objects.filter(
            product=product,
            promotion__in=Promotion.objects.filter(running(now), kind=PromotionKind.GROUP).values("pk"),
        )
        .select_related("promotion", "sku")
        .order_by("pk")
    )
    views = []
    for item in items:
        regular = item.sku.price if item.sku_id else product.price
        views.append(GroupOfferView(item.promotion, item, item.price_for(regular), regular))
    return views
