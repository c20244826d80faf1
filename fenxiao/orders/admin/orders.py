"""The order list and the order page (its panels in `order_inlines`, its change pages in
`order_actions`). Orders are never edited as a form."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponseRedirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin import ChangedByServicesOnly, DetailActionsMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen
from fenxiao.payments.models import Refund

from ..models import OPEN_AFTER_SALE, AfterSale, Order, OrderLine, OrderStatus, Parcel
from . import batch_ship, bulk_notes, packing, pickup_orders
from .attribution import render_attribution
from .common import (
    ORDER_STATUS_LABELS,
    buyer_text,
    full_phones,
    label,
    phone_text,
    with_phone_flag,
)
from .discounts import render_discounts
from .exporting import OrderExports
from .order_actions import OrderChangePages
from .order_inlines import AfterSaleInline, OrderEventInline, OrderLineInline, PaymentInline
from .order_list import (
    OrderTabFilter,
    SourceFilter,
    amount_cell,
    distributor_cell,
    number_cell,
    products_cell,
    search,
    tabs_context,
    time_cell,
)
from .shipping import render_parcels

# --- Order ---------------------------------------------------------------------------------


@admin.register(Order)
class OrderAdmin(OrderExports, OrderChangePages, ChangedByServicesOnly, DetailActionsMixin, ModelAdmin):
    missing_message = gettext_lazy("订单不存在")
    list_display = (
        "number_display",
        "products_display",
        "buyer_display",
        "amount_display",
        "status_label",
        "distributor_display",
        "created_display",
    )
    # The state tabs above the list are a filter too (order_list.OrderTabFilter).
    # 待成团: paid group-buy orders that must not ship yet; the to-do panel links here with it.
    list_filter = (
        OrderTabFilter,
        "fulfilment",
        pickup_orders.PickupStoreFilter,
        SourceFilter,
        "awaiting_group",
        ("created_at", LocalDateRangeFilter),
        ("paid_at", LocalDateRangeFilter),
    )
    list_filter_submit = True
    list_before_template = "admin/orders/order_tabs.html"
    # The search itself is order_list.search (one box over every field below).
    search_fields = ("=number", "lines__product_name", "buyer__phone", "recipient_phone", "tracking_number")
    search_help_text = gettext_lazy(
        "订单号、商品名称、买家手机号、收货人/手机号、运单号、分销商姓名/手机号/推广码、商家备注"
    )
    list_select_related = ("buyer", "attribution__level1__user")
    show_full_result_count = False
    list_per_page = 50
    inlines = (OrderLineInline, AfterSaleInline, PaymentInline, OrderEventInline)
    fieldsets = (
        (
            gettext_lazy("订单"),
            {
                "fields": (
                    "number",
                    "status_badge",
                    "buyer_display",
                    "note",
                    "merchant_note_display",
                    "created_at",
                    "pay_deadline",
                    "paid_at",
                    "shipped_at",
                    "auto_complete_at",
                    "completed_at",
                    "cancelled_at",
                    "cancel_reason_display",
                )
            },
        ),
        (
            gettext_lazy("金额"),
            {
                "fields": (
                    "goods_display",
                    "discount_display",
                    "discounts_table",
                    "shipping_display",
                    "total_display",
                    "paid_display",
                    "refunded_display",
                )
            },
        ),
        (
            gettext_lazy("收货与物流"),
            {
                "fields": (
                    "fulfilment_display",
                    "recipient",
                    "recipient_phone_display",
                    "address_display",
                    "parcels_panel",
                )
            },
        ),
        (gettext_lazy("退款记录"), {"fields": ("refunds_table",)}),
        (gettext_lazy("分销归属"), {"fields": ("attribution_panel",)}),
    )
    # Every field shown is read only.
    readonly_fields = tuple(name for _, section in fieldsets for name in section["fields"])
    # The order's next step stays a button: 改价 while it awaits payment, 发货 or 核销 once
    # paid (a state offers at most one of the three, see ACTIONS_BY_STATUS), and 处理售后
    # while an after-sale is open. Everything else is under 更多操作: eight buttons in a row
    # squeezed the breadcrumb to "订… › 订…" at 1280 px. One dropdown only: unfold anchors
    # each dropdown by a name it leaves empty.
    actions_detail = (
        "verify_pickup",
        "ship_order",
        "adjust_price",
        "handle_after_sale",
        {
            "title": gettext_lazy("更多操作"),
            "icon": "more_horiz",
            "items": [
                "print_packing_slip",
                "change_address",
                "edit_merchant_note",
                "staff_refund",
                "cancel_order",
            ],
        },
    )
    actions_list = ("batch_ship",)
    actions = ("print_packing_list", "note_selected")

    # Orders change only through the actions above, never by saving a form.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # Permissions of the detail actions (unfold calls has_<name>_permission).
    def has_change_order_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_order")

    def has_change_aftersale_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_aftersale")

    def has_verify_pickup_permission(self, request, obj=None):
        # 核销自提订单, a permission of the stores app (named, never imported).
        return request.user.has_perm("stores.verify_pickup")

    # --- the list ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "batch-ship/template/<str:fmt>/",
                view(self.batch_ship_template),
                name="orders_order_batch_ship_template",
            ),
            path("packing-list/", view(self.packing_list_view), name="orders_order_packing_list"),
        ] + super().get_urls()

    @action(
        description=gettext_lazy("批量发货"),
        url_path="batch-ship",
        permissions=["change_order"],
        icon="upload_file",
    )
    def batch_ship(self, request):
        return batch_ship.page(self, request)

    def batch_ship_template(self, request, fmt):
        if not self.has_change_order_permission(request):
            raise PermissionDenied
        return batch_ship.template_file(request, fmt)

    @action(description=gettext_lazy("打印发货单/拣货单"), permissions=["change_order"])
    def print_packing_list(self, request, queryset):
        queryset = pickup_orders.without_pickups(request, queryset)
        return None if queryset is None else packing.redirect_for(self, request, queryset)

    @action(description=gettext_lazy("批量备注"), permissions=["change_order"])
    def note_selected(self, request, queryset):
        return bulk_notes.page(self, request, queryset)

    @action(
        description=gettext_lazy("打印发货单"), url_path="packing", permissions=["change_order"], icon="print"
    )
    def print_packing_slip(self, request, object_id):
        order = self.object_or_404(request, object_id)
        if order.is_pickup:
            return pickup_orders.refuse(request, order, "print_packing_slip")
        return HttpResponseRedirect(packing.url(self, [order.pk]))

    def packing_list_view(self, request):
        if not self.has_change_order_permission(request):
            raise PermissionDenied
        skipped = pickup_orders.pickups_among(
            request, packing._ids(request), lambda ids: packing.url(self, ids)
        )
        return skipped or packing.page(self, request)

    def get_queryset(self, request):
        queryset = with_phone_flag(super().get_queryset(request), request)
        if request.resolver_match and request.resolver_match.url_name == "orders_order_changelist":
            line_fields = ("id", "order_id", "product_name", "spec_text", "image_url", "quantity")
            queryset = queryset.prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.only(*line_fields).order_by("id"))
            ).annotate(partly_shipped=Exists(Parcel.objects.filter(order=OuterRef("pk"))))
        return queryset

    def get_search_results(self, request, queryset, search_term):
        return search(queryset, search_term, request), False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["order_tabs"] = tabs_context(changelist, request)
        return response

    @display(description=gettext_lazy("商品"))
    def products_display(self, obj):
        return products_cell(obj)

    @display(description=gettext_lazy("订单金额"), ordering="total")
    def amount_display(self, obj):
        return amount_cell(obj)

    @display(description=gettext_lazy("分销商"))
    def distributor_display(self, obj):
        return distributor_cell(obj, full_phones(obj))

    @display(description=gettext_lazy("订单号"), ordering="number")
    def number_display(self, obj):
        return number_cell(obj)

    @display(description=gettext_lazy("商家备注"))
    def merchant_note_display(self, obj):
        return obj.merchant_note or "-"

    @display(description=gettext_lazy("取消原因"))
    def cancel_reason_display(self, obj):
        return obj.cancel_reason_text or "-"

    @display(description=gettext_lazy("下单时间"), ordering="created_at")
    def created_display(self, obj):
        return time_cell(obj)

    # --- columns ---

    @display(description=gettext_lazy("买家"), ordering="buyer__phone")
    def buyer_display(self, obj):
        return buyer_text(obj.buyer, full_phones(obj))

    @display(description=gettext_lazy("联系电话"))
    def recipient_phone_display(self, obj):
        return phone_text(obj.recipient_phone, full_phones(obj))

    @display(
        description=gettext_lazy("状态"),
        ordering="status",
        label={str(k): v for k, v in ORDER_STATUS_LABELS.items()},
    )
    def status_label(self, obj):
        if obj.status == OrderStatus.PENDING_SHIPMENT and getattr(obj, "partly_shipped", False):
            return obj.status, _("部分发货")
        return obj.status, obj.status_label  # a paid pickup order reads 待自提

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return label(obj.status_label, ORDER_STATUS_LABELS.get(obj.status))

    @display(description=gettext_lazy("配送方式"))
    def fulfilment_display(self, obj):
        if not obj.is_pickup:
            return obj.get_fulfilment_display()
        parts = [
            obj.get_fulfilment_display(),
            _("提货码 %(pickup_code)s") % {"pickup_code": obj.pickup_code}
            if obj.paid_at
            else _("付款后生成提货码"),
        ]
        if obj.picked_up_at:
            parts.append(
                _("%(time)s 已提货")
                % {"time": format(timezone.localtime(obj.picked_up_at), "%Y-%m-%d %H:%M")}
            )
        return " · ".join(parts)

    @display(description=gettext_lazy("应付金额"), ordering="total")
    def total_display(self, obj):
        return format_fen(obj.total)

    @display(description=gettext_lazy("商品金额"))
    def goods_display(self, obj):
        return format_fen(obj.goods_amount)

    @display(description=gettext_lazy("优惠/改价"))
    def discount_display(self, obj):
        return format_fen(obj.discount_amount)

    @display(description=gettext_lazy("优惠明细"))
    def discounts_table(self, obj):
        if "_admin_discounts" not in obj.__dict__:  # unfold resolves read-only fields repeatedly
            obj._admin_discounts = render_discounts(obj)
        return obj._admin_discounts

    @display(description=gettext_lazy("运费"))
    def shipping_display(self, obj):
        return format_fen(obj.shipping_fee)

    @display(description=gettext_lazy("实付金额"))
    def paid_display(self, obj):
        return format_fen(obj.paid_amount)

    @display(description=gettext_lazy("已退款"))
    def refunded_display(self, obj):
        return format_fen(obj.refunded_amount)

    @display(description=gettext_lazy("收货地址"))
    def address_display(self, obj):
        return obj.address_text

    @display(description=gettext_lazy("退款"))
    def refunds_table(self, obj):
        # unfold resolves a read-only field several times per page; read the rows once.
        if "_admin_refunds" not in obj.__dict__:
            obj._admin_refunds = list(
                Refund.objects.filter(payment__order=obj).select_related("after_sale").order_by("id")
            )
        refunds = obj._admin_refunds
        if not refunds:
            return _("暂无退款")
        return format_html_join(
            "",
            "<div>{} · {} · {} · {}{}</div>",
            (
                (
                    r.out_refund_no,
                    format_fen(r.amount),
                    r.get_status_display(),
                    r.after_sale.number if r.after_sale else _("订单关闭退回"),
                    _("（%(failure_reason)s）") % {"failure_reason": r.failure_reason}
                    if r.failure_reason
                    else "",
                )
                for r in refunds
            ),
        )

    @display(description=gettext_lazy("分销归属与佣金"))
    def attribution_panel(self, obj):
        """The chain snapshotted at checkout, the rule behind each commission, and why a level
        (or the whole order) earned nothing."""
        if "_admin_attribution" not in obj.__dict__:  # unfold resolves read-only fields repeatedly
            obj._admin_attribution = render_attribution(obj)
        return obj._admin_attribution

    @display(description=gettext_lazy("包裹与物流"))
    def parcels_panel(self, obj):
        if "_admin_parcels" not in obj.__dict__:  # unfold resolves read-only fields repeatedly
            obj._admin_parcels = render_parcels(obj)
        return obj._admin_parcels

    # --- detail actions ---

    # Which actions make sense in which state; the services refuse anything else anyway.
    # 备注 is open in every state.
    ACTIONS_BY_STATUS = {
        OrderStatus.PENDING_PAYMENT: {"adjust_price", "change_address", "cancel_order", "edit_merchant_note"},
        OrderStatus.PENDING_SHIPMENT: {
            "ship_order",
            "change_address",
            "staff_refund",
            "cancel_order",
            "print_packing_slip",
            "edit_merchant_note",
        },
        OrderStatus.SHIPPED: {"staff_refund", "print_packing_slip", "edit_merchant_note"},
        OrderStatus.COMPLETED: {"staff_refund", "edit_merchant_note"},
        OrderStatus.CANCELLED: {"edit_merchant_note"},
    }

    def detail_actions_for(self, order):
        allowed = self.ACTIONS_BY_STATUS.get(order.status, set())
        if order.awaiting_group:
            # 待成团: nothing ships before the group is complete (shipping refuses it too).
            allowed = allowed - {"ship_order", "print_packing_slip"}
        if AfterSale.objects.filter(order=order, status__in=OPEN_AFTER_SALE).exists():
            allowed = allowed | {"handle_after_sale"}  # 售后中
        # A pickup order is handed over at the store against its code (核销), never shipped.
        return pickup_orders.actions_for(order, allowed)
