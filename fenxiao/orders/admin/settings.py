"""Order settings: one record, edited on one page."""

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin

from fenxiao.core.admin_forms import MoneyFieldsMixin

from ..models import (
    MAX_AFTER_SALE_RESPOND_DAYS,
    MAX_RETURN_RECEIVE_DAYS,
    MAX_RETURN_SHIP_DAYS,
    OrderSettings,
)

# --- Order settings (one record) -------------------------------------------------------------


class OrderSettingsForm(forms.ModelForm):
    # Sane bounds: a timeout of 0 would cancel every order at once, a huge one overflows dates.
    LIMITS = {
        "payment_timeout_minutes": (1, 7 * 24 * 60),
        "auto_complete_days": (1, 90),
        "signed_auto_complete_days": (0, 90),
        "after_sale_days": (0, 365),
        "low_stock_threshold": (0, 1_000_000),
        "after_sale_respond_days": (0, MAX_AFTER_SALE_RESPOND_DAYS),
        "return_ship_days": (1, MAX_RETURN_SHIP_DAYS),
        "return_receive_days": (0, MAX_RETURN_RECEIVE_DAYS),
    }

    class Meta:
        model = OrderSettings
        fields = (
            "payment_timeout_minutes",
            "auto_complete_days",
            "signed_auto_complete_days",
            "after_sale_days",
            "shipping_fee",
            "free_shipping_threshold",
            "low_stock_threshold",
            "after_sale_respond_days",
            "return_ship_days",
            "return_receive_days",
            "return_recipient",
            "return_phone",
            "return_address",
        )

    def clean_return_phone(self):
        phone = (self.cleaned_data.get("return_phone") or "").strip()
        if phone and not re.fullmatch(r"[0-9+\- ]{5,20}", phone):
            raise forms.ValidationError(_("请填写正确的联系电话"))
        return phone

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (low, high) in self.LIMITS.items():
            field = self.fields.get(name)
            if field is not None:
                # These bounds replace the model field's own (a PositiveIntegerField's 0), so a
                # value below both reads one message, the one that applies.
                bounds = (MinValueValidator, MaxValueValidator)
                kept = [v for v in field.validators if not isinstance(v, bounds)]
                field.validators = [*kept, MinValueValidator(low), MaxValueValidator(high)]
                field.widget.attrs.update({"min": low, "max": high})


@admin.register(OrderSettings)
class OrderSettingsAdmin(MoneyFieldsMixin, ModelAdmin):
    form = OrderSettingsForm
    money_fields = ("shipping_fee", "free_shipping_threshold")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "payment_timeout_minutes",
                    "auto_complete_days",
                    "signed_auto_complete_days",
                    "after_sale_days",
                    "shipping_fee",
                    "free_shipping_threshold",
                    "low_stock_threshold",
                )
            },
        ),
        (
            gettext_lazy("售后与退货"),
            {
                "fields": (
                    "after_sale_respond_days",
                    "return_ship_days",
                    "return_receive_days",
                    "return_recipient",
                    "return_phone",
                    "return_address",
                )
            },
        ),
        (None, {"fields": ("updated_at",)}),
    )
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not OrderSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        settings = OrderSettings.current()
        return HttpResponseRedirect(reverse("admin:orders_ordersettings_change", args=[settings.pk]))

    def response_change(self, request, obj):
        messages.success(request, _("订单设置已保存"))
        return HttpResponseRedirect(reverse("admin:orders_ordersettings_change", args=[obj.pk]))
