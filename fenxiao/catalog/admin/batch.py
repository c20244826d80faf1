"""The product list's bulk pages. 批量改价 / 改库存, 修改分类 and 修改运费模板 post back to the
list with the same action and selection, plus `_apply`; a catalog service then changes every
selected product at once, or refuses and writes nothing."""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.admin_forms import style_fields
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen, yuan_to_fen
from fenxiao.core.numbers import whole_number
from fenxiao.shipping.models import ShippingTemplate

from ..models import Category, Product, Sku
from ..services import batch_edit
from ..services.batch_edit import OPERATIONS, batch_change
from ..services.products import move_to_category, set_shipping_template_many
from .categories import category_tree, label_categories_by_path
from .product_filters import ShippingTemplateFilter

PRICE_OPS = {batch_edit.PRICE_SET, batch_edit.PRICE_UP, batch_edit.PRICE_DOWN}
PERCENT_OPS = {batch_edit.PRICE_UP_PCT, batch_edit.PRICE_DOWN_PCT}
PREVIEW_ROWS = 50


class BatchPriceStockForm(forms.Form):
    operation = forms.ChoiceField(label=gettext_lazy("修改方式"), choices=list(OPERATIONS.items()))
    amount = forms.CharField(
        label=gettext_lazy("数值"),
        max_length=20,
        help_text=gettext_lazy("金额填元（如 9.90），比例填百分数（如 10 表示 10%），库存填件数"),
    )

    def clean(self):
        cleaned = super().clean()
        operation, text = cleaned.get("operation"), (cleaned.get("amount") or "").strip()
        if not operation or not text:
            return cleaned
        try:
            if operation in PRICE_OPS:
                value = yuan_to_fen(text)
                if value <= 0 and operation == batch_edit.PRICE_SET:
                    raise ValueError
            elif operation in PERCENT_OPS:
                value = yuan_to_fen(text)  # "12.5" % → 1250 bp: the same two-decimal parse
            else:
                value = int(text)
                if operation == batch_edit.STOCK_SET and value < 0:
                    raise ValueError
        except ValueError:
            self.add_error("amount", _("数值格式有误：金额最多两位小数且大于0，比例为百分数，库存为整数"))
            return cleaned
        if value < 0 and operation != batch_edit.STOCK_ADD:
            self.add_error("amount", _("数值不能为负数"))
        cleaned["value"] = value
        return cleaned


def batch_price_stock_page(model_admin, request, queryset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    form = BatchPriceStockForm(request.POST if "_apply" in request.POST else None)
    if "_apply" in request.POST and form.is_valid():
        try:
            result = batch_change(ids, form.cleaned_data["operation"], form.cleaned_data["value"])
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            change = batch_edit.describe(form.cleaned_data["operation"], form.cleaned_data["value"])
            messages.success(
                request,
                _("已修改 %(products)s 个商品的 %(skus)s 个规格（%(change)s）")
                % {"products": result.products, "skus": result.skus, "change": change},
            )

            return None  # back to the list
    style_fields(form)
    skus = list(
        Sku.objects.filter(product_id__in=ids, is_active=True)
        .select_related("product")
        .order_by("product_id", "pk")[: PREVIEW_ROWS + 1]
    )
    rows = [
        (
            sku.product.name,
            sku.spec_text or _("默认规格"),
            sku.code,
            format_fen(sku.price),
            format_fen(sku.list_price) if sku.list_price else "-",
            sku.stock,
        )
        for sku in skus[:PREVIEW_ROWS]
    ]
    return _action_page(
        model_admin,
        request,
        "batch_price_stock",
        title=_("批量改价 / 改库存"),
        form=form,
        ids=ids,
        headers=[_("商品"), _("规格"), _("SKU编码"), _("售价"), _("划线价"), _("库存")],
        rows=rows,
        more=len(skus) > PREVIEW_ROWS,
    )


class MoveCategoryForm(forms.Form):
    category = forms.ModelChoiceField(
        label=gettext_lazy("移到分类"),
        queryset=Category.objects.all(),
        empty_label=gettext_lazy("请选择"),
        error_messages={"required": gettext_lazy("请选择要移到的分类")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        label_categories_by_path(self.fields["category"])


def move_category_page(model_admin, request, queryset):
    """修改分类: the selected products into one category (how a merchant empties a category
    before deleting it, or regroups products after reshaping the tree)."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    form = MoveCategoryForm(request.POST if "_apply" in request.POST else None)
    if "_apply" in request.POST and form.is_valid():
        category = form.cleaned_data["category"]
        moved = move_to_category(queryset, category)
        if moved:
            tree = category_tree()
            messages.success(
                request,
                _("已将 %(count)s 个商品移到“%(category)s”")
                % {"count": moved, "category": tree.get(category.pk, (0, 0, category.name))[2]},
            )
        if moved < len(ids):
            messages.info(
                request, _("%(count)s 个商品原本就在这个分类，未改动") % {"count": len(ids) - moved}
            )
        return None  # back to the list
    style_fields(form)
    tree = category_tree()
    return _action_page(
        model_admin,
        request,
        "move_category",
        title=_("修改分类"),
        form=form,
        ids=ids,
        now_in=[(tree.get(pk, (0, 0, "-"))[2], n) for pk, n in _per_value(ids, "category_id")],
    )


NO_TEMPLATE = ShippingTemplateFilter.NONE  # the shop's flat fee (订单设置), as the list names it


class ShippingTemplateForm(forms.Form):
    template = forms.ChoiceField(
        label=gettext_lazy("改用运费模板"),
        error_messages={
            "required": gettext_lazy("请选择要改用的运费模板"),
            "invalid_choice": gettext_lazy("所选运费模板不存在，请重新选择"),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.templates = {t.pk: t for t in ShippingTemplate.objects.order_by("name").only("pk", "name")}
        self.fields["template"].choices = [
            ("", _("请选择")),
            (NO_TEMPLATE, _("默认运费（订单设置）")),
            *((str(pk), t.name) for pk, t in self.templates.items()),
        ]

    def clean_template(self):
        """The chosen ShippingTemplate, or None for the shop's flat fee."""
        value = self.cleaned_data["template"]
        if value == NO_TEMPLATE:
            return None
        return self.templates[whole_number(value)]  # a choice offered: one of these


def _template_name(template) -> str:
    return template.name if template is not None else _("默认运费（订单设置）")


def shipping_template_page(model_admin, request, queryset):
    """修改运费模板: the selected products onto one 运费模板, or back to the shop's flat fee
    (e.g. after adding a template for bulky goods, or when a template is to be retired)."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    form = ShippingTemplateForm(request.POST if "_apply" in request.POST else None)
    if "_apply" in request.POST and form.is_valid():
        template = form.cleaned_data["template"]
        try:
            changed = set_shipping_template_many(queryset, template)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if changed:
                messages.success(
                    request,
                    _("已将 %(count)s 个商品的运费模板改为“%(template)s”")
                    % {"count": changed, "template": _template_name(template)},
                )
            if changed < len(ids):
                messages.info(
                    request, _("%(count)s 个商品原本就用这个运费模板，未改动") % {"count": len(ids) - changed}
                )
            return None  # back to the list
    style_fields(form)
    return _action_page(
        model_admin,
        request,
        "change_shipping_template",
        template="shipping_template",
        title=_("修改运费模板"),
        form=form,
        ids=ids,
        now_on=[
            (_template_name(form.templates.get(pk)) if pk in form.templates or pk is None else "-", n)
            for pk, n in _per_value(ids, "shipping_template_id")
        ],
    )


def _per_value(ids: list[int], field: str):
    """(value, how many of the products have it), most first. From the ids, not the list's
    queryset: its SKU annotations would multiply the counts."""
    return Product.objects.filter(pk__in=ids).values_list(field).annotate(n=Count("pk")).order_by("-n", field)


def _action_page(model_admin, request, action: str, *, template: str = "", **context) -> TemplateResponse:
    """A bulk action's own page over the ticked products (`ids`), posted back to `action`;
    its template is admin/catalog/product/<template or action>.html."""
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "action_name": request.POST.get("action", action),
        "checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "product_count": len(context["ids"]),
        **context,
    }
    return TemplateResponse(request, f"admin/catalog/product/{template or action}.html", context)
