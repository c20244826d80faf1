"""My orders: list by state, detail with tracking, cancel, confirm receipt (after-sales:
views/after_sales.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.distribution.paging import page_before
from fenxiao.orders.models import AfterSale, Fulfilment, Order, OrderStatus
from fenxiao.orders.services import after_sale_checks, cart, lifecycle, reviews, shipments
from fenxiao.orders.services.events import buyer_events

from .common import int_or_none
from .stores import pickup_card

PAGE_SIZE = 20
# Paid pickup orders wait at the store, not for a parcel: a tab of their own.
PICKUP_TAB = "pickup"
TABS = [
    ("", gettext_lazy("全部")),
    ("pending_payment", gettext_lazy("待付款")),
    ("pending_shipment", gettext_lazy("待发货")),
    (PICKUP_TAB, gettext_lazy("待自提")),
    ("shipped", gettext_lazy("待收货")),
    ("completed", gettext_lazy("已完成")),
    ("cancelled", gettext_lazy("已取消")),
]


def _order(request, number):
    return get_object_or_404(Order.objects.prefetch_related("lines"), number=number, buyer=request.user)


@login_required
def order_list(request):
    status = request.GET.get("status", "")
    if status != PICKUP_TAB and status not in OrderStatus.values:
        status = ""  # an address with a tab that does not exist opens 全部, with its tab chosen
    qs = Order.objects.filter(buyer=request.user).prefetch_related("lines").order_by("-id")
    if status == PICKUP_TAB:
        qs = qs.filter(status=OrderStatus.PENDING_SHIPMENT, fulfilment=Fulfilment.PICKUP)
    elif status == OrderStatus.PENDING_SHIPMENT:
        qs = qs.filter(status=status).exclude(fulfilment=Fulfilment.PICKUP)
    elif status in OrderStatus.values:
        qs = qs.filter(status=status)
    # Paged by key, as the distributor's lists: it showed the newest 50 and no way to the
    # rest, so a buyer's older orders (and their after-sales) were out of reach.
    before = int_or_none(request.GET.get("before"))
    orders, cursor = page_before(qs, before if before and before > 0 else None, PAGE_SIZE)
    reviews.mark_review_states(orders)  # 评价 / 已评价 on completed orders
    return render(
        request,
        "storefront/orders/list.html",
        {
            "orders": orders,
            "next": cursor,
            "older": before is not None,
            "status": status,
            "tabs": TABS,
            "tab": "me",
        },
    )


@login_required
def order_detail(request, number: str):
    order = get_object_or_404(
        # Each line with its discounts: its 限时折扣 or 拼团 badge, as on 确认订单.
        Order.objects.prefetch_related("lines__discounts", shipments.parcels_prefetch()),
        number=number,
        buyer=request.user,
    )
    parcels = list(order.parcels.all())
    reviews.mark_review_states([order])
    after_sales = list(AfterSale.objects.filter(order=order).prefetch_related("lines"))
    held = {item.order_line_id for sale in after_sales if sale.is_open for item in sale.lines.all()}
    # A completed order past its after-sale window says so instead of offering 申请售后.
    refusal = after_sale_checks.buyer_refusal(order) if order.status in after_sale_checks.PAID_STATES else ""
    return render(
        request,
        "storefront/orders/detail.html",
        {
            "order": order,
            "parcels": parcels,
            "partly_shipped": order.status == OrderStatus.PENDING_SHIPMENT and bool(parcels),
            "events": buyer_events(order),
            "after_sales": after_sales,
            # Something left to ask for: a line with money to refund that no open request holds.
            "can_after_sale": order.status in after_sale_checks.PAID_STATES
            and after_sale_checks.has_requestable_line(order.lines.all(), held)
            and not refusal,
            "after_sale_refusal": refusal,
            **pickup_card(request, order),
        },
    )


@login_required
@require_POST
def cancel(request, number: str):
    order = _order(request, number)
    try:
        lifecycle.cancel(order, request.user, reason=request.POST.get("reason", ""))
        messages.success(
            request, _("订单已取消") if order.paid_at is None else _("订单已取消，款项将原路退回")
        )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("storefront:order_detail", args=[number]))


@login_required
@require_POST
def confirm(request, number: str):
    try:
        lifecycle.complete(_order(request, number), actor=request.user)
        messages.success(request, _("已确认收货"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(reverse("storefront:order_detail", args=[number]))


@login_required
@require_POST
def buy_again(request, number: str):
    """再来一单: the order's goods into the cart again, and on to the cart (or, when none can
    be bought any more, back to the order saying why)."""
    result = cart.buy_again(request.user, _order(request, number))
    why = _("、").join(_("%(name)s（%(reason)s）") % {"name": n, "reason": r} for n, r in result.skipped)
    if not result.added:
        messages.error(request, _("订单中的商品已无法购买：%(items)s") % {"items": why})
        return redirect(reverse("storefront:order_detail", args=[number]))
    messages.success(request, _("已加入购物车 %(count)s 件") % {"count": result.added})
    if result.skipped:
        messages.warning(request, _("以下商品未能加入：%(items)s") % {"items": why})
    return redirect("/cart/")
