"""The rows of a promotion's form: its items (限时折扣, 拼团) or its tiers (满减), typed in
yuan and %, and the formset that tries the whole promotion through services.manage once
its rows are valid, so a refusal shows on the form and nothing is written."""

import copy

from django import forms
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import TabularInline
from unfold.decorators import display
from unfold.widgets import UnfoldAdminTextInputWidget

from fenxiao.catalog.models import Product, Sku
from fenxiao.core.admin import SafeAutocompleteMixin
from fenxiao.core.admin_forms import MoneyField, MoneyFieldsMixin, PercentField
from fenxiao.core.money import format_bp, format_fen

from ..models import PromotionItem, PromotionKind, PromotionState, SpendTier
from ..services import manage, reservations
from .common import refusal
from .product_actions import preset_products


class ItemForm(forms.ModelForm):
    """A product, optionally one of its SKUs by code, at a price in yuan or a % off."""

    sku_code = forms.CharField(
        label=gettext_lazy("SKU编码"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("留空表示全部规格"),
        widget=UnfoldAdminTextInputWidget,  # a declared field gets no backend look by itself
    )
    price = MoneyField(label=gettext_lazy("活动价（元）"), required=False, min_fen=1)
    discount_bp = PercentField(label=gettext_lazy("立减比例（%）"), required=False, min_bp=1, max_bp=9999)

    class Meta:
        model = PromotionItem
        fields = ("product", "price", "discount_bp", "quota")

    def _get_validation_exclusions(self):
        # Price or discount, and their ranges, are refused by the service in Chinese.
        return super()._get_validation_exclusions() | {"price", "discount_bp"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.sku_id:
            self.initial.setdefault("sku_code", self.instance.sku.code)

    def clean(self):
        cleaned = super().clean()
        code = (cleaned.get("sku_code") or "").strip()
        self.instance.sku = None
        if code:
            sku = Sku.objects.filter(code=code).first()
            if sku is None:
                self.add_error("sku_code", _("没有这个 SKU 编码"))
            else:
                self.instance.sku = sku
        return cleaned


def _dry_run(promotion, items, tiers, categories, products) -> str | None:
    return refusal(
        lambda: manage.save_promotion(
            copy.copy(promotion),
            [copy.copy(i) for i in items],
            [copy.copy(t) for t in tiers],
            None,
            categories=categories,
            products=products,
        )
    )


class PromotionFormSet(BaseInlineFormSet):
    """The one inline of a promotion's form: once its rows are valid, the whole promotion is
    tried through the service and a refusal becomes the formset's error."""

    def kept_instances(self) -> list:
        rows = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or (self.can_delete and self._should_delete_form(form)):
                continue
            if form.instance.pk is None and not form.has_changed():
                continue
            rows.append(form.instance)
        return rows

    def clean(self):
        super().clean()
        promotion = self.instance
        if any(self.errors) or not getattr(promotion, "_admin_form_valid", False):
            return
        rows = self.kept_instances()
        is_spend = promotion.kind == PromotionKind.SPEND
        fill = getattr(promotion, "_admin_fill_discount", None)
        if fill and not is_spend:
            # The same instances are saved (save_related reads kept_instances again).
            for row in rows:
                if row.price is None and row.discount_bp is None:
                    row.discount_bp = fill
        refused = _dry_run(
            promotion,
            [] if is_spend else rows,
            rows if is_spend else [],
            promotion._admin_categories,
            promotion._admin_products,
        )
        if refused:
            raise forms.ValidationError(refused)


class _KindInline(TabularInline):
    formset = PromotionFormSet
    extra = 0
    show_change_link = False
    hide_title = True  # a row's columns say what it is; its model name adds nothing

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def _editable(self, request, obj):
        return obj is None or obj.state() != PromotionState.ENDED

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and request.user.has_perm("promotions.change_promotion")

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and request.user.has_perm("promotions.change_promotion")

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and request.user.has_perm("promotions.change_promotion")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("promotions.view_promotion")

    # Shown read only (ended, or view permission only): amounts in ¥ and rates in %.
    shown_fields: tuple[str, ...] = ()

    def get_fields(self, request, obj=None):
        return self.fields if self.has_change_permission(request, obj) else self.shown_fields

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if self.has_change_permission(request, obj) else self.shown_fields


class ItemInline(SafeAutocompleteMixin, _KindInline):
    model = PromotionItem
    form = ItemForm
    fields = ("product", "sku_code", "regular_text", "price", "discount_bp", "quota", "sold_text")
    readonly_fields = ("regular_text", "sold_text")
    # Read only (ended, or view permission): what was set; today's 售价 would not be what it
    # was compared with.
    shown_fields = ("product", "sku_text", "price_text", "discount_text", "quota", "sold_text")
    autocomplete_fields = ("product",)
    verbose_name = gettext_lazy("活动商品")
    verbose_name_plural = pgettext_lazy("plural", "活动商品（活动价与立减比例二选一；活动库存留空表示不限）")

    def get_queryset(self, request):
        return reservations.with_units_sold(super().get_queryset(request).select_related("product", "sku"))

    # A new promotion opened from the product list (?products=1,2) starts with one row per
    # product; the preset is the form's first look only, so a posted form keeps its rows.
    def _preset(self, request, obj) -> list[int]:
        return preset_products(request) if obj is None and request.method == "GET" else []

    def get_extra(self, request, obj=None, **kwargs):
        return len(self._preset(request, obj)) or super().get_extra(request, obj, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        preset = self._preset(request, obj)
        if not preset:
            return formset
        initial = [{"product": pk} for pk in preset]
        products = Product.objects.in_bulk(preset)

        class Preset(formset):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, initial=initial, **kwargs)

            def _construct_form(self, i, **kwargs):
                # The row's 售价 column reads its instance: the products in one query.
                form = super()._construct_form(i, **kwargs)
                if i < len(preset) and preset[i] in products:
                    form.instance.product = products[preset[i]]
                return form

        return Preset

    @display(description=gettext_lazy("售价"))
    def regular_text(self, obj):
        # What the buyer pays without the promotion, so a price or a rate is set knowingly.
        if obj.sku_id:
            return format_fen(obj.sku.price)
        if obj.product_id:
            return format_fen(obj.product.price)
        return "-"

    @display(description=gettext_lazy("已售"))
    def sold_text(self, obj):
        # Items without a 活动库存 keep no counter: their units are summed from the orders.
        return reservations.units_sold(obj)

    @display(description=gettext_lazy("SKU编码"))
    def sku_text(self, obj):
        return obj.sku.code if obj.sku_id else _("全部规格")

    @display(description=gettext_lazy("活动价"))
    def price_text(self, obj):
        return format_fen(obj.price) if obj.price is not None else "-"

    @display(description=gettext_lazy("立减比例"))
    def discount_text(self, obj):
        return format_bp(obj.discount_bp) if obj.discount_bp is not None else "-"


class TierForm(forms.ModelForm):
    class Meta:
        model = SpendTier
        fields = ("threshold", "reduction", "free_shipping")

    def _get_validation_exclusions(self):
        # Tier amounts and duplicate thresholds are refused by the service in Chinese.
        return super()._get_validation_exclusions() | {"threshold", "reduction"}


class TierInline(MoneyFieldsMixin, _KindInline):
    model = SpendTier
    form = TierForm
    money_fields = ("threshold", "reduction")
    fields = ("threshold", "reduction", "free_shipping")
    shown_fields = ("threshold_text", "reduction_text", "free_shipping")
    verbose_name = gettext_lazy("满减档位")
    verbose_name_plural = pgettext_lazy("plural", "满减档位（每满减只设一档）")

    @display(description=gettext_lazy("满"))
    def threshold_text(self, obj):
        return format_fen(obj.threshold)

    @display(description=gettext_lazy("减"))
    def reduction_text(self, obj):
        return format_fen(obj.reduction)
