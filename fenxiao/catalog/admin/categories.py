"""Backend pages for categories: the list reads as the tree."""

from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import Case, Count, F, IntegerField, Value, When
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.views import ChangeList

from fenxiao.core.errors import DomainError
from fenxiao.core.numbers import whole_number

from ..models import Category, Product
from ..services.products import check_category_name, check_category_parent, descendant_ids
from .product_filters import KeptOnApply

# --- Category tree ----------------------------------------------------------------------------

# Above this many categories the list falls back to plain ordering (the CASE gets long).
TREE_ORDER_LIMIT = 2000


def category_tree() -> dict[int, tuple[int, int, str]]:
    """{pk: (position in depth-first order, depth, "父 / 子" path)} from one query."""
    rows = list(Category.objects.order_by("sort_order", "id").values_list("pk", "parent_id", "name"))
    names = {pk: name for pk, _, name in rows}
    children: dict[int | None, list[int]] = {}
    for pk, parent_id, _name in rows:
        children.setdefault(parent_id if parent_id in names else None, []).append(pk)
    tree: dict[int, tuple[int, int, str]] = {}
    stack = [(pk, 0, names[pk]) for pk in reversed(children.get(None, []))]
    while stack:
        pk, depth, path = stack.pop()
        if pk in tree:
            continue  # a loop in bad data must not hang the page
        tree[pk] = (len(tree), depth, path)
        for child in reversed(children.get(pk, [])):
            stack.append((child, depth + 1, f"{path} / {names[child]}"))
    for pk in names:  # anything unreachable (a loop) still gets a place
        tree.setdefault(pk, (len(tree), 0, names[pk]))
    return tree


def label_categories_by_path(field: forms.ModelChoiceField) -> None:
    tree = category_tree()
    field.label_from_instance = lambda c: tree.get(c.pk, (0, 0, c.name))[2]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "parent", "sort_order", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            label_categories_by_path(self.fields["parent"])
        if "is_active" in self.fields:
            # Hiding is not delisting: say so where the switch is, before a merchant expects
            # the category's products to leave the shop.
            self.fields["is_active"].help_text = _(
                "关闭后，该分类和它的下级分类不在商城的分类中显示；其中已上架的商品照常销售，"
                "搜索仍可找到。要停售请在商品列表中下架。"
            )

    def clean(self):
        cleaned = super().clean()
        if "parent" in self.fields:
            try:
                check_category_parent(self.instance, cleaned.get("parent"))
            except DomainError as exc:
                self.add_error("parent", exc.message)
        if "name" in self.fields and cleaned.get("name") and "parent" not in self.errors:
            try:
                check_category_name(self.instance, cleaned["name"], cleaned.get("parent"))
            except DomainError as exc:
                self.add_error("name", exc.message)
        return cleaned


class CategoryFilter(KeptOnApply, admin.SimpleListFilter):
    """The product list by category: a parent category shows the products of every category
    beneath it (products sit in the leaves), and the choices read as paths in tree order.
    The parameter keeps the name the plain related-field filter used, so links still work."""

    title = _("分类")
    parameter_name = "category__id__exact"

    def lookups(self, request, model_admin):
        tree = category_tree()
        return [(pk, path) for pk, (_pos, _depth, path) in sorted(tree.items(), key=lambda kv: kv[1][0])]

    def queryset(self, request, queryset):
        category_id = whole_number(self.value())
        if category_id is None:
            return queryset
        return queryset.filter(category_id__in=descendant_ids(category_id))


def products_url(category_id: int) -> str:
    return (
        reverse("admin:catalog_product_changelist")
        + "?"
        + urlencode({CategoryFilter.parameter_name: category_id})
    )


class CategoryChangeList(ChangeList):
    """Unless a column header was clicked, the list reads as the tree: parents, then children."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["tree_pos", "pk"]

    def get_results(self, request):
        """Each row's 商品数 counts its whole subtree (a parent holds its children's
        products), as the product list filtered by it shows: two queries for the page."""
        super().get_results(request)
        totals = subtree_product_counts()
        for category in self.result_list:
            category.subtree_products = totals.get(category.pk, 0)


def subtree_product_counts() -> dict[int, int]:
    """{category id: products in it and every category beneath it}, from two queries."""
    own = dict(Product.objects.values_list("category_id").annotate(n=Count("pk")).order_by())
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    totals: dict[int, int] = {}
    for category_id, count in own.items():
        seen, current = set(), category_id
        while current is not None and current not in seen:
            seen.add(current)
            totals[current] = totals.get(current, 0) + count
            current = parents.get(current)
    return totals


def delete_blockers(categories) -> list[str]:
    """Why these categories cannot be deleted yet, each reason with its way out: products
    are moved with the product list's 修改分类, sub-categories deleted or moved first.
    (Django's own page listed every protected product by name, and no next step.)"""
    chosen = {category.pk for category in categories}
    totals = subtree_product_counts()
    children: dict[int, list[str]] = {}
    has_children: set[int] = set()
    for pk, parent_id, name in Category.objects.filter(parent_id__in=chosen).values_list(
        "pk", "parent_id", "name"
    ):
        has_children.add(parent_id)
        if pk not in chosen:  # a child deleted along with it does not stand in the way
            children.setdefault(parent_id, []).append(name)
    lines = []
    for category in categories:
        if children.get(category.pk):
            lines.append(
                format_html(
                    gettext(
                        "“{name}”下还有下级分类：{children}。请先删除它们，或在它们的编辑页改“上级分类”。"
                    ),
                    name=category.name,
                    children=gettext("、").join(children[category.pk]),
                )
            )
        if totals.get(category.pk):
            link = format_html(
                '<a class="text-primary-600" href="{}">{}</a>',
                products_url(category.pk),
                gettext("打开这些商品"),
            )
            text = (
                gettext(
                    "“{name}”下（含下级分类）还有 {count} 个商品：{link}，全选后用“修改分类”移到其他分类。"
                )
                if category.pk in has_children
                else gettext("“{name}”下还有 {count} 个商品：{link}，全选后用“修改分类”移到其他分类。")
            )
            lines.append(
                format_html(
                    text,
                    name=category.name,
                    count=totals[category.pk],
                    link=link,
                )
            )
    return lines


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    form = CategoryForm
    list_display = ("tree_name", "parent", "sort_order", "is_active", "product_count")
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    search_help_text = _("按分类名称搜索")
    list_select_related = ("parent",)
    list_per_page = 100

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        tree = category_tree()
        if len(tree) > TREE_ORDER_LIMIT:
            return qs.annotate(tree_pos=F("sort_order"), tree_depth=Value(0))
        return qs.annotate(
            tree_pos=Case(
                *[When(pk=pk, then=Value(pos)) for pk, (pos, _, _) in tree.items()],
                default=Value(len(tree)),
                output_field=IntegerField(),
            ),
            tree_depth=Case(
                *[When(pk=pk, then=Value(depth)) for pk, (_, depth, _) in tree.items() if depth],
                default=Value(0),
                output_field=IntegerField(),
            ),
        )

    def get_changelist(self, request, **kwargs):
        return CategoryChangeList

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        if protected:
            protected = delete_blockers(list(objs)) or protected
        return deleted, counts, perms_needed, protected

    @display(description=_("分类名称"), ordering="tree_pos")
    def tree_name(self, obj):
        depth = getattr(obj, "tree_depth", 0) or 0
        if not depth:
            return obj.name
        return format_html('<span style="padding-left:{}rem">└ {}</span>', depth * 1.25, obj.name)

    @display(description=_("商品数"))
    def product_count(self, obj):
        count = getattr(obj, "subtree_products", 0)
        return format_html('<a class="text-primary-600" href="{}">{}</a>', products_url(obj.pk), count)
