"""运费模板 in the backend: one page per template, fees typed in yuan, provinces ticked
from the bundled division list, region prices and 包邮 conditions as rows below."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import BooleanField, Count, Prefetch, Value
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminSelect2MultipleWidget

from fenxiao.core.admin_forms import MoneyFieldsMixin, money_formfield
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen

from . import regions, services
from .models import (
    MAX_FEE,
    MAX_UNITS,
    ChargeBy,
    ShippingFreeRule,
    ShippingRule,
    ShippingTemplate,
    province_names,
)

# The least each count/weight column takes: a step of 0 units would divide by nothing, and
# a 包邮 threshold of 0 means "not set".
UNIT_MINIMA = {"first_units": 1, "additional_units": 1, "free_over_units": 0, "over_units": 0}
UNITS_ERRORS = {
    "invalid": gettext_lazy("请输入整数（件数或千克数）"),
    "min_value": gettext_lazy("不能小于 %(limit_value)s"),
    "max_value": gettext_lazy("不能超过 %(limit_value)s"),
}


class BoundedFieldsMixin(MoneyFieldsMixin):
    """The columns' database bounds checked on the field itself: without them a 0 or a
    too-large number passed the form and failed the table's constraint, which Django shows
    above the form by the constraint's name (约束 “shipping_rule_first_units_positive” …)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.money_fields and db_field.name.endswith("_fee"):
            return money_formfield(db_field, max_fen=MAX_FEE)
        if db_field.name in UNIT_MINIMA:
            kwargs.update(
                min_value=UNIT_MINIMA[db_field.name], max_value=MAX_UNITS, error_messages=UNITS_ERRORS
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class ProvincesField(forms.MultipleChoiceField):
    """Provinces picked in a searchable multi-select (type 新疆, pick it)."""

    widget = UnfoldAdminSelect2MultipleWidget

    def __init__(self, *, label, required=True, **kwargs):
        super().__init__(choices=regions.province_choices, label=label, required=required, **kwargs)

    def clean(self, value):
        chosen = super().clean(value)
        # Kept in the data's order whatever the order ticked, so two saves compare equal.
        order = {code: i for i, (code, _name) in enumerate(regions.province_choices())}
        return sorted(chosen, key=order.__getitem__)


def _rates_text(first_units, first_fee, additional_units, additional_fee, unit: str) -> str:
    return _(
        "首%(first_units)s%(unit)s %(first_fee)s，每增加%(additional_units)s%(unit)s %(additional_fee)s"
    ) % {
        "first_units": first_units,
        "first_fee": format_fen(first_fee),
        "additional_units": additional_units,
        "additional_fee": format_fen(additional_fee),
        "unit": unit,
    }


class ShippingTemplateForm(forms.ModelForm):
    undelivered_provinces = ProvincesField(label=gettext_lazy("不配送地区"), required=False)

    class Meta:
        model = ShippingTemplate
        fields = (
            "name",
            "charge_by",
            "first_units",
            "first_fee",
            "additional_units",
            "additional_fee",
            "free_over_amount",
            "free_over_units",
            "undelivered_provinces",
        )


class _ProvincesFormSet(forms.BaseInlineFormSet):
    """A province priced (or made free) by two rows of one template would be ambiguous."""

    def clean(self):
        super().clean()
        seen: dict[str, int] = {}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            for code in form.cleaned_data.get("provinces") or ():
                seen[code] = seen.get(code, 0) + 1
        twice = [code for code, n in seen.items() if n > 1]
        if twice:
            raise ValidationError(
                _("同一地区只能出现在一条规则中：%(names)s") % {"names": province_names(twice)}
            )


class ShippingRuleForm(forms.ModelForm):
    provinces = ProvincesField(label=gettext_lazy("配送地区"))

    class Meta:
        model = ShippingRule
        fields = ("provinces", "first_units", "first_fee", "additional_units", "additional_fee")


class ShippingFreeRuleForm(forms.ModelForm):
    provinces = ProvincesField(label=gettext_lazy("包邮地区"))

    class Meta:
        model = ShippingFreeRule
        fields = ("provinces", "over_amount", "over_units")

    def clean(self):
        data = super().clean()
        # Only when both were read: a refused amount is not a missing one.
        both_read = "over_amount" in data and "over_units" in data
        if both_read and not data["over_amount"] and not data["over_units"]:
            raise ValidationError(_("请填写满额或满件/满重中的至少一项"))
        return data


class ShippingRuleInline(BoundedFieldsMixin, TabularInline):
    model = ShippingRule
    form = ShippingRuleForm
    formset = _ProvincesFormSet
    money_fields = ("first_fee", "additional_fee")
    extra = 0
    verbose_name = gettext_lazy("指定地区运费")
    verbose_name_plural = pgettext_lazy("plural", "指定地区运费（所列省份按此计费，其余按默认运费）")


class ShippingFreeRuleInline(BoundedFieldsMixin, TabularInline):
    model = ShippingFreeRule
    form = ShippingFreeRuleForm
    formset = _ProvincesFormSet
    money_fields = ("over_amount",)
    extra = 0
    verbose_name = gettext_lazy("指定地区包邮")
    verbose_name_plural = pgettext_lazy("plural", "指定地区包邮（所列省份按此包邮，代替上面的包邮条件）")


@admin.register(ShippingTemplate)
class ShippingTemplateAdmin(BoundedFieldsMixin, ModelAdmin):
    form = ShippingTemplateForm
    money_fields = ("first_fee", "additional_fee", "free_over_amount")
    inlines = (ShippingRuleInline, ShippingFreeRuleInline)

    class Media:
        js = ("shipping/admin-provinces.js",)

    list_display = (
        "name",
        "charge_by",
        "default_rates",
        "regional_rates",
        "free_text",
        "undelivered_text",
        "product_count",
    )
    actions = ["copy_selected"]
    list_before_template = "admin/shipping/shippingtemplate/list_note.html"
    search_fields = ("name",)
    search_help_text = gettext_lazy("按模板名称搜索")
    fieldsets = (
        (None, {"fields": ("name", "charge_by")}),
        (
            gettext_lazy("默认运费"),
            {
                "fields": ("first_units", "first_fee", "additional_units", "additional_fee"),
                "description": gettext_lazy(
                    "按件数计费时单位为件，按重量计费时单位为千克（不足 1 千克按 1 千克计）。"
                ),
            },
        ),
        (gettext_lazy("包邮条件"), {"fields": ("free_over_amount", "free_over_units")}),
        (gettext_lazy("不配送地区"), {"fields": ("undelivered_provinces",)}),
    )

    def changelist_view(self, request, extra_context=None):
        # The note's links, each only for who may open its page.
        user = request.user
        note = {"products_url": "", "settings_url": ""}
        if user.has_perm("catalog.view_product") or user.has_perm("catalog.change_product"):
            products = reverse("admin:catalog_product_changelist")
            note["products_url"] = f"{products}?shipping_template__id__exact=none"
        if user.has_perm("orders.view_ordersettings") or user.has_perm("orders.change_ordersettings"):
            note["settings_url"] = reverse("admin:orders_ordersettings_changelist")
        return super().changelist_view(request, {**(extra_context or {}), "shipping_note": note})

    def get_queryset(self, request):
        # Whether the count may open the product list travels with the rows: the admin
        # object is shared by every request.
        may_list = request.user.has_perm("catalog.view_product")
        return (
            super()
            .get_queryset(request)
            .annotate(product_total=Count("products"), may_list=Value(may_list, output_field=BooleanField()))
            .prefetch_related(Prefetch("rules", queryset=ShippingRule.objects.order_by("id")))
        )

    @action(description=gettext_lazy("复制为新模板"), permissions=["add"])
    def copy_selected(self, request, queryset):
        """A variant (大件, 偏远加价) starts from a template's fees and ticked provinces
        instead of an empty form; one copy opens to be renamed and adjusted."""
        copies = []
        try:
            for template in queryset.order_by("pk"):
                copies.append(services.copy_template(template, suffix=_("副本")))
        except DomainError as error:
            messages.error(request, error.message)
        if not copies:
            return None
        messages.success(
            request,
            _("已复制为：%(names)s。改好名称和运费后保存，再在商品列表用“修改运费模板”把商品移到新模板。")
            % {"names": _("、").join(copy.name for copy in copies)},
        )
        if len(copies) == 1:
            return redirect(reverse("admin:shipping_shippingtemplate_change", args=[copies[0].pk]))
        return None

    def get_deleted_objects(self, objs, request):
        """A template its products still use is not deleted (they would lose their fees):
        instead of Django's list of every such product, one line per template saying how many
        use it and how to move them, with those products a click away."""
        in_use = (
            ShippingTemplate.objects.filter(pk__in=[obj.pk for obj in objs])
            .annotate(product_total=Count("products"))
            .filter(product_total__gt=0)
            .order_by("pk")
        )
        may_list = request.user.has_perm("catalog.view_product") or request.user.has_perm(
            "catalog.change_product"
        )
        reasons = [self._in_use_reason(template, may_list) for template in in_use]
        if reasons:
            return [], {}, set(), reasons
        return super().get_deleted_objects(objs, request)

    @staticmethod
    def _in_use_reason(template, may_list: bool):
        text = _(
            "运费模板“%(name)s”正被 %(count)s 个商品使用，不能删除：请先在商品列表勾选这些商品，"
            "用“修改运费模板”改用其他模板，再删除。"
        ) % {"name": template.name, "count": template.product_total}
        if not may_list:
            return text
        url = f"{reverse('admin:catalog_product_changelist')}?shipping_template__id__exact={template.pk}"
        return format_html('{} <a class="text-primary-600" href="{}">{}</a>', text, url, _("查看这些商品"))

    @display(description=gettext_lazy("默认运费"))
    def default_rates(self, obj):
        unit = _("件") if obj.charge_by == ChargeBy.PIECE else "kg"
        return _rates_text(obj.first_units, obj.first_fee, obj.additional_units, obj.additional_fee, unit)

    # The surcharges (偏远地区) a merchant checks a template for, without opening it.
    @display(description=gettext_lazy("指定地区运费"))
    def regional_rates(self, obj):
        unit = _("件") if obj.charge_by == ChargeBy.PIECE else "kg"
        rows = [
            _("%(regions)s：%(rates)s")
            % {
                "regions": province_names(rule.provinces),
                "rates": _rates_text(
                    rule.first_units, rule.first_fee, rule.additional_units, rule.additional_fee, unit
                ),
            }
            for rule in obj.rules.all()
        ]
        return format_html_join("", "<div>{}</div>", ((row,) for row in rows)) if rows else "-"

    @display(description=gettext_lazy("包邮条件"))
    def free_text(self, obj):
        parts = []
        if obj.free_over_amount:
            parts.append(_("满%(amount)s") % {"amount": format_fen(obj.free_over_amount)})
        if obj.free_over_units:
            parts.append(_("满%(units)s%(unit)s") % {"units": obj.free_over_units, "unit": obj.unit_label})
        return _(" 或 ").join(parts) or "-"

    @display(description=gettext_lazy("不配送地区"))
    def undelivered_text(self, obj):
        return province_names(obj.undelivered_provinces) or "-"

    @display(description=gettext_lazy("使用商品数"))
    def product_count(self, obj):
        if not obj.product_total or not getattr(obj, "may_list", False):
            return obj.product_total
        url = f"{reverse('admin:catalog_product_changelist')}?shipping_template__id__exact={obj.pk}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.product_total)
