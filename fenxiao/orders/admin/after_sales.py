"""The after-sale pages: the list by step (tabs with counts), and the record with what the
buyer asked for, their photos, the negotiation history, the deadline of the current step,
its refunds, and the buttons for the step (同意 / 拒绝 / 确认收货并退款 / 拒绝收货 / 留言)."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import ChangedByServicesOnly, DetailActionsMixin, ReadOnlyInline, fen_column
from fenxiao.core.admin_forms import LocalDateRangeFilter, action_page, form_action, posted
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen
from fenxiao.payments.models import Refund

from ..models import AfterSale, AfterSaleKind, AfterSaleLine, AfterSaleLog, AfterSaleStatus, OrderSettings
from ..services import after_sale_checks as checks
from ..services import after_sales
from .common import (
    AFTER_SALE_STATUS_LABELS,
    ReasonForm,
    buyer_text,
    change_url,
    full_phones,
    label,
    link,
    shown_user,
    with_phone_flag,
)
from .exporting import AfterSaleExports

# --- After-sale ------------------------------------------------------------------------------

# The list's tabs: what waits on whom. (title, statuses)
TABS = [
    (gettext_lazy("全部"), []),
    (gettext_lazy("待处理"), [AfterSaleStatus.REQUESTED]),
    (gettext_lazy("待买家退货"), [AfterSaleStatus.AWAITING_RETURN]),
    (gettext_lazy("待收货"), [AfterSaleStatus.RETURN_SHIPPED]),
    (gettext_lazy("退款中"), [AfterSaleStatus.APPROVED]),
    (gettext_lazy("已完成"), [AfterSaleStatus.REFUNDED]),
    (gettext_lazy("已关闭"), [AfterSaleStatus.REJECTED, AfterSaleStatus.WITHDRAWN, AfterSaleStatus.CLOSED]),
]
# What the current step's deadline means, by status.
DEADLINE_TEXT = {
    AfterSaleStatus.REQUESTED: gettext_lazy("商家处理期限，逾期系统自动同意"),
    AfterSaleStatus.AWAITING_RETURN: gettext_lazy("买家寄回期限，逾期售后自动关闭"),
    AfterSaleStatus.RETURN_SHIPPED: gettext_lazy("商家收货期限，逾期系统自动确认收货并退款"),
}


def remaining_text(deadline, now=None) -> str:
    """ "剩余 2 天 3 小时" / "已逾期" for a deadline."""
    left = deadline - (now or timezone.now())
    if left.total_seconds() <= 0:
        return _("已逾期，等待系统处理")
    days, hours = left.days, left.seconds // 3600
    if days:
        return _("剩余 %(days)s 天 %(hours)s 小时") % {"days": days, "hours": hours}
    return _("剩余 %(hours)s 小时 %(minutes)s 分钟") % {"hours": hours, "minutes": left.seconds % 3600 // 60}


class ReceiveForm(forms.Form):
    restock = forms.BooleanField(
        label=gettext_lazy("退回库存"),
        required=False,
        initial=True,
        help_text=gettext_lazy("勾选后退回的商品数量重新计入可售库存"),
    )


class ApproveForm(forms.Form):
    """同意: a POST is the confirmation. A refund only of units not yet in a parcel (still in
    the warehouse) asks whether they go back on sale, ticked when the request says so."""

    def __init__(self, *args, after_sale: AfterSale, **kwargs):
        super().__init__(*args, **kwargs)
        units = 0
        if after_sale.kind == AfterSaleKind.REFUND_ONLY:
            items = [
                (item.order_line, item.quantity) for item in after_sale.lines.select_related("order_line")
            ]
            units = sum(checks.in_warehouse(after_sale.order, items).values())
        if units:
            self.fields["restock"] = forms.BooleanField(
                label=_("退回库存（未发货的 %(units)s 件）") % {"units": units},
                required=False,
                initial=after_sale.restock,
                help_text=_("这些商品尚未发出，勾选后重新计入可售库存；已发出的商品不退回库存"),
            )


class MessageForm(forms.Form):
    message = forms.CharField(label=gettext_lazy("留言内容"), max_length=500, widget=forms.Textarea)


class AfterSaleLineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ("line_display", "quantity", "amount_display")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "售后商品")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @display(description=gettext_lazy("订单商品"))
    def line_display(self, obj):
        return str(obj.order_line)

    amount_display = fen_column(gettext_lazy("金额"))


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = (
        "out_refund_no",
        "amount_display",
        "status",
        "attempts",
        "failure_reason",
        "created_at",
        "completed_at",
    )
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "退款记录")

    amount_display = fen_column(gettext_lazy("退款金额"))


@admin.register(AfterSale)
class AfterSaleAdmin(AfterSaleExports, ChangedByServicesOnly, DetailActionsMixin, ModelAdmin):
    missing_message = gettext_lazy("售后单不存在")
    list_display = (
        "number",
        "order_link",
        "buyer_display",
        "kind",
        "status_label",
        "amount_display",
        "reason_display",
        "deadline_short",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "kind", "reason_code", "requested_by", ("created_at", LocalDateRangeFilter))
    list_before_template = "admin/orders/after_sale_tabs.html"
    list_filter_submit = True
    search_fields = ("=number", "=order__number", "order__buyer__phone")
    search_help_text = gettext_lazy("按完整售后单号、完整订单号或买家手机号搜索")
    list_select_related = ("order", "order__buyer")
    show_full_result_count = False
    inlines = (AfterSaleLineInline, RefundInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "order_link",
                    "buyer_display",
                    "kind",
                    "status_badge",
                    "deadline_display",
                    "amount_display",
                    "reason_display",
                    "description",
                    "evidence_display",
                    "restock",
                    "requested_by",
                    "created_at",
                    "decider_display",
                    "decided_at",
                    "reject_reason",
                )
            },
        ),
        (
            gettext_lazy("退货物流"),
            {
                "fields": (
                    "return_address_display",
                    "return_shipment_display",
                    "return_shipped_at",
                    "received_at",
                    "refunded_at",
                    "closed_at",
                )
            },
        ),
        (gettext_lazy("协商记录"), {"fields": ("history_display",)}),
    )
    # Nothing on an after-sale is edited as a form: every field shown is read-only.
    readonly_fields = tuple(name for _, section in fieldsets for name in section["fields"])
    actions_detail = (
        "approve_after_sale",
        "reject_after_sale",
        "receive_after_sale",
        "refuse_receipt",
        "message_after_sale",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_aftersale_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_aftersale")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("order", "order__buyer", "decided_by")
        return with_phone_flag(queryset, request)

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return link(obj.order, obj.order.number)

    @display(description=gettext_lazy("买家"))
    def buyer_display(self, obj):
        return buyer_text(obj.order.buyer, full_phones(obj))

    @display(description=gettext_lazy("原因"))
    def reason_display(self, obj):
        return obj.reason_text

    @display(
        description=gettext_lazy("状态"),
        ordering="status",
        label={str(k): v for k, v in AFTER_SALE_STATUS_LABELS.items()},
    )
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return label(obj.get_status_display(), AFTER_SALE_STATUS_LABELS.get(obj.status))

    amount_display = fen_column(gettext_lazy("退款金额"), ordering="amount")

    @display(description=gettext_lazy("处理人"))
    def decider_display(self, obj):
        return str(obj.decided_by) if obj.decided_by_id else "-"

    @display(description=gettext_lazy("处理期限"))
    def deadline_short(self, obj):
        if obj.deadline is None:
            return "-"
        return remaining_text(obj.deadline)

    @display(description=gettext_lazy("处理期限"))
    def deadline_display(self, obj):
        if obj.deadline is None:
            return "-"
        when = timezone.localtime(obj.deadline).strftime("%Y-%m-%d %H:%M")
        return _("%(when)s 前（%(remaining)s）· %(rule)s") % {
            "when": when,
            "remaining": remaining_text(obj.deadline),
            "rule": DEADLINE_TEXT.get(obj.status, ""),
        }

    @display(description=gettext_lazy("凭证图片"))
    def evidence_display(self, obj):
        return render_to_string("admin/orders/after_sale_images.html", {"images": list(obj.images.all())})

    @display(description=gettext_lazy("退货地址"))
    def return_address_display(self, obj):
        if obj.kind != AfterSaleKind.RETURN_REFUND:
            return "-"
        return OrderSettings.current().return_address_text or _("未设置（请在订单设置中填写退货地址）")

    @display(description=gettext_lazy("退货物流"))
    def return_shipment_display(self, obj):
        if not obj.return_tracking_number:
            return "-"
        return f"{obj.return_carrier_name} {obj.return_tracking_number}"

    @display(description=gettext_lazy("协商记录"))
    def history_display(self, obj):
        logs = list(
            AfterSaleLog.objects.filter(after_sale=obj).select_related("actor").prefetch_related("images")
        )
        for log in logs:
            if log.actor_id:
                log.actor = shown_user(log.actor, full_phones(obj))  # the template prints it
        return render_to_string("admin/orders/after_sale_history.html", {"logs": logs})

    def detail_actions_for(self, after_sale):
        by_status = {
            AfterSaleStatus.REQUESTED: {"approve_after_sale", "reject_after_sale"},
            AfterSaleStatus.RETURN_SHIPPED: {"receive_after_sale", "refuse_receipt"},
        }
        return by_status.get(after_sale.status, set()) | {"message_after_sale"}

    def lookup_allowed(self, lookup, value, request=None):
        # A customer's page opens 全部售后 as their after-sales (?order__buyer__id__exact=…),
        # as its 全部订单 opens their orders; Django allows one relation deep unless told.
        return lookup == "order__buyer__id__exact" or super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        counts = dict(AfterSale.objects.values_list("status").annotate(n=Count("pk")).order_by())
        current = request.GET.get("status__in") or request.GET.get("status__exact") or ""
        base = reverse("admin:orders_aftersale_changelist")
        tabs = []
        for title, statuses in TABS:
            value = ",".join(statuses)
            tabs.append(
                {
                    "title": title,
                    "link": f"{base}?{urlencode({'status__in': value})}" if statuses else base,
                    "count": sum(counts.get(s, 0) for s in statuses) if statuses else sum(counts.values()),
                    "active": value == current,
                }
            )
        return super().changelist_view(request, {**(extra_context or {}), "after_sale_tabs": tabs})

    def _summary(self, after_sale: AfterSale):
        lines = _("；").join(
            _("%(order_line)s 退 %(quantity)s 件 %(amount)s")
            % {"order_line": item.order_line, "quantity": item.quantity, "amount": format_fen(item.amount)}
            for item in after_sale.lines.select_related("order_line")
        )
        return [
            (_("售后单号"), after_sale.number),
            (_("订单"), after_sale.order.number),
            (_("买家"), buyer_text(after_sale.order.buyer, full_phones(after_sale))),
            (_("类型"), after_sale.get_kind_display()),
            (_("状态"), after_sale.get_status_display()),
            (_("退款金额"), format_fen(after_sale.amount)),
            (_("原因"), after_sale.reason_text),
            (_("商品"), lines or "-"),
            (_("退回库存"), _("是") if after_sale.restock else _("否")),
            (
                _("退货物流"),
                f"{after_sale.return_carrier_name} {after_sale.return_tracking_number}"
                if after_sale.return_tracking_number
                else "-",
            ),
        ]

    @action(
        description=gettext_lazy("同意"),
        url_path="approve",
        permissions=["change_aftersale"],
        icon="check_circle",
    )
    def approve_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        is_return = after_sale.kind == AfterSaleKind.RETURN_REFUND
        if is_return and after_sales.return_address_missing():
            return self._return_address_missing(request, after_sale)
        form = ApproveForm(posted(request), after_sale=after_sale)
        if request.method == "POST" and form.is_valid():
            try:
                after_sales.approve(after_sale, request.user, restock=form.cleaned_data.get("restock"))
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("已同意退货 %(number)s，等待买家寄回商品") % {"number": after_sale.number}
                    if is_return
                    else _("已同意售后 %(number)s，%(amount)s 原路退回")
                    % {"number": after_sale.number, "amount": format_fen(after_sale.amount)},
                )
                return HttpResponseRedirect(change_url(after_sale))
        summary = self._summary(after_sale)
        if is_return:
            days = OrderSettings.current().return_ship_days
            address = OrderSettings.current().return_address_text or _("未设置（请在订单设置中填写退货地址）")
            summary += [
                (_("买家寄回期限"), _("同意后 %(days)s 天内") % {"days": days}),
                (_("退货地址"), address),
            ]
        return action_page(
            self,
            request,
            after_sale,
            title=(_("同意退货：%(number)s") if is_return else _("同意退款：%(number)s"))
            % {"number": after_sale.number},
            form=form,
            summary=summary,
            submit_label=_("同意退货，等待买家寄回") if is_return else _("同意并退款"),
        )

    def _return_address_missing(self, request, after_sale: AfterSale):
        """同意 of a return while the shop has no return address: the reason and the way to
        订单设置 instead of the button (the service refuses the approval anyway)."""
        refusal = after_sales.ReturnAddressMissing()
        if request.method == "POST":
            messages.error(request, refusal.message)
        may_edit = request.user.has_perm("orders.change_ordersettings")
        return action_page(
            self,
            request,
            after_sale,
            title=_("同意退货：%(number)s") % {"number": after_sale.number},
            summary=self._summary(after_sale) + [(_("退货地址"), _("未设置"))],
            template="admin/orders/return_address_missing.html",
            refusal=refusal.message,
            settings_url=reverse("admin:orders_ordersettings_changelist") if may_edit else "",
        )

    @action(
        description=gettext_lazy("确认收货并退款"),
        url_path="receive",
        permissions=["change_aftersale"],
        icon="inventory",
    )
    def receive_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = ReceiveForm(posted(request), initial={"restock": after_sale.restock})
        return form_action(
            self,
            request,
            after_sale,
            form,
            lambda data: after_sales.receive(after_sale, request.user, restock=data["restock"]),
            success=_("已确认收货，%(amount)s 原路退回") % {"amount": format_fen(after_sale.amount)},
            title=_("确认收货并退款：%(number)s") % {"number": after_sale.number},
            summary=self._summary(after_sale),
            submit_label=_("确认收货并退款"),
        )

    @action(
        description=gettext_lazy("拒绝收货"),
        url_path="refuse-receipt",
        permissions=["change_aftersale"],
        icon="block",
    )
    def refuse_receipt(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = ReasonForm(posted(request))
        form.fields["reason"].label = _("拒绝收货原因")
        form.fields["reason"].help_text = _("如寄回的商品与描述不符、不是本店商品；买家可在售后期内重新申请")
        return form_action(
            self,
            request,
            after_sale,
            form,
            lambda data: after_sales.refuse_receipt(after_sale, request.user, reason=data["reason"]),
            success=_("已拒绝收货 %(number)s") % {"number": after_sale.number},
            title=_("拒绝收货：%(number)s") % {"number": after_sale.number},
            summary=self._summary(after_sale),
            submit_label=_("确认拒绝收货"),
            danger=True,
        )

    @action(
        description=gettext_lazy("留言"), url_path="message", permissions=["change_aftersale"], icon="chat"
    )
    def message_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = MessageForm(posted(request))
        return form_action(
            self,
            request,
            after_sale,
            form,
            lambda data: after_sales.add_message(after_sale, request.user, message=data["message"]),
            success=_("留言已发送，买家可在售后详情中看到"),
            title=_("留言：%(number)s") % {"number": after_sale.number},
            summary=self._summary(after_sale),
            submit_label=_("发送留言"),
        )

    @action(
        description=gettext_lazy("拒绝"), url_path="reject", permissions=["change_aftersale"], icon="block"
    )
    def reject_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = ReasonForm(posted(request))
        form.fields["reason"].label = _("拒绝原因")
        return form_action(
            self,
            request,
            after_sale,
            form,
            lambda data: after_sales.reject(after_sale, request.user, reason=data["reason"]),
            success=_("已拒绝售后 %(number)s") % {"number": after_sale.number},
            title=_("拒绝售后：%(number)s") % {"number": after_sale.number},
            summary=self._summary(after_sale),
            submit_label=_("确认拒绝"),
            danger=True,
        )
