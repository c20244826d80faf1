"""My orders: list by state, detail with tracking, cancel, confirm receipt, after-sale."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.core.money import yuan_to_fen
from fenxiao.orders.models import AfterSale, Order, OrderStatus
from fenxiao.orders.services import after_sales, lifecycle, shipments

from .common import int_or_none

TABS = [
    ("", "全部"),
    ("pending_payment", "待付款"),
    ("pending_shipment", "待发货"),
    ("shipped", "待收货"),
    ("completed", "已完成"),
    ("cancelled", "已取消"),
]


def _order(request, number):
    return get_object_or_404(Order.objects.prefetch_related("lines"), number=number, buyer=request.user)


@login_required
def order_list(request):
    status = request.GET.get("status", "")
    qs = Order.objects.filter(buyer=request.user).prefetch_related("lines").order_by("-id")
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "storefront/orders/list.html",
        {"orders": qs[:50], "status": status, "tabs": TABS, "tab": "me"},
    )


@login_required
def order_detail(request, number: str):
    order = get_object_or_404(
        Order.objects.prefetch_related("lines", shipments.parcels_prefetch()),
        number=number,
        buyer=request.user,
    )
    parcels = list(order.parcels.all())
    return render(
        request,
        "storefront/orders/detail.html",
        {
            "order": order,
            "parcels": parcels,
            "partly_shipped": order.status == OrderStatus.PENDING_SHIPMENT and bool(parcels),
            "events": order.events.all(),
            "after_sales": AfterSale.objects.filter(order=order).prefetch_related("lines"),
            "can_after_sale": order.status in after_sales.PAID_STATES and order.refundable_amount > 0,
        },
    )


@login_required
@require_POST
def cancel(request, number: str):
    order = _order(request, number)
    try:
        lifecycle.cancel(order, request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "订单已取消" if order.paid_at is None else "订单已取消，款项将原路退回")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("storefront:order_detail", args=[number]))


@login_required
@require_POST
def confirm(request, number: str):
    try:
        lifecycle.complete(_order(request, number), actor=request.user)
        messages.success(request, "已确认收货")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("storefront:order_detail", args=[number]))


@login_required
def after_sale(request, number: str):
    order = _order(request, number)
    lines = list(order.lines.all())
    if request.method == "POST":
        chosen = []
        try:
            for line in lines:
                if not request.POST.get(f"line_{line.pk}"):
                    continue
                quantity = int_or_none(request.POST.get(f"qty_{line.pk}"))
                raw_amount = (request.POST.get(f"amount_{line.pk}") or "").strip()
                amount = yuan_to_fen(raw_amount) if raw_amount else None
                chosen.append({"line_id": line.pk, "quantity": quantity, "amount": amount})
            after_sales.request_after_sale(
                order,
                request.user,
                kind=request.POST.get("kind", "refund_only"),
                reason=request.POST.get("reason", ""),
                lines=chosen,
            )
        except ValueError:
            messages.error(request, "退款金额格式有误")
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "售后申请已提交，请等待商家处理")
            return redirect(reverse("storefront:order_detail", args=[number]))
    # What the buyer typed stays on the page when the request is refused.
    posted = request.POST if request.method == "POST" else None
    for line in lines:
        line.remaining_quantity = line.quantity - line.refunded_quantity
        line.form_ticked = bool(posted and posted.get(f"line_{line.pk}"))
        line.form_quantity = posted.get(f"qty_{line.pk}", "") if posted else ""
        line.form_amount = posted.get(f"amount_{line.pk}", "") if posted else ""
    return render(
        request,
        "storefront/orders/after_sale.html",
        {
            "order": order,
            "lines": lines,
            "kind": posted.get("kind", "refund_only") if posted else "refund_only",
            "reason": posted.get("reason", "") if posted else "",
        },
        status=400 if posted else 200,
    )


@login_required
@require_POST
def withdraw_after_sale(request, number: str, after_sale_number: str):
    item = get_object_or_404(
        AfterSale, number=after_sale_number, order__number=number, order__buyer=request.user
    )
    try:
        after_sales.withdraw(item, request.user)
        messages.success(request, "已撤销售后申请")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("storefront:order_detail", args=[number]))
