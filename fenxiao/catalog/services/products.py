"""Product upkeep: sanitised descriptions, listing, the summary price shown in lists, and the
bulk changes of the product list (分类, 运费模板)."""

import unicodedata
from dataclasses import dataclass, field

import nh3
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Now
from django.utils.translation import gettext as _

from fenxiao.shipping.models import ShippingTemplate

from ..errors import CatalogInvalid
from ..models import Category, Product, Sku
from .product_import_columns import CATEGORY_PATH_SEPARATORS

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
# The rich-text editor (Quill) aligns blocks with these classes; the storefront styles them.
ALIGN_CLASSES = {"ql-align-center", "ql-align-right", "ql-align-justify"}
ALLOWED_CLASSES = dict.fromkeys(("p", "h2", "h3", "h4", "li", "blockquote"), ALIGN_CLASSES)


def sanitize_description(html: str) -> str:
    """Keep what the product editor produces (paragraphs, headings, lists, quotes, bold …,
    images, links, alignment classes); drop scripts, styles, event handlers and any URL that
    is not http(s), mailto or tel (so no javascript: or data: URLs)."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def refresh_summary(product_ids) -> None:
    """Copy the cheapest active SKU's price onto its products, for sorting and list pages.

    One UPDATE for any number of products (a batch price change may touch hundreds)."""
    ids = list(product_ids)
    if not ids:
        return
    cheapest = Sku.objects.filter(product=OuterRef("pk"), is_active=True).order_by("price", "id")
    Product.objects.filter(pk__in=ids).update(
        price=Coalesce(Subquery(cheapest.values("price")[:1]), Value(0)),
        list_price=Coalesce(Subquery(cheapest.values("list_price")[:1]), Value(0)),
        weight_grams=Coalesce(Subquery(cheapest.values("weight_grams")[:1]), F("weight_grams")),
    )


def set_listed(product: Product, listed: bool) -> Product:
    if listed and not Sku.objects.filter(product=product, is_active=True).exists():
        raise CatalogInvalid(_("没有可售的规格，不能上架"))
    Product.objects.filter(pk=product.pk).update(is_listed=listed)
    product.is_listed = listed
    return product


@dataclass
class Listing:
    """What a bulk 上架 / 下架 did: products it changed, products that were already in
    that state (left alone), and (name, reason) of those it refused to list."""

    changed: int = 0
    already: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)


@transaction.atomic
def set_listed_many(products, listed: bool) -> Listing:
    """上架 or 下架 the products of a queryset (any number) in a few statements. The UPDATE
    is conditional on the current state, so `changed` counts only the products it moved
    (also when another hand moved some meanwhile), never the whole selection."""
    selected = Product.objects.filter(pk__in=products.order_by().values("pk"))
    total = selected.count()
    to_move = selected.filter(is_listed=not listed)
    refused = []
    if listed:
        sellable = Exists(Sku.objects.filter(product=OuterRef("pk"), is_active=True))
        reason = _("没有可售的规格，不能上架")
        refused = [
            (name, reason) for name in to_move.filter(~sellable).order_by("pk").values_list("name", flat=True)
        ]
        to_move = to_move.filter(sellable)
    changed = to_move.update(is_listed=listed)
    return Listing(changed=changed, already=total - changed - len(refused), refused=refused)


def move_to_category(products, category: Category) -> int:
    """Put the products of a queryset (any number) into `category` with one UPDATE, e.g.
    before a category is merged away or deleted. Returns how many actually moved: those
    already there are left alone (and not counted)."""
    selected = Product.objects.filter(pk__in=products.order_by().values("pk"))
    return selected.exclude(category=category).update(category=category, updated_at=Now())


@transaction.atomic
def set_shipping_template_many(products, template: ShippingTemplate | None) -> int:
    """Give the products of a queryset (any number) one 运费模板, or none (the shop's flat
    fee, 订单设置), with one UPDATE. Returns how many changed: those already on it are
    left alone (and not counted).

    The template row is locked first, so a template deleted meanwhile (allowed once no
    product uses it) is refused in Chinese instead of failing the foreign key."""
    still_there = (
        template is None or ShippingTemplate.objects.select_for_update().filter(pk=template.pk).exists()
    )
    if not still_there:
        raise CatalogInvalid(_("所选运费模板已被删除，请重新选择"))
    selected = Product.objects.filter(pk__in=products.order_by().values("pk"))
    return selected.exclude(shipping_template=template).update(shipping_template=template, updated_at=Now())


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
            raise CatalogInvalid(_("分类不能放在自己或自己的下级分类下面"))
        node = node.parent


def check_category_name(category: Category, name: str, parent: Category | None) -> None:
    """A category is addressed by its path of names ("服装/男装") in the import file and the
    export, so a name may not hold a path separator, nor repeat a sibling's name: either
    would leave a path that names no category, or two."""
    if CATEGORY_PATH_SEPARATORS.search(name):
        raise CatalogInvalid(_("分类名称不能包含 /、／ 或 >，导入文件用它们分隔上下级分类"))
    siblings = Category.objects.filter(parent=parent).exclude(pk=category.pk).values_list("name", flat=True)
    if any(other.strip() == name.strip() for other in siblings):
        if parent is None:
            raise CatalogInvalid(_("已有名为“%(name)s”的一级分类") % {"name": name.strip()})
        raise CatalogInvalid(
            _("“%(parent)s”下已有名为“%(name)s”的分类") % {"parent": parent.name, "name": name.strip()}
        )


def ancestor_ids(category_id: int | None) -> list[int]:
    """The category and every one above it (none for no category); one query reads the tree."""
    if category_id is None:
        return []
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    found, current = [], category_id
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found


def _children() -> dict[int | None, list[int]]:
    """{category id (None: the top): its children's ids}; the tree is small, one query."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    return children


def _beneath(children: dict, category_id: int) -> list[int]:
    found, frontier, seen = [], [category_id], set()
    while frontier:
        current = frontier.pop()
        if current in seen:
            continue  # a loop in bad data must not hang the caller
        seen.add(current)
        found.append(current)
        frontier.extend(children.get(current, []))
    return found


def descendant_ids(category_id: int) -> list[int]:
    """The category and everything beneath it."""
    return _beneath(_children(), category_id)


def parent_subtrees() -> dict[int, list[int]]:
    """{each category with children: it and everything beneath it}, from one query."""
    children = _children()
    return {pk: _beneath(children, pk) for pk in children if pk is not None}


# A query is at most 40 characters; a cap on its words keeps the SQL small all the same.
SEARCH_MAX_WORDS = 8


def matching(products, query: str):
    """The products (a queryset) a buyer's search finds. Buyers type words apart (西湖 龙井,
    龙井 250g): each word must appear in the name or subtitle, in any order, rather than the
    whole phrase with its spaces. The H5 search and the product API read the same way."""
    # A full-width keyboard types ３１６ and ＳＰＦ５０ for the 316 and SPF50 in names.
    for word in unicodedata.normalize("NFKC", query).split()[:SEARCH_MAX_WORDS]:
        products = products.filter(Q(name__icontains=word) | Q(subtitle__icontains=word))
    return products
