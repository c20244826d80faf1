"""Backend pages for payments, refunds and gateway notifications: records, read only.

What staff may do here is re-drive money that has not arrived: a refund that is not
`succeeded`, and (in the sandbox) a payment notification the mall has not acknowledged.
Each action calls a service; the far side is idempotent, so a retry never pays twice.
"""

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from unfold.admin import TabularInline
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, fen_column, label_display
from fenxiao.core.admin_forms import LocalDateRangeFilter, confirm_action, report_each
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen

from .gateways import gateway_label
from .gateways.sandbox import retry_notification
from .models import (
    RETRYABLE_DELIVERY,
    RETRYABLE_REFUND,
    DeliveryStatus,
    NotificationOutcome,
    Payment,
    PaymentNotification,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefusedNotificationTally,
    SandboxTrade,
)
from .services.payments import query_gateway
from .services.refunds import retry_refund

PAYMENT_LABELS = {
    PaymentStatus.CREATED: "warning",
    PaymentStatus.SUCCEEDED: "success",
    PaymentStatus.CLOSED: "default",
}
REFUND_LABELS = {
    RefundStatus.PENDING: "warning",
    RefundStatus.PROCESSING: "info",
    RefundStatus.SUCCEEDED: "success",
    RefundStatus.FAILED: "danger",
}
OUTCOME_LABELS = {
    **dict.fromkeys(NotificationOutcome.values, "danger"),
    NotificationOutcome.ACCEPTED: "success",
    NotificationOutcome.DUPLICATE: "info",
    NotificationOutcome.LATE_REFUNDED: "warning",
}


def _labels(mapping):
    return {str(k): v for k, v in mapping.items()}


def _badge(text, kind):
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


def _order_link(order):
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html(
        '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>', url, order.number
    )


@display(description=gettext_lazy("原因"))
def refund_reason_display(admin_self, obj):
    # A reason the system wrote reads in the staff member's language (Refund.reason_text).
    return obj.reason_text or "-"


class RefundInline(TabularInline):
    model = Refund
    fields = (
        "out_refund_no",
        "amount_display",
        "status",
        "reason_display",
        "attempts",
        "failure_reason",
        "last_error",
        "created_at",
        "completed_at",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    hide_title = True  # the row's 商户退款单号 says which it is
    verbose_name_plural = pgettext_lazy("plural", "退款记录")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    amount_display = fen_column(gettext_lazy("退款金额"))
    reason_display = refund_reason_display


@display(description=gettext_lazy("支付渠道"), ordering="gateway")
def gateway_display(admin_self, obj):
    return gateway_label(obj.gateway)


@admin.register(Payment)
class PaymentAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = "支付记录不存在"
    list_display = (
        "out_trade_no",
        "order_link",
        "gateway_display",
        "amount_display",
        "status_label",
        "applied",
        "transaction_id",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "gateway", "applied", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("=out_trade_no", "=transaction_id", "=order__number")
    search_help_text = gettext_lazy("按完整商户支付单号、渠道交易号或订单号搜索")
    list_select_related = ("order",)
    inlines = (RefundInline,)
    fields = (
        "out_trade_no",
        "order_link",
        "gateway_display",
        "amount_display",
        "status_badge",
        "applied",
        "transaction_id",
        "pay_url",
        # Who and where a trade was opened for (a WeChat openid, the H5 buyer's network):
        # what to quote when the gateway refused it.
        "payer_id",
        "client_ip",
        "created_at",
        "paid_at",
    )
    readonly_fields = fields
    actions_detail = ("query_one",)

    def has_query_permission(self, request, obj=None):
        # Applying a payment marks an order paid: payment staff only.
        return request.user.has_perm("payments.change_payment")

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return _order_link(obj.order)

    amount_display = fen_column(gettext_lazy("金额"), ordering="amount")
    gateway_display = gateway_display

    @label_display(description=gettext_lazy("状态"), ordering="status", label=_labels(PAYMENT_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    def detail_actions_for(self, payment):
        return {"query_one"} if payment.status == PaymentStatus.CREATED else set()

    def _query(self, request, payment) -> None:
        try:
            outcome = query_gateway(payment)
        except DomainError as exc:
            messages.error(
                request, _("%(no)s：%(reason)s") % {"no": payment.out_trade_no, "reason": exc.message}
            )
        else:
            if outcome is None:
                messages.warning(request, _("%(no)s：渠道显示买家尚未支付") % {"no": payment.out_trade_no})
            else:
                label = NotificationOutcome(outcome).label
                messages.success(
                    request,
                    _("%(no)s：渠道显示已支付，%(outcome)s") % {"no": payment.out_trade_no, "outcome": label},
                )

    @action(
        description=gettext_lazy("向渠道查询支付结果"), url_path="query", permissions=["query"], icon="sync"
    )
    def query_one(self, request, object_id):
        payment = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            payment,
            lambda: self._query(request, payment),
            title=_("向渠道查询支付结果：%(no)s") % {"no": payment.out_trade_no},
            submit_label=_("查询并补单"),
            summary=[
                (_("商户支付单号"), payment.out_trade_no),
                (_("订单"), payment.order.number),
                (_("金额"), format_fen(payment.amount)),
                (_("状态"), payment.get_status_display()),
            ],
        )

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return _badge(obj.get_status_display(), PAYMENT_LABELS.get(obj.status))


@admin.register(Refund)
class RefundAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = "退款记录不存在"
    list_display = (
        "out_refund_no",
        "order_link",
        "amount_display",
        "status_label",
        "attempts",
        "failure_reason",
        "next_attempt_at",
        "created_at",
        "completed_at",
    )
    list_filter = ("status", ("created_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("=out_refund_no", "=payment__out_trade_no", "=payment__order__number")
    search_help_text = gettext_lazy("按完整商户退款单号、商户支付单号或订单号搜索")
    list_select_related = ("payment", "payment__order", "after_sale")
    fields = (
        "out_refund_no",
        "order_link",
        "payment",
        "after_sale",
        "amount_display",
        "status_badge",
        "reason_display",
        "attempts",
        "gateway_refund_id",
        "failure_reason",
        "last_error",
        "next_attempt_at",
        "created_at",
        "completed_at",
    )
    readonly_fields = fields
    actions = ("retry_selected",)
    actions_detail = ("retry_one",)

    def has_retry_refund_permission(self, request, obj=None):
        # Refunds are an after-sale matter: the same permission as approving one.
        return request.user.has_perm("orders.change_aftersale")

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return _order_link(obj.payment.order)

    amount_display = fen_column(gettext_lazy("退款金额"), ordering="amount")
    reason_display = refund_reason_display

    @label_display(description=gettext_lazy("状态"), ordering="status", label=_labels(REFUND_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return _badge(obj.get_status_display(), REFUND_LABELS.get(obj.status))

    def _retry(self, request, refunds) -> None:
        report_each(
            request,
            refunds,
            retry_refund,
            name=lambda refund: refund.out_refund_no,
            done=_("已重新发起退款："),
            failed=_("未能重试："),
        )

    @action(description=gettext_lazy("重试所选未完成退款"), permissions=["retry_refund"])
    def retry_selected(self, request, queryset):
        self._retry(request, queryset.filter(status__in=RETRYABLE_REFUND))
        skipped = queryset.exclude(status__in=RETRYABLE_REFUND).count()
        if skipped:
            messages.warning(
                request,
                ngettext(
                    "%(count)s 笔退款已完成，无需重试，已跳过",
                    "%(count)s 笔退款已完成，无需重试，已跳过",
                    skipped,
                )
                % {"count": skipped},
            )

    def detail_actions_for(self, refund):
        return {"retry_one"} if refund.status in RETRYABLE_REFUND else set()

    @action(
        description=gettext_lazy("重试退款"), url_path="retry", permissions=["retry_refund"], icon="replay"
    )
    def retry_one(self, request, object_id):
        refund = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            refund,
            lambda: self._retry(request, [refund]),
            title=_("重试退款：%(no)s") % {"no": refund.out_refund_no},
            submit_label=_("重新发起退款"),
            summary=[
                (_("退款单号"), refund.out_refund_no),
                (_("订单"), refund.payment.order.number),
                (_("金额"), format_fen(refund.amount)),
                (_("状态"), refund.get_status_display()),
                (_("失败原因"), refund.failure_reason or refund.last_error or "-"),
                (
                    _("已尝试"),
                    ngettext("%(count)s 次", "%(count)s 次", refund.attempts) % {"count": refund.attempts},
                ),
            ],
        )


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "gateway_display",
        "out_trade_no",
        "transaction_id",
        "amount_display",
        "outcome_label",
        "detail",
    )
    list_filter = ("outcome", "gateway", ("received_at", LocalDateRangeFilter))
    list_filter_submit = True
    search_fields = ("=out_trade_no", "=transaction_id")
    search_help_text = gettext_lazy("按完整商户支付单号或渠道交易号搜索")
    fields = (
        "received_at",
        "gateway_display",
        "out_trade_no",
        "transaction_id",
        "amount_display",
        "outcome_badge",
        "detail",
        "body",
    )
    readonly_fields = fields

    amount_display = fen_column(gettext_lazy("通知金额"), ordering="amount")
    gateway_display = gateway_display

    @label_display(description=gettext_lazy("处理结果"), ordering="outcome", label=_labels(OUTCOME_LABELS))
    def outcome_label(self, obj):
        return obj.outcome, obj.get_outcome_display()

    @display(description=gettext_lazy("处理结果"))
    def outcome_badge(self, obj):
        return _badge(obj.get_outcome_display(), OUTCOME_LABELS.get(obj.outcome))


@admin.register(RefusedNotificationTally)
class RefusedNotificationTallyAdmin(ReadOnlyAdmin):
    """Refused notifications beyond the first few of each hour are only counted here."""

    list_display = ("hour", "gateway", "outcome", "count", "last_at")
    list_filter = ("outcome", "gateway", ("hour", LocalDateRangeFilter))
    list_filter_submit = True


DELIVERY_LABELS = {
    DeliveryStatus.NONE: "default",
    DeliveryStatus.PENDING: "warning",
    DeliveryStatus.SENDING: "info",
    DeliveryStatus.DELIVERED: "success",
    DeliveryStatus.FAILED: "danger",
}


@admin.register(SandboxTrade)
class SandboxTradeAdmin(DetailActionsMixin, ReadOnlyAdmin):
    missing_message = "交易不存在"
    """The sandbox gateway's side: its trades and the delivery of their notifications."""

    list_display = (
        "out_trade_no",
        "amount_display",
        "status",
        "notify_label",
        "notify_attempts",
        "notify_next_at",
        "notify_last_error",
        "notified_at",
    )
    list_filter = ("status", "notify_status")
    search_fields = ("=out_trade_no", "=trade_no")
    search_help_text = gettext_lazy("按完整商户订单号或渠道交易号搜索")
    fields = (
        "out_trade_no",
        "trade_no",
        "amount_display",
        "status",
        "notify_label",
        "notify_attempts",
        "notify_next_at",
        "notify_last_error",
        "notified_at",
        "paid_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ("redeliver_selected",)
    actions_detail = ("redeliver_one",)

    def has_redeliver_permission(self, request, obj=None):
        # Re-sending a payment notification can mark an order paid: payment staff only.
        return request.user.has_perm("payments.change_payment")

    amount_display = fen_column(gettext_lazy("金额"), ordering="amount")

    @label_display(
        description=gettext_lazy("通知状态"), ordering="notify_status", label=_labels(DELIVERY_LABELS)
    )
    def notify_label(self, obj):
        return obj.notify_status, obj.get_notify_status_display()

    def _redeliver(self, request, trades) -> None:
        report_each(
            request,
            trades,
            retry_notification,
            name=lambda trade: trade.out_trade_no,
            done=_("已重新投递支付通知："),
            failed=_("未能重新投递："),
        )

    @action(description=gettext_lazy("重新投递所选支付通知"), permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        self._redeliver(request, queryset)

    def detail_actions_for(self, trade):
        if trade.status == SandboxTrade.Status.PAID and trade.notify_status in RETRYABLE_DELIVERY:
            return {"redeliver_one"}
        return set()

    @action(
        description=gettext_lazy("重新投递通知"),
        url_path="redeliver",
        permissions=["redeliver"],
        icon="replay",
    )
    def redeliver_one(self, request, object_id):
        trade = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            trade,
            lambda: self._redeliver(request, [trade]),
            title=_("重新投递支付通知：%(no)s") % {"no": trade.out_trade_no},
            submit_label=_("重新投递"),
            summary=[
                (_("商户支付单号"), trade.out_trade_no),
                (_("金额"), format_fen(trade.amount)),
                (_("通知状态"), trade.get_notify_status_display()),
                (_("最近一次错误"), trade.notify_last_error or "-"),
                (
                    _("已投递"),
                    ngettext("%(count)s 次", "%(count)s 次", trade.notify_attempts)
                    % {"count": trade.notify_attempts},
                ),
            ],
        )
