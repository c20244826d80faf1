"""Backend pages for categories and products. Every rule is a catalog service call."""

import json
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import TextFilter
from unfold.decorators import action, display
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminIntegerFieldWidget, UnfoldAdminTextInputWidget

from fenxiao.core.admin_forms import MoneyField
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen

from .models import Category, Product, ProductImage, Sku
from .services.products import (
    check_category_parent,
    refresh_summary,
    sanitize_description,
    save_product,
    set_listed,
)
from .services.stock import restore_stock, take_stock

# --- Category tree ----------------------------------------------------------------------------

# Above this many categories the list falls back to plain ordering (the CASE gets long).
TREE_ORDER_LIMIT = 2000


def category_tree() -> dict[int, tuple[int, int, str]]:
    """{pk: (position in depth-first order, depth, "父 / 子" path)} from one query."""
    rows = list(Category.objects.order_by("sort_order", "id").values_list("pk", "parent_id", "name"))
    names = {pk: name for pk, _, name in rows}
    children: dict[int | None, list[int]] = {}
    for pk, parent_id, _ in rows:
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

    def clean(self):
        cleaned = super().clean()
        if "parent" in self.fields:
            try:
                check_category_parent(self.instance, cleaned.get("parent"))
            except DomainError as exc:
                self.add_error("parent", exc.message)
        return cleaned


class CategoryChangeList(ChangeList):
    """Unless a column header was clicked, the list reads as the tree: parents, then children."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["tree_pos", "pk"]


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    form = CategoryForm
    list_display = ("tree_name", "parent", "sort_order", "is_active", "product_count")
    list_editable = ("sort_order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("parent",)
    list_per_page = 100

    def get_queryset(self, request):
        qs = super().get_queryset(request).annotate(product_count=Count("products"))
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

    @display(description="分类名称", ordering="tree_pos")
    def tree_name(self, obj):
        depth = getattr(obj, "tree_depth", 0) or 0
        if not depth:
            return obj.name
        return format_html('<span style="padding-left:{}rem">└ {}</span>', depth * 1.25, obj.name)

    @display(description="商品数", ordering="product_count")
    def product_count(self, obj):
        return obj.product_count


# --- Products -------------------------------------------------------------------------------

_SPEC_SPLIT = re.compile(r"[,，;；\n]+")
_SPEC_PAIR = re.compile(r"[:：=]")


def specs_to_text(specs) -> str:
    if not isinstance(specs, dict):
        return ""
    return ",".join(f"{k}:{v}" for k, v in specs.items())


class SpecsField(forms.CharField):
    """Spec values typed as "颜色:红色,尺码:M" (or a JSON object), kept as an ordered dict."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("help_text", "如 颜色:红色,尺码:M；单规格商品留空")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return specs_to_text(value)
        return value

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        text = (super().to_python(value) or "").strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                data = json.loads(text)
            except ValueError as exc:
                raise forms.ValidationError("规格 JSON 格式有误") from exc
            if not isinstance(data, dict):
                raise forms.ValidationError('规格 JSON 必须是对象，如 {"颜色": "红色"}')
            pairs = [(str(k).strip(), str(v).strip()) for k, v in data.items()]
        else:
            pairs = []
            for part in _SPEC_SPLIT.split(text):
                part = part.strip()
                if not part:
                    continue
                bits = _SPEC_PAIR.split(part, maxsplit=1)
                if len(bits) != 2:
                    raise forms.ValidationError(f"规格“{part}”应写成 名称:值，如 颜色:红色")
                pairs.append((bits[0].strip(), bits[1].strip()))
        specs: dict[str, str] = {}
        for name, val in pairs:
            if not name or not val:
                raise forms.ValidationError("规格名称和值都不能为空")
            if len(name) > 20 or len(val) > 40:
                raise forms.ValidationError("规格名称最多20个字，值最多40个字")
            if name in specs:
                raise forms.ValidationError(f"规格“{name}”重复")
            specs[name] = val
        if len(" / ".join(specs.values())) > 120:
            raise forms.ValidationError("规格内容过长")
        return specs


class SkuForm(forms.ModelForm):
    specs = SpecsField(
        label="规格", widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "颜色:红色,尺码:M"})
    )
    price = MoneyField(label="售价（元）", min_fen=1)
    list_price = MoneyField(
        label="划线价（元）", required=False, empty_value=0, help_text="0 或留空表示不显示划线价"
    )
    # The hidden initial carries the stock the page showed, so a save applies only the
    # change the staff member typed, never overwriting sales made while the page was open.
    stock = forms.IntegerField(
        label="库存",
        min_value=0,
        max_value=10_000_000,
        initial=0,
        show_hidden_initial=True,
        widget=UnfoldAdminIntegerFieldWidget,
    )

    class Meta:
        model = Sku
        fields = ("code", "specs", "price", "list_price", "stock", "weight_grams", "is_active")

    def clean(self):
        cleaned = super().clean()
        price, list_price = cleaned.get("price"), cleaned.get("list_price")
        if price is not None and list_price and list_price < price:
            self.add_error("list_price", "划线价不能低于售价（不显示请填 0）")
        return cleaned

    def stock_seen(self) -> int | None:
        """The stock figure the page showed when it was opened, or None if unknown."""
        raw = self.data.get(self["stock"].html_initial_name)
        try:
            return int(raw)
        except (TypeError, ValueError):
            return None


class SkuInline(TabularInline):
    model = Sku
    form = SkuForm
    fields = ("code", "specs", "price", "list_price", "stock", "weight_grams", "is_active")
    extra = 0
    show_change_link = False
    verbose_name = "规格（SKU）"
    verbose_name_plural = "规格（SKU）"

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0


class ProductImageInline(TabularInline):
    model = ProductImage
    fields = ("preview", "image", "sort_order")
    readonly_fields = ("preview",)
    extra = 0
    verbose_name_plural = "商品图片（排序小的为封面）"

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    @display(description="预览")
    def preview(self, obj):
        if obj and obj.pk and obj.image:
            return format_html(
                '<img src="{}" style="height:48px;width:48px;object-fit:cover;border-radius:4px" alt="">',
                obj.image.url,
            )
        return "-"


# What the product form writes; listing, prices, sales and weight are kept by services.
PRODUCT_FORM_FIELDS = ("name", "subtitle", "category", "description", "shipping_template")


class ProductForm(forms.ModelForm):
    list_now = forms.BooleanField(
        label="上架", required=False, help_text="保存后上架销售；至少需要一个可售规格"
    )

    class Meta:
        model = Product
        fields = PRODUCT_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["list_now"].initial = bool(self.instance.pk and self.instance.is_listed)
        if "category" in self.fields:
            label_categories_by_path(self.fields["category"])


class StockBelowFilter(TextFilter):
    """?stock_below=N: products with an on-sale SKU whose stock is below N. The 库存预警
    to-do links here with the shop's threshold (which lives with the order rules, above
    this app, so it comes in the address)."""

    title = "可售 SKU 库存低于（件）"
    parameter_name = "stock_below"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value.isdigit() or len(value) > 9:
            return queryset
        low = Sku.objects.filter(product=OuterRef("pk"), is_active=True, stock__lt=int(value))
        return queryset.filter(Exists(low))


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    form = ProductForm
    inlines = (SkuInline, ProductImageInline)
    list_display = (
        "product_header",
        "category",
        "price_display",
        "stock_total",
        "sales_count",
        "is_listed",
        "created_at",
    )
    list_filter = ("is_listed", "category", StockBelowFilter)
    list_filter_submit = True
    search_fields = ("name", "=skus__code")
    list_select_related = ("category",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "price_display",
        "list_price_display",
        "stock_total_display",
        "sales_count",
        "weight_grams",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        (None, {"fields": ("name", "subtitle", "category", "list_now", "shipping_template", "description")}),
        (
            "汇总（保存后按规格自动计算）",
            {
                "fields": (
                    "price_display",
                    "list_price_display",
                    "stock_total_display",
                    "sales_count",
                    "weight_grams",
                    "created_at",
                    "updated_at",
                )
            },
        ),
    )
    actions = ("list_selected", "delist_selected")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(stock_sum=Coalesce(Sum("skus__stock", filter=Q(skus__is_active=True)), 0))
            .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id")))
        )

    # --- list columns ---

    @display(description="商品", header=True, ordering="name")
    def product_header(self, obj):
        images = list(obj.images.all())
        picture = (
            {"path": images[0].image.url, "squared": True, "width": 40, "height": 40}
            if images and images[0].image
            else None
        )
        return [obj.name, obj.subtitle, obj.name[:1], picture]

    @display(description="售价", ordering="price")
    def price_display(self, obj):
        return format_fen(obj.price)

    @display(description="划线价")
    def list_price_display(self, obj):
        return format_fen(obj.list_price) if obj.list_price else "-"

    @display(description="可售库存", ordering="stock_sum")
    def stock_total(self, obj):
        return getattr(obj, "stock_sum", 0)

    @display(description="可售库存合计")
    def stock_total_display(self, obj):
        return getattr(obj, "stock_sum", "-")

    # --- saving: services only ---

    def save_model(self, request, obj, form, change):
        if not change:
            save_product(obj)
            return
        # Only what this form edits is written: price, sales and listing are kept by their
        # own services and may have moved while the page was open.
        obj.description = sanitize_description(obj.description)
        obj.save(update_fields=[*PRODUCT_FORM_FIELDS, "updated_at"])

    def save_formset(self, request, form, formset, change):
        if formset.model is not Sku:
            return super().save_formset(request, form, formset, change)
        self._save_skus(request, formset)

    def _save_skus(self, request, formset):
        formset.save(commit=False)
        for sku in formset.deleted_objects:
            sku.delete()
        for sku_form in formset.forms:
            if sku_form in formset.deleted_forms or not sku_form.has_changed():
                continue
            sku = sku_form.instance
            if sku_form.instance._state.adding:
                sku.save()
                continue
            fields = [name for name in sku_form.changed_data if name != "stock"]
            if fields:
                sku.save(update_fields=fields)
            if "stock" in sku_form.changed_data:
                self._move_stock(request, sku, sku_form)
        formset.save_m2m()

    def _move_stock(self, request, sku, sku_form):
        seen = sku_form.stock_seen()
        current = Sku.objects.filter(pk=sku.pk).values_list("stock", flat=True).first() or 0
        delta = sku_form.cleaned_data["stock"] - (current if seen is None else seen)
        try:
            if delta > 0:
                restore_stock({sku.pk: delta})
            elif delta < 0:
                take_stock({sku.pk: -delta})
        except DomainError as exc:
            messages.error(
                request,
                f"SKU {sku.code} 库存未调整：{exc.message}"
                f"（当前库存 {current}，可能已有新订单，请刷新后重试）",
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        product = form.instance
        refresh_summary([product.pk])
        wanted = form.cleaned_data.get("list_now", False)
        current = Product.objects.filter(pk=product.pk).values_list("is_listed", flat=True).first()
        if wanted != current:
            try:
                set_listed(product, wanted)
            except DomainError as exc:
                messages.error(request, f"商品已保存，但未能上架：{exc.message}")

    # --- bulk actions ---

    def _set_listed(self, request, queryset, listed: bool):
        done, failed = 0, []
        for product in queryset:
            try:
                set_listed(product, listed)
                done += 1
            except DomainError as exc:
                failed.append(f"{product.name}（{exc.message}）")
        verb = "上架" if listed else "下架"
        if done:
            messages.success(request, f"已{verb} {done} 个商品")
        if failed:
            messages.error(request, f"以下商品未能{verb}：" + "；".join(failed[:20]))

    @action(description="上架所选商品", permissions=["change"])
    def list_selected(self, request, queryset):
        self._set_listed(request, queryset, True)

    @action(description="下架所选商品", permissions=["change"])
    def delist_selected(self, request, queryset):
        self._set_listed(request, queryset, False)
