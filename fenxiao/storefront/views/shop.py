"""Browsing: home, categories, search, product page."""

from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services.products import descendant_ids
from fenxiao.core.pagination import page_number
from fenxiao.distribution.services import distributors, sharing

from ..models import Banner
from .common import int_or_none

SORTS = {
    "newest": ("-created_at", "-id"),
    "sales": ("-sales_count", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
}
PAGE_SIZE = 20


def _cards():
    return Product.objects.filter(is_listed=True).prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id"))
    )


def favicon(request):
    return redirect(static("storefront/favicon.svg"), permanent=True)


def home(request):
    return render(
        request,
        "storefront/home.html",
        {
            "banners": Banner.objects.filter(is_active=True)[:5],
            "categories": Category.objects.filter(is_active=True, parent__isnull=True)[:10],
            "products": _cards().order_by("-sales_count", "-id")[:20],
            "tab": "home",
        },
    )


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
        {"roots": roots, "current": current, "children": children, "products": products, "tab": "categories"},
    )


def search(request):
    query = (request.GET.get("q") or "").strip()[:40]
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTS else "sales"
    category = int_or_none(request.GET.get("c"))
    page = page_number(request.GET.get("page"))
    qs = _cards()
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(subtitle__icontains=query))
    if category:
        qs = qs.filter(category_id__in=descendant_ids(category))
    qs = qs.order_by(*SORTS[sort])
    products = list(qs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    has_more = len(products) > PAGE_SIZE
    return render(
        request,
        "storefront/search.html",
        {
            "query": query,
            "sort": sort,
            "category": category,
            "products": products[:PAGE_SIZE],
            "page": page,
            "has_more": has_more,
            "sorts": [("sales", "销量"), ("newest", "新品"), ("price", "价格↑"), ("-price", "价格↓")],
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
    skus = list(product.skus.all())
    options: dict[str, list[str]] = {}
    for sku in skus:
        for name, value in (sku.specs or {}).items():
            if value not in options.setdefault(name, []):
                options[name].append(value)
    distributor = distributors.for_user(request.user)
    earn = sharing.estimate_level1(distributor, product) if distributor and distributor.is_active else None
    return render(
        request,
        "storefront/product.html",
        {
            "product": product,
            "images": list(product.images.all()),
            "skus": skus,
            "options": options,
            "earn": earn,
            "skus_json": [
                {
                    "id": s.pk,
                    "specs": s.specs or {},
                    "price": s.price,
                    "stock": s.stock,
                    "list_price": s.list_price,
                }
                for s in skus
            ],
        },
    )
