"""The order page's change pages (售后, 核销, ship, 商家备注, price adjustment, address, refund,
cancellation): one page each, calling one service and showing its refusal, if any."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action
from unfold.enums import ActionVariant

from fenxiao.core.admin_forms import form_action, posted
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen

from ..models import OPEN_AFTER_SALE, AfterSale, OrderStatus
from ..services import after_sale_checks, after_sales, lifecycle, merchant_notes, shipments
from . import pickup_orders
from .common import order_summary
from .order_forms import AddressForm, AdjustPriceForm, CancelForm, MerchantNoteForm, StaffRefundForm
from .shipping import ShipForm


class OrderChangePages:
    """For OrderAdmin (its `actions_detail` and `ACTIONS_BY_STATUS` name these)."""

    @action(
        description=gettext_lazy("核销提货码"),
        url_path="verify-pickup",
        permissions=["verify_pickup"],
        icon="qr_code_scanner",
    )
    def verify_pickup(self, request, object_id):
        """To the backend 核销 page (the stores app's, by URL name: orders never import
        stores) with this order's code filled in."""
        return pickup_orders.verify_redirect(request, self.object_or_404(request, object_id))

    @action(
        description=gettext_lazy("处理售后"),
        url_path="after-sale",
        permissions=["change_aftersale"],
        icon="assignment_return",
    )
    def handle_after_sale(self, request, object_id):
        """To the order's open after-sale (售后中): its page has 同意/拒绝 and 确认收货. With
        more than one open, to the after-sale list of this order."""
        order = self.object_or_404(request, object_id)
        open_ids = list(
            AfterSale.objects.filter(order=order, status__in=OPEN_AFTER_SALE).values_list("pk", flat=True)[:2]
        )
        if not open_ids:
            messages.info(request, _("订单 %(number)s 没有进行中的售后") % {"number": order.number})
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        if len(open_ids) == 1:
            return HttpResponseRedirect(reverse("admin:orders_aftersale_change", args=[open_ids[0]]))
        query = urlencode({"order__id__exact": order.pk, "status__in": ",".join(OPEN_AFTER_SALE)})
        return HttpResponseRedirect(f"{reverse('admin:orders_aftersale_changelist')}?{query}")

    @action(
        description=gettext_lazy("发货"), url_path="ship", permissions=["change_order"], icon="local_shipping"
    )
    def ship_order(self, request, object_id):
        """Whole order or part of it (拆单发货): each submit is one parcel."""
        order = self.object_or_404(request, object_id)
        if order.is_pickup:
            return pickup_orders.refuse(request, order, "ship_order")
        form = ShipForm(posted(request), order=order)

        def shipped(parcel):
            if parcel.order.status == OrderStatus.SHIPPED:
                return _("订单 %(number)s 已发货") % {"number": order.number}
            return _("订单 %(number)s 已部分发货（包裹 %(tracking_number)s），其余商品待发货") % {
                "number": order.number,
                "tracking_number": parcel.tracking_number,
            }

        return form_action(
            self,
            request,
            order,
            form,
            lambda data: shipments.ship_parcel(
                order,
                request.user,
                carrier=data["carrier"],
                tracking_number=data["tracking_number"],
                lines=data["lines"],
            ),
            success=shipped,
            title=_("发货：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("确认发货"),
            table={
                "headers": [_("商品"), _("购买数量"), _("已发货"), _("待发货"), _("本次发货")],
                "rows": list(form.line_rows()),
            },
            plain_fields=form.plain_fields,
        )

    @action(description=gettext_lazy("备注"), url_path="note", permissions=["change_order"], icon="edit_note")
    def edit_merchant_note(self, request, object_id):
        order = self.object_or_404(request, object_id)
        form = MerchantNoteForm(posted(request), initial={"note": order.merchant_note})
        return form_action(
            self,
            request,
            order,
            form,
            lambda data: merchant_notes.set_merchant_note(order, request.user, data["note"]),
            success=_("订单 %(number)s 的商家备注已保存") % {"number": order.number},
            title=_("商家备注：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("保存备注"),
        )

    @action(
        description=gettext_lazy("改价"), url_path="adjust", permissions=["change_order"], icon="price_change"
    )
    def adjust_price(self, request, object_id):
        order = self.object_or_404(request, object_id)
        form = AdjustPriceForm(
            posted(request),
            initial={"discount_amount": order.discount_amount, "shipping_fee": order.shipping_fee},
        )

        def adjusted(_result):
            order.refresh_from_db()
            return _("订单 %(number)s 已改价，应付 %(total)s") % {
                "number": order.number,
                "total": format_fen(order.total),
            }

        return form_action(
            self,
            request,
            order,
            form,
            lambda data: lifecycle.adjust_price(
                order,
                request.user,
                discount_amount=data["discount_amount"],
                shipping_fee=data["shipping_fee"],
                reason=data["reason"],
            ),
            success=adjusted,
            title=_("改价：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("确认改价"),
        )

    @action(
        description=gettext_lazy("修改地址"),
        url_path="address",
        permissions=["change_order"],
        icon="edit_location",
    )
    def change_address(self, request, object_id):
        order = self.object_or_404(request, object_id)
        if order.is_pickup:
            return pickup_orders.refuse(request, order, "change_address")
        form = AddressForm(
            posted(request),
            initial={
                "recipient": order.recipient,
                "phone": order.recipient_phone,
                "province": order.province,
                "city": order.city,
                "district": order.district,
                "detail": order.address_detail,
            },
        )
        return form_action(
            self,
            request,
            order,
            form,
            lambda data: lifecycle.change_address(order, request.user, dict(data)),
            success=_("订单 %(number)s 收货地址已修改") % {"number": order.number},
            title=_("修改收货地址：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("保存地址"),
        )

    @action(
        description=gettext_lazy("退款"),
        url_path="refund",
        permissions=["change_aftersale"],
        icon="currency_exchange",
        variant=ActionVariant.DANGER,  # red under 更多操作: money leaves the shop
    )
    def staff_refund(self, request, object_id):
        order = self.object_or_404(request, object_id)
        held = after_sale_checks.open_after_sale_lines(order)
        form = StaffRefundForm(posted(request), lines=list(order.lines.all()), held=held)
        return form_action(
            self,
            request,
            order,
            form,
            lambda data: after_sales.request_after_sale(
                order,
                request.user,
                kind=data["kind"],
                reason=data["reason"],
                lines=data["lines"],
                restock=data["restock_flag"],
                shipping_amount=data.get("shipping") or 0,
            ),
            success=lambda after_sale: (
                _("已发起退货 %(number)s，买家寄回商品并确认收货后退款") % {"number": after_sale.number}
                if after_sale.status == "awaiting_return"
                else _("已发起退款 %(number)s：%(amount)s，原路退回")
                % {"number": after_sale.number, "amount": format_fen(after_sale.amount)}
            ),
            title=_("退款：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("确认退款"),
            danger=True,
            table={
                "headers": [
                    _("选择"),
                    _("商品"),
                    _("数量"),
                    _("实付"),
                    _("可退金额"),
                    _("退货数量"),
                    _("退款金额（元）"),
                ],
                "rows": list(form.line_rows()),
            },
            plain_fields=form.plain_fields,
        )

    @action(
        description=gettext_lazy("取消订单"),
        url_path="cancel",
        permissions=["change_order"],
        icon="cancel",
        variant=ActionVariant.DANGER,
    )
    def cancel_order(self, request, object_id):
        order = self.object_or_404(request, object_id)

        def cancel(data):
            if order.status != OrderStatus.PENDING_PAYMENT and not request.user.has_perm(
                "orders.change_aftersale"
            ):
                raise DomainError(_("取消已付款的订单会全额退款，需要售后处理权限"))
            return lifecycle.cancel(
                order, request.user, reason=data["reason"] or lifecycle.STAFF_CANCEL_REASON
            )

        return form_action(
            self,
            request,
            order,
            CancelForm(posted(request)),
            cancel,
            success=_("订单 %(number)s 已取消") % {"number": order.number},
            title=_("取消订单：%(number)s") % {"number": order.number},
            summary=order_summary(order),
            submit_label=_("确认取消订单"),
            danger=True,
        )
