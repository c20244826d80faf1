"""核销提货码 in the backend, under /backend/stores/pickup-verify/: staff with 核销自提订单
(`stores.verify_pickup`) type the code the buyer shows, see the order it opens (the buyer,
phone masked unless they may see phones; the lines to hand over; the pickup store) and
confirm. The order then completes.

Thin: finding and verifying are `services.pickup.find` / `verify`, the calls behind the
store clerk's H5 page and the POS API, so a wrong, used, unpaid or blocked code is refused
with the same message everywhere and a code confirmed twice at once completes its order
once. The order page of a pickup order links here by the URL name `stores_pickup_verify`.
"""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.admin import user_text
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_fen
from fenxiao.customers.backoffice.listing import may_see_phones, phone_text
from fenxiao.orders.models import Fulfilment, Order, OrderStatus

from .models import Store
from .services import pickup

PERMISSION = "stores.verify_pickup"
URL_NAME = "stores_pickup_verify"


def may_verify(user) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(PERMISSION))


def _page_url(**query) -> str:
    query = {k: v for k, v in query.items() if v}
    return reverse(URL_NAME) + (f"?{urlencode(query)}" if query else "")


def _order_url(user, order: Order) -> str:
    if user.has_perm("orders.view_order") or user.has_perm("orders.change_order"):
        return reverse("admin:orders_order_change", args=[order.pk])
    return ""


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


def _order_panel(request, order: Order) -> dict:
    full = may_see_phones(request)
    store = Store.objects.filter(pk=order.pickup_store_id).first()
    lines = pickup.hand_over(order)
    return {
        "order": order,
        "order_url": _order_url(request.user, order),
        "store": store,
        "summary": [
            (_("买家"), user_text(order.buyer, full)),
            (_("提货人"), f"{order.recipient} {phone_text(order.recipient_phone, full)}".strip()),
            (_("自提门店"), f"{store.name} · {store.address_text}" if store else "-"),
            (_("付款时间"), _when(order.paid_at)),
            (_("实付金额"), format_fen(order.paid_amount)),
            (_("买家留言"), order.note or "-"),
        ],
        "lines": [
            {"line": row["line"], "paid": format_fen(row["line"].paid_amount), "hand_over": row["quantity"]}
            for row in lines
        ],
        "pieces": sum(row["quantity"] for row in lines),
        "blocked": pickup.blocked_reason(order),
    }


def _just_verified(request, number: str) -> dict | None:
    """The order verified a moment ago (?done=<number>), to open it from the page."""
    if not number:
        return None
    order = (
        Order.objects.filter(number=number[:32], fulfilment=Fulfilment.PICKUP, status=OrderStatus.COMPLETED)
        .only("pk", "number", "picked_up_at")
        .first()
    )
    if order is None:
        return None
    return {"number": order.number, "at": _when(order.picked_up_at), "url": _order_url(request.user, order)}


def page(request):
    if not may_verify(request.user):
        raise PermissionDenied
    code = "".join((request.POST.get("code") or request.GET.get("code") or "").split())[:32]
    if request.method == "POST":
        try:
            order = pickup.verify(request.user, code)
        except DomainError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(_page_url(code=code))
        # The page then says so, with the way to the order, and is ready for the next code.
        return HttpResponseRedirect(_page_url(done=order.number))
    panel, error = {}, ""
    if code:
        try:
            order = pickup.find(request.user, code)
        except DomainError as refusal:
            error = refusal.message
        else:
            panel = _order_panel(request, order)
    request.current_app = admin.site.name
    context = {
        **admin.site.each_context(request),
        "title": _("核销提货码"),
        "code": code,
        "error": error,
        "done": _just_verified(request, request.GET.get("done", "")),
        "page_url": reverse(URL_NAME),
        **panel,
    }
    return TemplateResponse(request, "admin/stores/pickup_verify.html", context)


urlpatterns = [path("", admin.site.admin_view(page), name=URL_NAME)]
