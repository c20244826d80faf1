from django.db.models import Prefetch
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from fenxiao.core import traffic
from fenxiao.core.money import format_fen
from fenxiao.core.pagination import Pagination

from .errors import ProductNotFound
from .models import Category, Product, ProductImage, Sku
from .services.products import descendant_ids, matching

router = Router(tags=["商品"])

SORTS = {
    "newest": ("-created_at", "-id"),
    "price": ("price", "id"),
    "-price": ("-price", "-id"),
    "sales": ("-sales_count", "-id"),
}


class CategoryOut(Schema):
    id: int
    name: str
    parent_id: int | None
    children: list["CategoryOut"] = []


class ProductCardOut(Schema):
    id: int
    name: str
    subtitle: str
    category_id: int
    price: int
    price_display: str
    list_price: int
    sales_count: int
    cover_url: str | None

    @staticmethod
    def resolve_price_display(obj):
        return format_fen(obj.price)

    @staticmethod
    def resolve_cover_url(obj, context):
        images = list(obj.images.all())
        return _image_url(context["request"], images[0] if images else None)


class SkuOut(Schema):
    id: int
    code: str
    specs: dict[str, str]
    price: int
    price_display: str
    list_price: int
    stock: int
    weight_grams: int
    available: bool
    # The SKU's 规格图 (null: show the product's cover), for the picker and the cart line.
    image_url: str | None

    @staticmethod
    def resolve_price_display(obj):
        return format_fen(obj.price)

    @staticmethod
    def resolve_image_url(obj, context):
        return _image_url(context["request"], obj.own_picture)

    @staticmethod
    def resolve_available(obj):
        return obj.stock > 0


class SpecOptionOut(Schema):
    name: str
    values: list[str]


class ProductDetailOut(ProductCardOut):
    description: str
    image_urls: list[str]
    skus: list[SkuOut]
    spec_options: list[SpecOptionOut]

    @staticmethod
    def resolve_image_urls(obj, context):
        return [_image_url(context["request"], img) for img in obj.images.all()]

    @staticmethod
    def resolve_skus(obj):
        return list(obj.skus.all())

    @staticmethod
    def resolve_spec_options(obj):
        return spec_options(list(obj.skus.all()))


class ProductFilter(Schema):
    # Bounded: an id past 64 bits makes SQLite raise (a 500) in the category `IN` filter.
    category: int | None = Field(default=None, ge=1, le=2**63 - 1)
    q: str | None = None
    sort: str = "newest"


def _image_url(request, image: ProductImage | None) -> str | None:
    return request.build_absolute_uri(image.image.url) if image else None


def spec_options(skus: list[Sku]) -> list[dict]:
    options: dict[str, list[str]] = {}
    for sku in skus:
        for name, value in (sku.specs or {}).items():
            values = options.setdefault(name, [])
            if value not in values:
                values.append(value)
    return [{"name": name, "values": values} for name, values in options.items()]


@router.get("/categories", response=list[CategoryOut], auth=None)
def categories(request):
    nodes = {
        c.pk: {"id": c.pk, "name": c.name, "parent_id": c.parent_id, "children": []}
        for c in Category.objects.filter(is_active=True)
    }
    roots = []
    for node in nodes.values():
        if node["parent_id"] is None:
            roots.append(node)
        elif node["parent_id"] in nodes:
            nodes[node["parent_id"]]["children"].append(node)
        # else: under a hidden category, hidden with it (as on the H5 分类 page); it must
        # not surface as a top-level category of its own.
    return roots


@router.get("/products", response=list[ProductCardOut], auth=None)
@paginate(Pagination, page_size=20)
def products(request, filters: ProductFilter = Query(...)):
    qs = Product.objects.filter(is_listed=True).prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id"))
    )
    if filters.category:
        qs = qs.filter(category_id__in=descendant_ids(filters.category))
    if filters.q:
        qs = matching(qs, filters.q.strip()[:40])
    return qs.order_by(*SORTS.get(filters.sort, SORTS["newest"]))


@router.get("/products/{product_id}", response=ProductDetailOut, auth=None)
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
        raise ProductNotFound()
    traffic.note_product_view(request, product.pk)
    return product
