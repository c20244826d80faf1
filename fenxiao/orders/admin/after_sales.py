"""The after-sale page: what the buyer asked for, its refunds, and the approve / reject pages."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyInline, fen_column
from fenxiao.core.admin_forms import ConfirmForm, LocalDateRangeFilter, action_page, form_action, posted
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen
from fenxiao.payments.models import Refund

from ..models import AfterSale, AfterSaleLine, AfterSaleStatus
from ..services import after_sales
from .common import AFTER_SALE_STATUS_LABELS, ReasonForm, buyer_text, change_url, label, link
from .exporting import AfterSaleExports

# --- After-sale ------------------------------------------------------------------------------


class AfterSaleLineInline(ReadOnlyInline):
    model = AfterSaleLine
    fields = ("line_display", "quantity", "amount_display")
    readonly_fields = fields
    verbose_name_plural = "售后商品"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @display(description="订单商品")
    def line_display(self, obj):
        return str(obj.order_line)

    amount_display = fen_column("金额")


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
    verbose_name_plural = "退款记录"

    amount_display = fen_column("退款金额")


@admin.register(AfterSale)
class AfterSaleAdmin(AfterSaleExports, DetailActionsMixin, ModelAdmin):
    missing_message = "售后单不存在"
    list_display = (
        "number",
        "order_link",
        "buyer_display",
        "kind",
        "status_label",
        "amount_display",
        "requested_by",
        "created_at",
    )
    list_filter = ("status", "kind", "requested_by", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("=number", "=order__number", "order__buyer__phone")
    list_select_related = ("order", "order__buyer")
    show_full_result_count = False
    inlines = (AfterSaleLineInline, RefundInline)
    fields = (
        "number",
        "order_link",
        "buyer_display",
        "kind",
        "status_badge",
        "amount_display",
        "reason",
        "restock",
        "requested_by",
        "created_at",
        "decider_display",
        "decided_at",
        "reject_reason",
        "refunded_at",
    )
    readonly_fields = fields
    actions_detail = ("approve_after_sale", "reject_after_sale")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_aftersale_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_aftersale")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order", "order__buyer", "decided_by")

    @display(description="订单")
    def order_link(self, obj):
        return link(obj.order, obj.order.number)

    @display(description="买家")
    def buyer_display(self, obj):
        return buyer_text(obj.order.buyer)

    @display(
        description="状态", ordering="status", label={str(k): v for k, v in AFTER_SALE_STATUS_LABELS.items()}
    )
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description="状态")
    def status_badge(self, obj):
        return label(obj.get_status_display(), AFTER_SALE_STATUS_LABELS.get(obj.status))

    amount_display = fen_column("退款金额", ordering="amount")

    @display(description="处理人")
    def decider_display(self, obj):
        return str(obj.decided_by) if obj.decided_by_id else "-"

    def detail_actions_for(self, after_sale):
        if after_sale.status != AfterSaleStatus.REQUESTED:
            return set()
        return {"approve_after_sale", "reject_after_sale"}

    def _summary(self, after_sale: AfterSale):
        lines = "；".join(
            f"{item.order_line} 退 {item.quantity} 件 {format_fen(item.amount)}"
            for item in after_sale.lines.select_related("order_line")
        )
        return [
            ("售后单号", after_sale.number),
            ("订单", after_sale.order.number),
            ("买家", buyer_text(after_sale.order.buyer)),
            ("类型", after_sale.get_kind_display()),
            ("状态", after_sale.get_status_display()),
            ("退款金额", format_fen(after_sale.amount)),
            ("原因", after_sale.reason),
            ("商品", lines or "-"),
            ("退回库存", "是" if after_sale.restock else "否"),
        ]

    @action(
        description="同意并退款", url_path="approve", permissions=["change_aftersale"], icon="check_circle"
    )
    def approve_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = ConfirmForm(posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                after_sales.approve(after_sale, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, f"已同意售后 {after_sale.number}，{format_fen(after_sale.amount)} 原路退回"
                )
                return HttpResponseRedirect(change_url(after_sale))
        return action_page(
            self,
            request,
            after_sale,
            title=f"同意售后：{after_sale.number}",
            form=form,
            summary=self._summary(after_sale),
            submit_label="同意并退款",
        )

    @action(description="拒绝", url_path="reject", permissions=["change_aftersale"], icon="block")
    def reject_after_sale(self, request, object_id):
        after_sale = self.object_or_404(request, object_id)
        form = ReasonForm(posted(request))
        form.fields["reason"].label = "拒绝原因"
        return form_action(
            self,
            request,
            after_sale,
            form,
            lambda data: after_sales.reject(after_sale, request.user, reason=data["reason"]),
            success=f"已拒绝售后 {after_sale.number}",
            title=f"拒绝售后：{after_sale.number}",
            summary=self._summary(after_sale),
            submit_label="确认拒绝",
            danger=True,
        )
