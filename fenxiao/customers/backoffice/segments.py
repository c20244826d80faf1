"""客户分群: saved filters over tags and behaviour. The edit page shows the live member
count (htmx, as the filter changes); the list shows each segment's current count (one
statement for the page). Who is in a segment is `services.segments.members`."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import display
from unfold.fields import (
    UnfoldAdminAutocompleteModelChoiceField,
    UnfoldAdminMultipleAutocompleteModelChoiceField,
)
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminSelectWidget

from fenxiao.catalog.models import Product
from fenxiao.core.admin_forms import MoneyField, MoneyWidget, style_fields
from fenxiao.distribution.models import Distributor

from ..errors import SegmentInvalid
from ..models import RegistrationSource, Segment, Tag
from ..services import segments as segment_service
from .listing import may_see_phones
from .segment_pickers import DistributorLookup, DistributorPicker, ProductLookup, ProductPicker

DAYS_ERRORS = {
    "invalid": gettext_lazy("请输入整数天数"),
    "min_value": gettext_lazy("天数至少为 1"),
    "max_value": gettext_lazy("天数不能超过 3650"),
}
COUNT_ERRORS = {
    "invalid": gettext_lazy("请输入整数"),
    "min_value": gettext_lazy("不能小于 0"),
    "max_value": gettext_lazy("数值过大"),
}


def _days(label):
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=3650, error_messages=DAYS_ERRORS
    )


def _count(label):
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=0,
        max_value=segment_service.MAX_COUNT,
        error_messages=COUNT_ERRORS,
    )


def _tags(label):
    return forms.ModelMultipleChoiceField(
        label=label,
        queryset=Tag.objects.order_by("rule", "name"),
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        error_messages={
            "invalid_choice": gettext_lazy("所选标签不存在"),
            "invalid_pk_value": gettext_lazy("所选标签不存在"),
        },
    )


UNBOUNDED = {"placeholder": gettext_lazy("不限")}


class SegmentForm(forms.ModelForm):
    tags_any = _tags(gettext_lazy("包含任一标签"))
    tags_all = _tags(gettext_lazy("包含全部标签"))
    tags_none = _tags(gettext_lazy("不包含标签"))
    # Blank means no bound; a "0.00" placeholder would read like a limit of zero.
    spend_min = MoneyField(
        label=gettext_lazy("累计消费 ≥（元）"), required=False, widget=MoneyWidget(UNBOUNDED)
    )
    spend_max = MoneyField(
        label=gettext_lazy("累计消费 ≤（元）"), required=False, widget=MoneyWidget(UNBOUNDED)
    )
    orders_min = _count(gettext_lazy("付款订单数 ≥"))
    orders_max = _count(gettext_lazy("付款订单数 ≤"))
    paid_within = _days(gettext_lazy("最近 N 天内有付款"))
    not_paid_within = _days(gettext_lazy("最近 N 天内无付款（含从未付款）"))
    bound = forms.ChoiceField(
        label=gettext_lazy("绑定分销商"),
        required=False,
        choices=[("", gettext_lazy("不限")), *segment_service.BOUND_CHOICES.items()],
        widget=UnfoldAdminSelectWidget,
        error_messages={"invalid_choice": gettext_lazy("绑定分销商条件有误")},
    )
    distributor = UnfoldAdminAutocompleteModelChoiceField(
        "admin:customers_segment_distributors",
        # The distribution catalog's 指定分销商 is the 指定分销 action ("Designate distributor").
        label=pgettext_lazy("segment", "指定分销商"),
        queryset=Distributor.objects.select_related("user"),
        widget=DistributorPicker,
        required=False,
        help_text=gettext_lazy("输入姓名、昵称、手机号或推广码搜索；选了分销商即只看绑定该分销商的客户"),
        error_messages={"invalid_choice": gettext_lazy("所选分销商不存在")},
    )
    sources = forms.MultipleChoiceField(
        label=gettext_lazy("注册来源"),
        required=False,
        choices=RegistrationSource.choices,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        error_messages={"invalid_choice": gettext_lazy("注册来源有误")},
    )
    registered_within = _days(gettext_lazy("最近 N 天内注册"))
    product_action = forms.ChoiceField(
        label=gettext_lazy("商品行为"),
        required=False,
        choices=[("", gettext_lazy("不限")), *segment_service.PRODUCT_ACTIONS.items()],
        widget=UnfoldAdminSelectWidget,
        error_messages={"invalid_choice": gettext_lazy("商品行为条件有误")},
    )
    products = UnfoldAdminMultipleAutocompleteModelChoiceField(
        "admin:customers_segment_products",
        label=gettext_lazy("商品"),
        queryset=Product.objects.only("pk", "name", "is_listed"),
        widget=ProductPicker,
        required=False,
        help_text=format_lazy(
            gettext_lazy("输入商品名称搜索，最多 {count} 个；不选即任意商品"),
            count=segment_service.MAX_PRODUCTS,
        ),
        error_messages={
            "invalid_choice": gettext_lazy("所选商品不存在"),
            "invalid_pk_value": gettext_lazy("所选商品不存在"),
        },
    )
    product_within = _days(gettext_lazy("商品行为发生在最近 N 天内（不填即不限）"))

    class Meta:
        model = Segment
        fields = ("name", "description")
        error_messages = {
            "name": {"unique": gettext_lazy("已有同名分群"), "required": gettext_lazy("请填写分群名称")}
        }

    full_phone = False  # whether the staff member may see whole phones (`SegmentAdmin.get_form`)

    def __init__(self, *args, full_phone=None, **kwargs):
        super().__init__(*args, **kwargs)
        shown = self.full_phone if full_phone is None else full_phone
        self.fields["distributor"].widget.full_phone = shown
        criteria = self.instance.criteria or {}
        if self.instance.pk and not self.is_bound:
            for key in (
                "tags_any",
                "tags_all",
                "tags_none",
                "spend_min",
                "spend_max",
                "orders_min",
                "orders_max",
                "paid_within",
                "not_paid_within",
                "bound",
                "sources",
                "registered_within",
                "product_action",
                "products",
                "product_within",
            ):
                if key in criteria:
                    self.initial[key] = criteria[key]
            if criteria.get("distributor_id"):
                self.initial["distributor"] = criteria["distributor_id"]
        style_fields(self)

    def criteria(self) -> dict:
        """The cleaned criteria of a valid form (or the SegmentInvalid the service raises)."""
        data = self.cleaned_data
        raw = {
            "tags_any": [t.pk for t in data.get("tags_any") or []],
            "tags_all": [t.pk for t in data.get("tags_all") or []],
            "tags_none": [t.pk for t in data.get("tags_none") or []],
            "sources": list(data.get("sources") or []),
            "bound": data.get("bound") or "",
            "product_action": data.get("product_action") or "",
            "products": [p.pk for p in data.get("products") or []],
        }
        for key in (
            "spend_min",
            "spend_max",
            "orders_min",
            "orders_max",
            "paid_within",
            "not_paid_within",
            "registered_within",
            "product_within",
        ):
            raw[key] = data.get(key)
        distributor = data.get("distributor")
        if distributor is not None:
            if raw["bound"] == "none":
                raise SegmentInvalid(_("选了“未绑定分销商”时不能再指定分销商"))
            # Picking a distributor is the merchant's intent; 已绑定 narrows to that one.
            raw["bound"], raw["distributor_id"] = "one", distributor.pk
        elif raw["bound"] == "one":
            raise SegmentInvalid(_("请选择分销商"))
        return segment_service.clean_criteria(raw)

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                self.cleaned_criteria = self.criteria()
            except SegmentInvalid as exc:
                raise forms.ValidationError(exc.message) from exc
        return data

    def save(self, commit=True):
        self.instance.criteria = self.cleaned_criteria
        return super().save(commit)


@admin.register(Segment)
class SegmentAdmin(ModelAdmin):
    form = SegmentForm
    change_form_template = "admin/customers/segment/change_form.html"
    list_display = ("name", "member_count", "description", "updated_at", "next_step")
    search_fields = ("name",)
    search_help_text = gettext_lazy("按分群名称搜索")
    fieldsets = (
        (None, {"fields": ("name", "description")}),
        (gettext_lazy("标签"), {"fields": ("tags_any", "tags_all", "tags_none")}),
        (
            gettext_lazy("消费行为"),
            {
                "fields": (
                    "spend_min",
                    "spend_max",
                    "orders_min",
                    "orders_max",
                    "paid_within",
                    "not_paid_within",
                )
            },
        ),
        (
            gettext_lazy("来源与绑定"),
            {"fields": ("bound", "distributor", "sources", "registered_within")},
        ),
        (gettext_lazy("商品行为"), {"fields": ("product_action", "products", "product_within")}),
    )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # The page's segments counted in one statement before the rows are rendered.
        rows = list(changelist.result_list)
        counts = segment_service.counts(rows)
        # Where each row may lead this staff member travels with the rows: the admin object
        # is shared by every request.
        user = request.user
        may_list = user.has_perm("customers.view_customer")
        may_push = user.has_perm("promotions.add_push")
        for row in rows:
            row.member_total = counts.get(row.pk)
            row.members_url = (
                f"{reverse('admin:customers_customer_changelist')}?segment={row.pk}" if may_list else ""
            )
            row.push_url = f"{reverse('admin:promotions_push_add')}?segment={row.pk}" if may_push else ""
        changelist.result_list = rows
        return changelist

    @display(description=gettext_lazy("当前客户数"))
    def member_count(self, obj):
        value = getattr(obj, "member_total", None)
        if value is None:
            return "-"
        text = ngettext("%(count)s 人", "%(count)s 人", value) % {"count": value}
        url = getattr(obj, "members_url", "")
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text) if url else text

    @display(description=gettext_lazy("下一步"))
    def next_step(self, obj):
        url = getattr(obj, "push_url", "")
        if not url or not getattr(obj, "member_total", None):
            return "-"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, _("定向推送"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "live-count/",
                self.admin_site.admin_view(self.live_count),
                name="customers_segment_live_count",
            ),
            path(
                "distributors/",
                self.admin_site.admin_view(self.distributor_lookup),
                name="customers_segment_distributors",
            ),
            path(
                "products/",
                self.admin_site.admin_view(self.product_lookup),
                name="customers_segment_products",
            ),
        ] + super().get_urls()

    def product_lookup(self, request):
        """The 商品 picker's search (select2's JSON): products whose name holds the term."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return ProductLookup.as_view()(request)

    def distributor_lookup(self, request):
        """The 指定分销商 picker's search: by name, nickname, phone or whole referral code."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        return DistributorLookup.as_view()(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        # The chosen distributor's phone is drawn as this staff member may see it.
        return type(form.__name__, (form,), {"full_phone": may_see_phones(request)})

    def live_count(self, request):
        """The member count of the filter being edited (htmx, GET with the form's fields)."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        form = SegmentForm(request.GET, full_phone=may_see_phones(request))
        del form.fields["name"]  # the count does not need a name (nor its uniqueness check)
        count, errors = None, []
        if form.is_valid():
            count = segment_service.filter_buyers(form.cleaned_criteria).count()
        else:
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return TemplateResponse(
            request, "admin/customers/segment/live_count.html", {"count": count, "errors": errors}, status=200
        )
