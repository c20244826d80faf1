"""Product upkeep: sanitised descriptions, listing, the summary price shown in lists."""

import nh3
from django.db import transaction

from ..errors import CatalogInvalid
from ..models import Category, Product, Sku

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "span",
    "div",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "img",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {
    "img": {"src", "alt", "width", "height"},
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def sanitize_description(html: str) -> str:
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )


def refresh_summary(product_ids) -> None:
    """Copy the cheapest active SKU's price onto its product, for sorting and list pages."""
    for product in Product.objects.filter(pk__in=list(product_ids)):
        cheapest = Sku.objects.filter(product=product, is_active=True).order_by("price", "id").first()
        price = cheapest.price if cheapest else 0
        list_price = cheapest.list_price if cheapest else 0
        weight = cheapest.weight_grams if cheapest else product.weight_grams
        Product.objects.filter(pk=product.pk).update(price=price, list_price=list_price, weight_grams=weight)


def set_listed(product: Product, listed: bool) -> Product:
    if listed and not Sku.objects.filter(product=product, is_active=True).exists():
        raise CatalogInvalid("没有可售的规格，不能上架")
    Product.objects.filter(pk=product.pk).update(is_listed=listed)
    product.is_listed = listed
    return product


@transaction.atomic
def save_product(product: Product) -> Product:
    product.description = sanitize_description(product.description)
    product.save()
    return product


def check_category_parent(category: Category, parent: Category | None) -> None:
    """A category cannot sit under itself or its own descendants."""
    node = parent
    while node is not None:
        if category.pk and node.pk == category.pk:
            raise CatalogInvalid("分类不能放在自己或自己的下级分类下面")
        node = node.parent


def descendant_ids(category_id: int) -> list[int]:
    """The category and everything beneath it; the tree is small, one query reads it all."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, frontier = [], [category_id]
    while frontier:
        current = frontier.pop()
        found.append(current)
        frontier.extend(children.get(current, []))
    return found
