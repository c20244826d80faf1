"""The product list and the product editor.

The list has tabs 全部 / 出售中 / 已售罄 / 仓库中 with counts (one query for all counts, on
the list as searched and filtered), the cover, price range, stock and sales per row, and a
fixed number of queries however many rows are shown. The editor is one form: texts, a
rich-text description, the spec matrix and the gallery, saved by one catalog service call.

Other parts of the backend extend this page through `change_list.html`'s
`product_list_buttons` block (buttons above the list) and `ProductAdmin.actions`.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.views import ChangeList

from fenxiao.core.admin_forms import ConfirmForm, action_page, posted
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen
from fenxiao.core.numbers import whole_number

from ..exporting import ProductExports
from ..models import Product, ProductImage, Sku
from ..services.copying import copy_product
from ..services.editor import save_edited_product
from ..services.images import check_gallery_size, check_image, store_description_image
from ..services.products import sanitize_description, set_listed_many
from ..services.spec_matrix import check_codes_free, matrix_state, parse_matrix, restock_state
from .batch import batch_price_stock_page, move_category_page, shipping_template_page
from .categories import CategoryFilter, label_categories_by_path
from .product_filters import ListedFilter, ShippingTemplateFilter, StockBelowFilter
from .widgets import GalleryWidget, RichTextWidget, SpecMatrixWidget

# What the product form writes; listing, prices, sales and weight are kept by services.
PRODUCT_FORM_FIELDS = ("name", "subtitle", "category", "description", "shipping_template")
COPY_LIMIT = 50  # copies duplicate picture files: a bounded amount of work per click


class ProductForm(forms.ModelForm):
    list_now = forms.BooleanField(
        label=gettext_lazy("上架"),
        required=False,
        help_text=gettext_lazy("保存后上架销售；至少需要一个可售规格"),
    )
    sku_matrix = forms.CharField(
        label=gettext_lazy("规格与库存"),
        required=False,
        widget=SpecMatrixWidget,
        help_text=(
            gettext_lazy(
                "添加规格名和规格值，自动生成每个组合的 SKU；双击规格值可改名（原 SKU 保留）；"
                "去掉的组合会停售（有订单的规格不会被删除）。"
            )
        ),
    )
    gallery_order = forms.CharField(label=gettext_lazy("商品图片"), required=False, widget=GalleryWidget)
    refused = None  # why saving this same form was just refused (see ProductAdmin.changeform_view)

    class Meta:
        model = Product
        fields = PRODUCT_FORM_FIELDS
        widgets = {"description": RichTextWidget}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["list_now"].initial = bool(self.instance.pk and self.instance.is_listed)
        if "category" in self.fields:
            label_categories_by_path(self.fields["category"])
        self.fields["sku_matrix"].initial = matrix_state(self.instance if self.instance.pk else None)
        images = []
        if self.instance.pk:
            images = [
                (img.pk, img.image.url)
                for img in self.instance.images.order_by("sort_order", "id")
                if img.image
            ]
        self.fields["gallery_order"].widget = GalleryWidget(images=images)
        self.fields["sku_matrix"].widget = SpecMatrixWidget(pictures=images)
        self.fields["description"].widget = RichTextWidget(
            upload_url=reverse("admin:catalog_product_upload_image")
        )
        self.matrix = None
        self.uploads = []
        self.gallery_before = [f"id:{pk}" for pk, _url in images]

    @property
    def changed_data(self):
        """What this save changed, for 历史: the editor posts the spec matrix, the gallery
        and the description whole on every save, so they count as changed only when what
        they hold differs (else every save read 已修改……规格与库存 和 商品详情)."""
        return [name for name in super().changed_data if not self._unchanged(name)]

    def _unchanged(self, name: str) -> bool:
        if name == "sku_matrix" and self.matrix is not None:
            try:
                return parse_matrix(json.dumps(self.fields["sku_matrix"].initial)) == self.matrix
            except DomainError:
                return False
        if name == "gallery_order" and hasattr(self, "gallery_order"):
            return not self.uploads and self.gallery_order == self.gallery_before
        if name == "description" and "description" in self.cleaned_data:
            stored = sanitize_description(self.initial.get("description") or "")
            return sanitize_description(self.cleaned_data["description"]) == stored
        return False

    def clean(self):
        cleaned = super().clean()
        if self.refused:
            raise forms.ValidationError(_("商品未保存：%(reason)s") % {"reason": self.refused})
        return cleaned

    def clean_sku_matrix(self):
        raw = self.cleaned_data.get("sku_matrix") or ""
        try:
            self.matrix = parse_matrix(raw or json.dumps({"specs": [], "rows": []}))
            check_codes_free(self.instance if self.instance.pk else None, self.matrix)
        except DomainError as exc:
            raise forms.ValidationError(exc.details.get("errors") or [exc.message]) from exc
        return raw

    def clean_gallery_order(self):
        raw = self.cleaned_data.get("gallery_order") or "[]"
        try:
            order = json.loads(raw)
        except ValueError:
            order = []
        self.gallery_order = [str(t) for t in order] if isinstance(order, list) else []
        errors = []
        for upload in self.files.getlist(GalleryWidget.files_name) if self.files else []:
            try:
                check_image(upload)
            except DomainError as exc:
                errors.append(exc.message)
            else:
                self.uploads.append(upload)
        if not errors:
            try:
                product = self.instance if self.instance.pk else None
                check_gallery_size(product, self.gallery_order, len(self.uploads))
            except DomainError as exc:
                errors.append(exc.message)
        if errors:
            raise forms.ValidationError(errors)
        return raw


LOW_SKUS_SHOWN = 3


class ProductTabFilter(admin.SimpleListFilter):
    """The tabs above the list; drawn as tabs (see `tabs.html`), not in the filter panel."""

    title = gettext_lazy("状态")
    parameter_name = "tab"
    template = "admin/catalog/product/hidden_filter.html"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label, _q in TABS]

    def queryset(self, request, queryset):
        for key, _label, condition in TABS:
            if self.value() == key:
                return queryset.filter(condition)
        return queryset


def _in_stock():
    return Exists(Sku.objects.filter(product=OuterRef("pk"), is_active=True, stock__gt=0))


TABS = [
    ("on_sale", gettext_lazy("出售中"), Q(is_listed=True) & Q(_in_stock())),
    ("sold_out", gettext_lazy("已售罄"), Q(is_listed=True) & ~Q(_in_stock())),
    ("warehouse", gettext_lazy("仓库中"), Q(is_listed=False)),
]


class ProductChangeList(ChangeList):
    """Counts every tab on the list as searched and filtered (without the tab itself), in
    one query, and offers each tab's link keeping the search and filters."""

    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        if exclude_parameters is None:
            base = super().get_queryset(request, exclude_parameters=[ProductTabFilter.parameter_name])
            ids = base.order_by().values("pk")
            aggregates = {key: Count("pk", filter=condition) for key, _label, condition in TABS}
            counts = Product.objects.filter(pk__in=ids).aggregate(all=Count("pk"), **aggregates)
            current = request.GET.get(ProductTabFilter.parameter_name, "")
            self.product_tabs = [
                {
                    "label": _("全部"),
                    "count": counts["all"],
                    "url": self.get_query_string(remove=[ProductTabFilter.parameter_name, "p"]),
                    "active": current not in {key for key, _l, _q in TABS},
                    "key": "all",
                }
            ] + [
                {
                    "label": label,
                    "count": counts[key],
                    "url": self.get_query_string({ProductTabFilter.parameter_name: key}, remove=["p"]),
                    "active": current == key,
                    "key": key,
                }
                for key, label, _q in TABS
            ]
        return qs


@admin.register(Product)
class ProductAdmin(ProductExports, ModelAdmin):
    form = ProductForm
    change_list_template = "admin/catalog/product/change_list.html"
    list_before_template = "admin/catalog/product/tabs.html"
    list_display = (
        "product_header",
        "category",
        "price_range",
        "stock_total",
        "sales_count",
        "status_label",
        "created_at",
    )
    list_filter = (ProductTabFilter, CategoryFilter, ListedFilter, StockBelowFilter, ShippingTemplateFilter)
    list_filter_submit = True
    search_fields = ("name", "=skus__code")
    search_help_text = gettext_lazy("按商品名称或完整规格编码搜索")
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
        (
            gettext_lazy("基本信息"),
            {"fields": ("name", "subtitle", "category", "list_now", "shipping_template")},
        ),
        (gettext_lazy("商品图片（拖动排序，第一张为封面）"), {"fields": ("gallery_order",)}),
        (gettext_lazy("规格与价格"), {"fields": ("sku_matrix",)}),
        (gettext_lazy("商品详情"), {"fields": ("description",)}),
        (
            gettext_lazy("汇总（保存后按规格自动计算）"),
            {
                "classes": ("collapse",),
                "fields": (
                    "price_display",
                    "list_price_display",
                    "stock_total_display",
                    "sales_count",
                    "weight_grams",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )
    actions = (
        "list_selected",
        "delist_selected",
        "copy_selected",
        "batch_price_stock",
        "move_category",
        "change_shipping_template",
    )
    actions_detail = ("copy_detail",)

    def get_queryset(self, request):
        active = Q(skus__is_active=True)
        qs = (
            super()
            .get_queryset(request)
            .annotate(
                stock_sum=Coalesce(Sum("skus__stock", filter=active), 0),
                price_min=Min("skus__price", filter=active),
                price_max=Max("skus__price", filter=active),
                in_stock=_in_stock(),
            )
            .prefetch_related(Prefetch("images", queryset=ProductImage.objects.order_by("sort_order", "id")))
        )
        below = StockBelowFilter.threshold(request)
        if below is not None:
            # 库存预警 (the list filtered by 库存低于): each row names its low SKUs, so the
            # merchant sees what to restock without opening every product. One query.
            low = Sku.objects.filter(is_active=True, stock__lt=below).order_by("stock", "pk")
            qs = qs.prefetch_related(Prefetch("skus", queryset=low, to_attr="low_skus"))
        return qs

    def get_changelist(self, request, **kwargs):
        return ProductChangeList

    def get_urls(self):
        urls = [
            path(
                "upload-image/",
                self.admin_site.admin_view(self.upload_image_view),
                name="catalog_product_upload_image",
            ),
            path(
                "<int:object_id>/copy/",
                self.admin_site.admin_view(self.copy_view),
                name="catalog_product_copy",
            ),
        ]
        return urls + super().get_urls()

    # --- list columns ---

    @display(description=gettext_lazy("商品"), header=True, ordering="name")
    def product_header(self, obj):
        images = list(obj.images.all())
        picture = (
            {"path": images[0].image.url, "squared": True, "width": 40, "height": 40}
            if images and images[0].image
            else None
        )
        return [obj.name, obj.subtitle, obj.name[:1], picture]

    @display(description=gettext_lazy("售价"), ordering="price")
    def price_range(self, obj):
        low, high = getattr(obj, "price_min", None), getattr(obj, "price_max", None)
        if low is None:
            return "-"
        if low == high:
            return format_fen(low)
        return f"{format_fen(low)} ~ {format_fen(high)}"

    @display(description=gettext_lazy("可售库存"), ordering="stock_sum")
    def stock_total(self, obj):
        total = getattr(obj, "stock_sum", 0)
        low = getattr(obj, "low_skus", None)
        if not low:
            return total
        named = _("、").join(
            _("%(spec)s %(stock)s 件") % {"spec": sku.spec_text or _("默认规格"), "stock": sku.stock}
            for sku in low[:LOW_SKUS_SHOWN]
        )
        if len(low) > LOW_SKUS_SHOWN:
            named = _("%(named)s 等 %(count)s 个规格") % {"named": named, "count": len(low)}
        return format_html('{}<div class="text-xs text-red-600" data-low-skus>{}</div>', total, named)

    @display(
        description=gettext_lazy("状态"),
        label={"on_sale": "success", "sold_out": "warning", "warehouse": "info"},
    )
    def status_label(self, obj):
        if not obj.is_listed:
            return "warehouse", _("仓库中")
        if getattr(obj, "in_stock", False):
            return "on_sale", _("出售中")
        return "sold_out", _("已售罄")

    @display(description=gettext_lazy("售价"))
    def price_display(self, obj):
        return format_fen(obj.price)

    @display(description=gettext_lazy("划线价"))
    def list_price_display(self, obj):
        return format_fen(obj.list_price) if obj.list_price else "-"

    @display(description=gettext_lazy("可售库存合计"))
    def stock_total_display(self, obj):
        return getattr(obj, "stock_sum", "-")

    # --- saving: one service call ---

    def save_model(self, request, obj, form, change):
        try:
            warnings = save_edited_product(
                obj,
                fields=PRODUCT_FORM_FIELDS,
                matrix=form.matrix,
                gallery_order=form.gallery_order,
                uploads=form.uploads,
                listed=form.cleaned_data.get("list_now", False),
            )
        except DomainError as exc:
            # Nothing of this save is kept (the service's transaction rolled back); the
            # admin's own transaction is rolled back too, so no "saved" message lies.
            transaction.set_rollback(True)
            request._product_not_saved = exc.message
            return
        for warning in warnings:
            messages.error(request, warning)

    def save_related(self, request, form, formsets, change):
        if getattr(request, "_product_not_saved", None):
            return
        super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if not getattr(request, "_product_not_saved", None):
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request, obj, message):
        if not getattr(request, "_product_not_saved", None):
            return super().log_change(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "_product_not_saved", None):
            return HttpResponse()  # replaced by changeform_view; no query in a rolled-back transaction
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "_product_not_saved", None):
            return HttpResponse()  # replaced by changeform_view, as above
        return super().response_change(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        refused = getattr(request, "_product_not_saved", None)
        if not refused:
            return response
        # The refused save went with the admin's transaction. Show the page again as posted,
        # the reason above the form, so nothing typed is lost (it used to reload the saved
        # product); each SKU's stock is carried onto its stock now (`restock_state`).
        request._product_not_saved, request._product_refused = None, refused
        restocked = restock_state(request.POST.get("sku_matrix") or "")
        if restocked is not None:
            request.POST = request.POST.copy()
            request.POST["sku_matrix"] = restocked
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refused = getattr(request, "_product_refused", None)
        return type(form.__name__, (form,), {"refused": refused}) if refused else form

    # --- pictures inside the description ---

    def upload_image_view(self, request):
        return _upload_image(self, request)

    # --- copy ---

    def has_copy_permission(self, request, object_id=None):
        return self.has_add_permission(request)

    def copy_view(self, request, object_id):
        if not self.has_copy_permission(request):
            return HttpResponseRedirect(reverse("admin:catalog_product_changelist"))
        product = get_object_or_404(Product, pk=object_id)
        form = ConfirmForm(posted(request))
        if request.method == "POST" and form.is_valid():
            copy = copy_product(product)
            messages.success(
                request, _("已复制为“%(name)s”（仓库中，未上架），可在此修改后上架") % {"name": copy.name}
            )
            return HttpResponseRedirect(reverse("admin:catalog_product_change", args=[copy.pk]))
        return action_page(
            self,
            request,
            product,
            title=_("复制商品：%(name)s") % {"name": product.name},
            form=form,
            submit_label=_("复制"),
            summary=[
                (_("商品"), product.name),
                (_("规格数"), Sku.objects.filter(product=product).count()),
                (_("图片数"), ProductImage.objects.filter(product=product).count()),
                (_("复制后"), _("放入仓库中（未上架），SKU 编码加后缀 -copy-N")),
            ],
        )

    @action(description=gettext_lazy("复制商品"), url_path="copy", permissions=["copy"], icon="content_copy")
    def copy_detail(self, request, object_id):
        # A numeric id is routed to copy_view above; whatever else reaches this is no product.
        if whole_number(object_id) is None:
            raise Http404(_("未找到对应的记录"))
        return HttpResponseRedirect(reverse("admin:catalog_product_copy", args=[object_id]))

    @action(description=gettext_lazy("复制所选商品"), permissions=["copy"])
    def copy_selected(self, request, queryset):
        chosen = list(queryset.order_by("pk")[: COPY_LIMIT + 1])
        names = [copy_product(product).name for product in chosen[:COPY_LIMIT]]
        if names:
            messages.success(
                request,
                _("已复制 %(count)s 个商品到仓库中：%(names)s")
                % {"count": len(names), "names": "、".join(names[:10])},
            )
        if len(chosen) > COPY_LIMIT:
            messages.warning(request, _("一次最多复制 %(limit)s 个商品，其余未复制") % {"limit": COPY_LIMIT})

    # --- batch pages ---

    @action(description=gettext_lazy("批量改价 / 改库存"), permissions=["change"])
    def batch_price_stock(self, request, queryset):
        return batch_price_stock_page(self, request, queryset)

    @action(description=gettext_lazy("修改分类"), permissions=["change"])
    def move_category(self, request, queryset):
        return move_category_page(self, request, queryset)

    @action(description=gettext_lazy("修改运费模板"), permissions=["change"])
    def change_shipping_template(self, request, queryset):
        return shipping_template_page(self, request, queryset)

    # --- listing ---

    def _set_listed(self, request, queryset, listed: bool):
        outcome = set_listed_many(queryset, listed)
        if outcome.changed:
            text = _("已上架 %(count)s 个商品") if listed else _("已下架 %(count)s 个商品")
            messages.success(request, text % {"count": outcome.changed})
        if outcome.already:
            text = (
                _("%(count)s 个商品原本已上架，未改动")
                if listed
                else _("%(count)s 个商品原本已在仓库中，未改动")
            )
            messages.info(request, text % {"count": outcome.already})
        if outcome.refused:
            failed = [_("%(name)s（%(reason)s）") % {"name": n, "reason": r} for n, r in outcome.refused]
            messages.error(request, _("以下商品未能上架：%(names)s") % {"names": "；".join(failed[:20])})

    @action(description=gettext_lazy("上架所选商品"), permissions=["change"])
    def list_selected(self, request, queryset):
        self._set_listed(request, queryset, True)

    @action(description=gettext_lazy("下架所选商品"), permissions=["change"])
    def delist_selected(self, request, queryset):
        self._set_listed(request, queryset, False)


def _upload_image(model_admin, request):
    """Staff-only (admin_view) and CSRF-checked; one picture in, its URL out as JSON."""
    if request.method != "POST":
        return JsonResponse({"code": "METHOD_NOT_ALLOWED", "message": _("请用 POST 上传")}, status=405)
    if not (model_admin.has_change_permission(request) or model_admin.has_add_permission(request)):
        return JsonResponse({"code": "FORBIDDEN", "message": _("没有编辑商品的权限")}, status=403)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"code": "IMAGE_MISSING", "message": _("请选择图片")}, status=400)
    try:
        url = store_description_image(upload)
    except DomainError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=400)
    return JsonResponse({"url": url})
