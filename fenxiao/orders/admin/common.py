"""Pieces shared by the order and after-sale backend pages: status badges, links, buyer text
and the small confirmation forms.

Phones (buyer, recipient, distributor) are masked (138****1234) unless the staff member may
see them (`customers.view_customer_phone`: 运营 may, 财务 may not), as on the 客户 pages. The
admin object serves every request, so whether this one may see them travels with the rows:
`with_phone_flag` annotates it in `get_queryset`, `full_phones` reads it back.
"""

from django import forms
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.admin import change_url as change_url
from fenxiao.core.admin import user_text as buyer_text
from fenxiao.core.money import format_fen
from fenxiao.customers.backoffice.listing import full_phones as full_phones
from fenxiao.customers.backoffice.listing import phone_text as phone_text
from fenxiao.customers.backoffice.listing import shown_user as shown_user
from fenxiao.customers.backoffice.listing import with_phone_flag as with_phone_flag

from ..models import AfterSaleStatus, Order, OrderStatus

ORDER_STATUS_LABELS = {
    OrderStatus.PENDING_PAYMENT: "warning",
    OrderStatus.PENDING_SHIPMENT: "info",
    OrderStatus.SHIPPED: "primary",
    OrderStatus.COMPLETED: "success",
    OrderStatus.CANCELLED: "danger",
}
AFTER_SALE_STATUS_LABELS = {
    AfterSaleStatus.REQUESTED: "warning",
    AfterSaleStatus.AWAITING_RETURN: "info",
    AfterSaleStatus.RETURN_SHIPPED: "primary",
    AfterSaleStatus.APPROVED: "info",
    AfterSaleStatus.REFUNDED: "success",
    AfterSaleStatus.REJECTED: "danger",
    AfterSaleStatus.WITHDRAWN: "default",
    AfterSaleStatus.CLOSED: "default",
}
REFUND_STATUS_LABELS = {"pending": "warning", "succeeded": "success", "failed": "danger"}


def link(obj, text=None):
    return format_html(
        '<a class="text-primary-600 dark:text-primary-500" href="{}">{}</a>',
        change_url(obj),
        text or str(obj),
    )


def label(text, kind):
    return render_to_string("unfold/helpers/label.html", {"text": text, "type": kind})


def order_summary(order: Order) -> list[tuple[str, str]]:
    full = full_phones(order)
    rows = [
        (_("订单号"), order.number),
        (_("状态"), order.get_status_display()),
        (_("买家"), buyer_text(order.buyer, full)),
        (_("商品金额"), format_fen(order.goods_amount)),
        (_("优惠/改价"), format_fen(order.discount_amount)),
        (_("运费"), format_fen(order.shipping_fee)),
        (_("应付金额"), format_fen(order.total)),
    ]
    if order.paid_amount:
        rows += [
            (_("实付金额"), format_fen(order.paid_amount)),
            (_("已退款"), format_fen(order.refunded_amount)),
        ]
    phone = phone_text(order.recipient_phone, full)
    rows.append((_("收货信息"), f"{order.recipient} {phone} {order.address_text}"))
    return rows


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("原因"), max_length=200, widget=forms.Textarea)
