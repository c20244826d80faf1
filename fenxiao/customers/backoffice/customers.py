"""客户: the buyers (never staff) with their figures, tags and binding; bulk manual
tags; CSV/Excel export; and the read-only customer profile as the change page.

Phones are masked (138****1234) unless the staff member has `customers.view_customer_phone`
(运营 has it, 财务 does not): in the list, the search results, the profile and exports.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Value
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen
from fenxiao.core.numbers import whole_number
from fenxiao.distribution.admin.common import bulk_step

from ..errors import TagInvalid
from ..models import Customer, Tag
from ..services import tags as tag_service
from .exports import CUSTOMERS
from .filters import (
    BoundFilter,
    LastPaidFilter,
    MarketingFilter,
    OrdersFilter,
    SegmentFilter,
    SourceFilter,
    SpendFilter,
    TagFilter,
)
from .listing import (
    customers_queryset,
    distributor_text,
    figures_of,
    may_see_phones,
    phone_text,
    source_text,
    tag_names,
)
from .profile import profile_page


class ManualTagForm(forms.Form):
    tag = forms.ModelChoiceField(
        label=gettext_lazy("手动标签"),
        queryset=Tag.objects.filter(rule="").order_by("name"),
        error_messages={
            "required": gettext_lazy("请选择标签"),
            "invalid_choice": gettext_lazy("请选择手动标签（自动标签由规则计算）"),
        },
    )


@admin.register(Customer)
class CustomerAdmin(ExportMixin, ModelAdmin):
    list_display = (
        "customer_header",
        "phone_display",
        "joined_display",
        "source_display",
        "distributor_display",
        "orders_display",
        "spend_display",
        "last_paid_display",
        "tags_display",
    )
    list_filter = (
        TagFilter,
        SegmentFilter,
        SourceFilter,
        BoundFilter,
        SpendFilter,
        OrdersFilter,
        LastPaidFilter,
        MarketingFilter,
        # Who joined this week / during the campaign: from and to, in whole local days.
        ("date_joined", LocalDateRangeFilter),
    )
    list_filter_submit = True  # the date range is typed, then applied with the rest
    search_fields = ("phone", "nickname")
    search_help_text = gettext_lazy("按手机号或昵称搜索")
    ordering = ("-id",)
    list_per_page = 50
    show_full_result_count = False
    actions = ("add_tag", "remove_tag")
    export = CUSTOMERS

    def get_queryset(self, request):
        # Whether this request may see full phones travels with the rows: the admin object
        # is shared by every request, so it cannot hold it.
        return customers_queryset().annotate(
            full_phone=Value(may_see_phones(request), output_field=BooleanField())
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_tag_permission(self, request):
        return request.user.has_perm("customers.add_customertag") and request.user.has_perm(
            "customers.delete_customertag"
        )

    # --- columns ---

    @display(description=gettext_lazy("客户"), header=True, ordering="nickname")
    def customer_header(self, obj):
        name = obj.nickname or _("未设置昵称")
        return [name, f"ID {obj.pk}", name[:1], None]

    @display(description=gettext_lazy("手机号"))
    def phone_display(self, obj):
        return phone_text(obj.phone, getattr(obj, "full_phone", False))

    @display(description=gettext_lazy("注册时间"), ordering="date_joined")
    def joined_display(self, obj):
        return f"{timezone.localtime(obj.date_joined):%Y-%m-%d %H:%M}"

    @display(description=gettext_lazy("注册来源"))
    def source_display(self, obj):
        return source_text(obj)

    @display(description=gettext_lazy("绑定分销商"))
    def distributor_display(self, obj):
        return distributor_text(obj)

    @display(description=gettext_lazy("付款订单"), ordering="customer_figures__paid_orders")
    def orders_display(self, obj):
        figures = figures_of(obj)
        return figures.paid_orders if figures else 0

    @display(description=gettext_lazy("累计消费"), ordering="customer_figures__total_spend")
    def spend_display(self, obj):
        figures = figures_of(obj)
        return format_fen(figures.total_spend if figures else 0)

    @display(description=gettext_lazy("最近购买"), ordering="customer_figures__last_paid_at")
    def last_paid_display(self, obj):
        figures = figures_of(obj)
        if figures is None or figures.last_paid_at is None:
            return "-"
        return f"{timezone.localtime(figures.last_paid_at):%Y-%m-%d %H:%M}"

    @display(description=gettext_lazy("标签"))
    def tags_display(self, obj):
        return _("、").join(tag_names(obj)) or "-"

    # --- the profile ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        pk = whole_number(str(object_id))
        if pk is None:
            raise Http404(_("客户不存在"))
        customer = customers_queryset().filter(pk=pk).first()
        if customer is None:
            raise Http404(_("客户不存在"))
        return profile_page(self, request, customer)

    # --- bulk manual tags ---

    def _tag_action(self, request, queryset, *, adding: bool):
        data, page = bulk_step(
            self,
            request,
            queryset,
            ManualTagForm,
            title=_("为所选客户添加标签") if adding else _("为所选客户移除标签"),
            submit_label=_("添加标签") if adding else _("移除标签"),
            describe=lambda c: c.nickname or phone_text(c.phone, may_see_phones(request)),
        )
        if page is not None:
            return page
        tag = data["tag"]
        ids = queryset.values("pk")
        try:
            count = (tag_service.add_manual if adding else tag_service.remove_manual)(tag, ids)
        except TagInvalid as exc:
            messages.error(request, exc.message)
            return None
        done = (
            _("已为 %(count)s 位客户添加标签“%(tag)s”")
            if adding
            else _("已为 %(count)s 位客户移除标签“%(tag)s”")
        )
        messages.success(request, done % {"count": count, "tag": tag.name})
        return None

    @action(description=gettext_lazy("添加手动标签"), permissions=["tag"])
    def add_tag(self, request, queryset):
        return self._tag_action(request, queryset, adding=True)

    @action(description=gettext_lazy("移除手动标签"), permissions=["tag"])
    def remove_tag(self, request, queryset):
        return self._tag_action(request, queryset, adding=False)
