"""My after-sales on the H5: the request form (reason, description, photos), and one
after-sale's page with its status, deadline, return address, ship-back form and history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from fenxiao.core.errors import DomainError
from fenxiao.core.money import yuan_to_fen
from fenxiao.orders.models import (
    DROPPED_AFTER_SALE,
    MAX_EVIDENCE_IMAGES,
    RETURN_REASONS,
    UNSHIPPED_REASONS,
    AfterSale,
    AfterSaleKind,
    AfterSaleLog,
    AfterSaleReason,
    AfterSaleStatus,
    Order,
    OrderSettings,
    OrderStatus,
)
from fenxiao.orders.services import after_sale_checks, after_sales
from fenxiao.shipping.carriers import Carrier

from .common import int_or_none

# What the buyer is waiting for, in the words of the page's banner.
STATUS_HINTS = {
    AfterSaleStatus.REQUESTED: gettext_lazy("等待商家处理"),
    AfterSaleStatus.AWAITING_RETURN: gettext_lazy("商家已同意退货，请寄回商品"),
    AfterSaleStatus.RETURN_SHIPPED: gettext_lazy("商品已寄回，等待商家确认收货"),
    AfterSaleStatus.APPROVED: gettext_lazy("退款处理中，款项将原路退回"),
    AfterSaleStatus.REFUNDED: gettext_lazy("退款成功"),
    AfterSaleStatus.REJECTED: gettext_lazy("商家已拒绝"),
    AfterSaleStatus.WITHDRAWN: gettext_lazy("您已撤销申请"),
    AfterSaleStatus.CLOSED: gettext_lazy("售后已关闭"),
}


def _order(request, number):
    return get_object_or_404(Order.objects.prefetch_related("lines"), number=number, buyer=request.user)


def _after_sale(request, number, after_sale_number):
    return get_object_or_404(
        AfterSale.objects.select_related("order"),
        number=after_sale_number,
        order__number=number,
        order__buyer=request.user,
    )


def _detail_url(number, after_sale_number) -> str:
    return reverse("storefront:after_sale_detail", args=[number, after_sale_number])


def countdown(deadline, now=None) -> str:
    """ "X 天 Y 小时" left until `deadline`, for the banner's 请在…内寄回."""
    left = deadline - (now or timezone.now())
    seconds = max(int(left.total_seconds()), 0)
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return _("%(days)s 天 %(hours)s 小时") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s 小时 %(minutes)s 分钟") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s 分钟") % {"minutes": max(minutes, 1)}


@login_required
def request_page(request, number: str):
    order = _order(request, number)
    refusal = after_sale_checks.buyer_refusal(order)
    if refusal:  # unpaid, closed, or past the after-sale window: no form to fill in for nothing
        messages.error(request, refusal)
        return redirect("storefront:order_detail", number)
    lines = list(order.lines.all())
    # A line another request holds is shown with its progress, not offered again.
    held = after_sale_checks.open_after_sale_lines(order)
    if not after_sale_checks.has_requestable_line(lines, held):
        messages.info(request, _("订单商品均已退款或正在售后中，可在订单页查看售后进度"))
        return redirect("storefront:order_detail", number)
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
            after_sale = after_sales.request_after_sale(
                order,
                request.user,
                kind=request.POST.get("kind", "refund_only"),
                reason_code=request.POST.get("reason_code", ""),
                reason=request.POST.get("reason", ""),
                description=request.POST.get("description", ""),
                lines=chosen,
                images=request.FILES.getlist("images"),
            )
        except ValueError:
            messages.error(request, _("退款金额格式有误"))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("售后申请已提交，请等待商家处理"))
            return redirect(_detail_url(number, after_sale.number))
    # What the buyer typed stays on the page when the request is refused.
    posted = request.POST if request.method == "POST" else None
    # The one line there is to ask about comes ticked: left unticked, a buyer who filled in
    # the reason was refused for not choosing among a single item.
    requestable = [line.pk for line in lines if line.refundable_amount > 0 and line.pk not in held]
    only = requestable[0] if len(requestable) == 1 and posted is None else None
    for line in lines:
        line.open_after_sale = held.get(line.pk, "")
        line.remaining_quantity = line.quantity - line.refunded_quantity
        line.form_ticked = line.pk == only or bool(posted and posted.get(f"line_{line.pk}"))
        line.form_quantity = posted.get(f"qty_{line.pk}", "") if posted else ""
        line.form_amount = posted.get(f"amount_{line.pk}", "") if posted else ""
    # Nothing sent yet: refund only, for a change of mind. Once a parcel has left, its goods
    # may be returned (the service says which lines).
    unshipped = order.status == OrderStatus.PENDING_SHIPMENT and not order.parcels.exists()
    return render(
        request,
        "storefront/orders/after_sale.html",
        {
            "order": order,
            "lines": lines,
            "kind": posted.get("kind", "refund_only") if posted else "refund_only",
            "reason_code": posted.get("reason_code", "") if posted else "",
            "description": (posted.get("description") or posted.get("reason", "")) if posted else "",
            "refund_reasons": UNSHIPPED_REASONS if unshipped else list(AfterSaleReason),
            "return_reasons": [] if unshipped else RETURN_REASONS,
            "unshipped": unshipped,
            "max_images": MAX_EVIDENCE_IMAGES,
        },
        status=400 if posted else 200,
    )


@login_required
def detail(request, number: str, after_sale_number: str):
    after_sale = get_object_or_404(
        AfterSale.objects.select_related("order").prefetch_related(
            "lines__order_line",
            "images",
            Prefetch("logs", queryset=AfterSaleLog.objects.prefetch_related("images")),
        ),
        number=after_sale_number,
        order__number=number,
        order__buyer=request.user,
    )
    rules = OrderSettings.current()
    order = after_sale.order
    # Ended without a refund (rejected, withdrawn, not shipped back in time): the next step is
    # a new request, offered while the order still takes one for a line left to ask for.
    can_reapply = (
        after_sale.status in DROPPED_AFTER_SALE
        and not after_sale_checks.buyer_refusal(order)
        and after_sale_checks.has_requestable_line(
            order.lines.all(), after_sale_checks.open_after_sale_lines(order)
        )
    )
    return render(
        request,
        "storefront/orders/after_sale_detail.html",
        {
            "after_sale": after_sale,
            "order": after_sale.order,
            "hint": STATUS_HINTS.get(after_sale.status, ""),
            "is_return": after_sale.kind == AfterSaleKind.RETURN_REFUND,
            "countdown": countdown(after_sale.deadline) if after_sale.deadline else "",
            "rules": rules,
            "carriers": [c for c in Carrier if c != Carrier.OTHER] + [Carrier.OTHER],
            "form": request.session.pop("ship_back_form", None) or {},
            "max_images": MAX_EVIDENCE_IMAGES,
            "can_reapply": can_reapply,
            # The merchant (or the system, on their deadline) agreed at some point: the
            # history says so, whatever became of the request since.
            "agreed": any(log.kind == "approved" for log in after_sale.logs.all()),
        },
    )


@login_required
@require_POST
def ship_back(request, number: str, after_sale_number: str):
    after_sale = _after_sale(request, number, after_sale_number)
    carrier, tracking = request.POST.get("carrier", ""), request.POST.get("tracking_number", "")
    try:
        after_sales.ship_back(after_sale, request.user, carrier=carrier, tracking_number=tracking)
        messages.success(request, _("退货物流已提交，等待商家确认收货"))
    except DomainError as error:
        messages.error(request, error.message)
        # What the buyer typed comes back with the refusal.
        request.session["ship_back_form"] = {"carrier": carrier[:40], "tracking_number": tracking[:40]}
    return redirect(_detail_url(number, after_sale_number))


@login_required
@require_POST
def message(request, number: str, after_sale_number: str):
    after_sale = _after_sale(request, number, after_sale_number)
    try:
        after_sales.add_message(
            after_sale,
            request.user,
            message=request.POST.get("message", ""),
            images=request.FILES.getlist("images"),
        )
        messages.success(request, _("留言已发送"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_detail_url(number, after_sale_number) + "#history")


@login_required
@require_POST
def withdraw(request, number: str, after_sale_number: str):
    item = _after_sale(request, number, after_sale_number)
    try:
        after_sales.withdraw(item, request.user)
        messages.success(request, _("已撤销售后申请"))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(_detail_url(number, after_sale_number))
