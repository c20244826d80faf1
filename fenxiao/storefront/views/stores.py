"""到店自提 on the H5 side: the buyer's pickup card (code, QR, store) on the order page, and
the store staff's verification page (核销) at /store/verify/."""

import base64
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from fenxiao.core.errors import DomainError
from fenxiao.distribution.services.sharing import qr_png
from fenxiao.orders.models import Order, OrderStatus
from fenxiao.stores.models import Store
from fenxiao.stores.services import pickup


def pickup_card(request, order: Order) -> dict:
    """What the buyer's order page shows of a pickup order: the store (one query) and,
    once paid and until picked up, the code big with a QR that opens the verify page."""
    if not order.is_pickup:
        return {}
    store = Store.objects.filter(pk=order.pickup_store_id).first()
    card = {"pickup_store": store}
    if order.status == OrderStatus.PENDING_SHIPMENT and order.pickup_code:
        url = request.build_absolute_uri(f"{reverse('storefront:store_verify')}?code={order.pickup_code}")
        card["pickup_qr"] = "data:image/png;base64," + base64.b64encode(qr_png(url, box_size=6)).decode()
    return card


@login_required
def verify(request):
    """Enter (or scan) a code → the order's lines → 确认核销 → the order completes."""
    if not pickup.can_verify(request.user):
        return render(request, "storefront/stores/verify.html", {"forbidden": True}, status=403)
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            order = pickup.verify(request.user, code)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(f"{reverse('storefront:store_verify')}?{urlencode({'code': code})}")
        messages.success(request, _("核销成功：订单 %(number)s 已完成提货") % {"number": order.number})
        return redirect(f"{reverse('storefront:store_verify')}?done={order.number}")
    order, error, store = None, "", None
    if code:
        try:
            order = pickup.find(request.user, code)
            store = Store.objects.filter(pk=order.pickup_store_id).first()
        except DomainError as refusal:
            error = refusal.message
    return render(
        request,
        "storefront/stores/verify.html",
        {
            "code": code,
            "order": order,
            "lines": list(order.lines.all()) if order else [],
            "store": store,
            "error": error,
            "done": request.GET.get("done", "")[:32],
        },
    )
