"""Browsing: home, categories, search, product page."""

import unicodedata

from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services.products import descendant_ids, matching
from fenxiao.core import traffic
from fenxiao.core.pagination import page_number
from fenxiao.distribution.services import distributors, sharing
from fenxiao.orders.services import reviews
from fenxiao.promotions.services import offers, showcase

from ..models import Banner
from .common import int_or_none
from .window import shop_window

SORTS = {
    "newest": ("-created_at", "-id"),
    "sales": ("-sales_count", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
}
PAGE_SIZE = 20
SUGGESTIONS = 6


def _cards():
    return Product.objects.filter(is_listed=True).prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id"))
    )


def with_flash(products, now=None) -> list:
    """The products, each with `flash`: its running or announced flash offer (or None)."""
    products = list(products)
    found = offers.flash_offers(products, now)
    for product in products:
        product.flash = found.get(product.pk)
    return products


def _flash_block(now) -> list:
    """The home page's 限时抢购: one card per running flash item, with its product's images."""
    items = offers.running_flash_items(now)
    prefetch_related_objects(
        [item.product for item in items],
        Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id")),
    )
    for item in items:
        regular = item.sku.price if item.sku_id else item.product.price
        item.offer = offers.FlashOffer(item.promotion, item, item.price_for(regular), regular, True)
    return items


def favicon(request):
    return redirect(static("storefront/favicon.svg"), permanent=True)


def _window(now) -> str:
    return render_to_string(
        "storefront/partials/home_window.html",
        {
            "banners": Banner.objects.filter(is_active=True)[:5],
            "categories": Category.objects.filter(is_active=True, parent__isnull=True)[:10],
            "products": with_flash(_cards().order_by("-sales_count", "-id")[:20], now),
            "flash_items": _flash_block(now),
        },
    )


def home(request):
    return render(
        request,
        "storefront/home.html",
        {"window": shop_window(_window), "tab": "home", "share_card": lambda: _home_card(request.user)},
    )


def _home_card(user) -> dict[str, str]:
    distributor = distributors.for_user(user)
    return sharing.shop_card(distributor if distributor is not None and distributor.is_active else None)


def categories(request):
    roots = list(Category.objects.filter(is_active=True, parent__isnull=True))
    current = int_or_none(request.GET.get("c")) or (roots[0].pk if roots else None)
    children = Category.objects.filter(is_active=True, parent_id=current) if current else []
    products = (
        _cards().filter(category_id__in=descendant_ids(current)).order_by("-sales_count", "-id")[:PAGE_SIZE]
        if current
        else []
    )
    return render(
        request,
        "storefront/categories.html",
        {
            "roots": roots,
            "current": current,
            "children": children,
            "products": with_flash(products),
            "tab": "categories",
        },
    )


def search(request):
    # A full-width keyboard types ３１６ and ＳＰＦ５０ for the 316 and SPF50 in product names:
    # read as ASCII, they find the product instead of nothing.
    query = unicodedata.normalize("NFKC", request.GET.get("q") or "").strip()[:40]
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "sales"
    category = int_or_none(request.GET.get("c"))
    page = page_number(request.GET.get("page"))
    qs = _cards()
    qs = matching(qs, query)
    if category:
        qs = qs.filter(category_id__in=descendant_ids(category))
    qs = qs.order_by(*SORTS[sort])
    products = list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    has_more = len(products) > PAGE_SIZE
    # Nothing found is not the end of the visit: the shop's best sellers follow, as in any
    # mall app, so the buyer has somewhere to go but back.
    suggestions = (
        with_flash(_cards().order_by(*SORTS["sales"])[:SUGGESTIONS]) if not products and page == 1 else []
    )
    return render(
        request,
        "storefront/search.html",
        {
            "query": query,
            "sort": sort,
            "category": category,
            "products": with_flash(products[:PAGE_SIZE]),
            "page": page,
            "has_more": has_more,
            "suggestions": suggestions,
            "sorts": [
                ("sales", _("销量")),
                ("newest", _("新品")),
                ("price", _("价格↑")),
                ("-price", _("价格↓")),
            ],
            "tab": "categories",
        },
    )


def product_detail(request, product_id: int):
    product = (
        Product.objects.filter(pk=product_id, is_listed=True)
        .prefetch_related(
            Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id")),
            Prefetch("skus", queryset=Sku.objects.filter(is_active=True).order_by("id")),
        )
        .first()
    )
    if product is None:
        raise Http404("商品不存在或已下架")
    traffic.note_product_view(request, product.pk)
    skus = list(product.skus.all())
    options = _spec_options(skus)
    now = timezone.now()
    flash = offers.flash_offers([product], now).get(product.pk)
    distributor = distributors.for_user(request.user)
    earn = None
    selling = flash is not None and flash.started and not flash.sold_out
    images = list(product.images.all())
    if distributor and distributor.is_active:
        # 分享赚 during a flash sale: its price, and its own commission if it sets one.
        earn = sharing.estimate_level1(
            distributor,
            product,
            price=flash.price if selling else None,
            override=flash.promotion.commission_snapshot() if selling else None,
        )
    group = showcase.group_offer(product, now)
    group_sku = _group_sku(group, skus)
    refusal = offers.flash_refusal(flash, request.user)
    return render(
        request,
        "storefront/product.html",
        {
            "product": product,
            "images": images,
            "skus": skus,
            "options": options,
            "earn": earn,
            # Shared from WeChat's menu, the page's address carries this distributor's code.
            "share_ref": distributor.referral_code if earn is not None else "",
            "share_card": lambda: sharing.product_card(
                distributor if earn is not None else None,
                product,
                price=flash.price if selling else product.price,
                image=images[0] if images else None,
                was=flash.regular if selling else None,
            ),
            "flash": flash,
            "flash_refusal": refusal,
            # A product of one SKU that checkout would refuse: its buttons start disabled.
            "refused": bool(refusal) and len(skus) == 1 and _flash_covers(flash, skus[0]),
            "coupons": offers.claimable_coupons(request.user, product=product, now=now),
            **_reviews(product.pk),
            "group": group,
            "group_sku": group_sku,
            "group_price": group.price_for(group_sku.price) if group and group_sku else None,
            "skus_json": [
                {
                    "id": s.pk,
                    "specs": s.specs or {},
                    "price": s.price,
                    "stock": s.stock,
                    "list_price": s.list_price,
                    "flash": _flash_price(flash, s),
                    "refused": bool(refusal) and _flash_covers(flash, s),
                    "group": group.price_for(s.price)
                    if group and group.item.sku_id in (None, s.pk)
                    else None,
                }
                for s in skus
            ],
        },
    )


def _reviews(product_id: int) -> dict:
    # 商品评价 (N) 好评率 and the latest few: one query whatever the number of reviews.
    figures, latest = reviews.on_product_page(product_id)
    return {"review_figures": figures, "latest_reviews": latest}


def _spec_options(skus) -> list[dict]:
    """The picker's specs in order, each value once; a value of the first spec whose SKUs
    carry a 规格图 shows it (the gallery picture it names, by id)."""
    options: dict[str, list[str]] = {}
    pictures: dict[str, object] = {}
    for sku in skus:
        for position, (name, value) in enumerate((sku.specs or {}).items()):
            if value not in options.setdefault(name, []):
                options[name].append(value)
            if position == 0 and value not in pictures and sku.own_picture:
                pictures[value] = sku.own_picture
    return [
        {
            "name": name,
            "values": [{"value": v, "picture": pictures.get(v) if i == 0 else None} for v in values],
        }
        for i, (name, values) in enumerate(options.items())
    ]


def _flash_covers(flash, sku) -> bool:
    return flash is not None and flash.started and flash.item.sku_id in (None, sku.pk)


def _flash_price(flash, sku) -> int | None:
    """The SKU's price in the running flash sale, if the sale covers it."""
    if not _flash_covers(flash, sku):
        return None
    return flash.item.price_for(sku.price)


def _group_sku(group, skus):
    """The SKU 发起拼团 opens a group on before the buyer picks one: the item's own SKU,
    else the product's first."""
    if group is None:
        return None
    if group.item.sku_id:
        return next((s for s in skus if s.pk == group.item.sku_id), None)
    return skus[0] if skus else None
