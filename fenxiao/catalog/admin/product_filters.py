"""The product list's filters in the filter panel (the status tabs are drawn above the list,
see `products.ProductTabFilter`). Each keeps the parameter other pages link with, so a link
from the dashboard or another list opens the list with that filter shown as chosen."""

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.contrib.filters.admin import TextFilter

from fenxiao.core.numbers import whole_number

from ..models import Product, Sku


class KeptOnApply:
    """A choice filter whose choice survives 应用筛选. The filter panel is a form
    (list_filter_submit) that resends a chosen choice only as the filter's `lookup_kwarg` and
    `lookup_val`, which Django's field filters have and SimpleListFilter lacks: without them,
    typing a threshold into 库存低于 and applying dropped the chosen 上架状态 or 分类."""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.lookup_kwarg = self.parameter_name
        self.lookup_val = [self.value()] if self.value() else []


class StockBelowFilter(TextFilter):
    """?stock_below=N: products with an on-sale SKU whose stock is below N. The 库存预警
    to-do links here with the shop's threshold (which lives with the order rules, above
    this app, so it comes in the address)."""

    title = gettext_lazy("可售 SKU 库存低于（件）")
    parameter_name = "stock_below"

    @classmethod
    def threshold(cls, request) -> int | None:
        return whole_number((request.GET.get(cls.parameter_name) or "").strip(), max_digits=9)

    def queryset(self, request, queryset):
        below = whole_number((self.value() or "").strip(), max_digits=9)
        if below is None:
            return queryset
        low = Sku.objects.filter(product=OuterRef("pk"), is_active=True, stock__lt=below)
        return queryset.filter(Exists(low))


class ShippingTemplateFilter(KeptOnApply, admin.SimpleListFilter):
    """By 运费模板, or 默认运费 (none chosen: the shop's flat fee). The parameter is the one
    运费模板's 使用商品数 links with, so that list shows its filter as chosen, and clearable."""

    title = gettext_lazy("运费模板")
    parameter_name = "shipping_template__id__exact"
    NONE = "none"

    def lookups(self, request, model_admin):
        templates = Product._meta.get_field("shipping_template").related_model.objects.order_by("name")
        return [(self.NONE, _("默认运费（订单设置）")), *templates.values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value() == self.NONE:
            return queryset.filter(shipping_template__isnull=True)
        template_id = whole_number(self.value())
        if template_id is None:
            return queryset
        return queryset.filter(shipping_template_id=template_id)


class ListedFilter(KeptOnApply, admin.SimpleListFilter):
    """上架状态: 已上架 (出售中 and 已售罄 together, which no tab shows alone) or 仓库中. The
    库存预警 to-do links with ?is_listed__exact=1; read as a bare field lookup that narrowed
    the list unseen, and 清除所有筛选 kept it. As a filter it shows as chosen and clears."""

    title = gettext_lazy("上架状态")
    parameter_name = "is_listed__exact"
    horizontal = True  # three short choices side by side, as unfold draws a yes/no filter
    LISTED, UNLISTED = "1", "0"

    def lookups(self, request, model_admin):
        return [(self.LISTED, _("已上架")), (self.UNLISTED, _("仓库中"))]

    def queryset(self, request, queryset):
        if self.value() in (self.LISTED, self.UNLISTED):
            return queryset.filter(is_listed=self.value() == self.LISTED)
        return queryset
