"""The order page's read-only panels: its lines, log, after-sales and payments."""

from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.decorators import display

from fenxiao.core.admin import ReadOnlyInline, fen_column
from fenxiao.core.money import format_fen
from fenxiao.payments.gateways import gateway_label
from fenxiao.payments.models import Payment

from ..models import AfterSale, OrderEvent, OrderLine
from .common import AFTER_SALE_STATUS_LABELS, buyer_text, full_phones, label, link, with_phone_flag


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = (
        "product_name",
        "spec_text",
        "sku_code",
        "unit_price_display",
        "quantity",
        "subtotal_display",
        "discount_display",
        "paid_display",
        "refunded_display",
        "refunded_quantity",
    )
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "订单商品")

    @display(description=gettext_lazy("单价"))
    def unit_price_display(self, obj):
        return format_fen(obj.unit_price)

    @display(description=gettext_lazy("小计"))
    def subtotal_display(self, obj):
        return format_fen(obj.subtotal)

    @display(description=gettext_lazy("分摊优惠"))
    def discount_display(self, obj):
        return format_fen(obj.discount_share)

    @display(description=gettext_lazy("实付"))
    def paid_display(self, obj):
        return format_fen(obj.paid_amount)

    @display(description=gettext_lazy("已退款"))
    def refunded_display(self, obj):
        return format_fen(obj.refunded_amount)


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = ("created_at", "actor_kind", "actor_display", "text")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "订单日志")

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request).select_related("actor"), request)

    @display(description=gettext_lazy("操作人"))
    def actor_display(self, obj):
        return buyer_text(obj.actor, full_phones(obj)) if obj.actor_id else obj.get_actor_kind_display()

    @display(description=gettext_lazy("说明"))
    def text(self, obj):
        return obj.text  # in the reader's language (the stored message is Chinese)


class AfterSaleInline(ReadOnlyInline):
    model = AfterSale
    fields = ("number_link", "kind", "status_label", "amount_display", "reason_display", "created_at")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "售后")

    @display(description=gettext_lazy("原因"))
    def reason_display(self, obj):
        return obj.reason_text or "-"  # a listed or system reason in the reader's language

    @display(description=gettext_lazy("售后单号"))
    def number_link(self, obj):
        return link(obj, obj.number)

    @display(description=gettext_lazy("状态"))
    def status_label(self, obj):
        return label(obj.get_status_display(), AFTER_SALE_STATUS_LABELS.get(obj.status))

    amount_display = fen_column(gettext_lazy("退款金额"))


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = (
        "out_trade_no",
        "gateway_display",
        "amount_display",
        "status",
        "applied",
        "transaction_id",
        "created_at",
        "paid_at",
    )
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "支付记录")

    amount_display = fen_column(gettext_lazy("金额"))

    @display(description=gettext_lazy("支付渠道"))
    def gateway_display(self, obj):
        return gateway_label(obj.gateway)
