"""Stores on the H5 side for buyers and clerks: 我的门店 (/me/store/, the store a buyer counts
for), the buyer's pickup card (code, QR, store) on the order page, and the store staff's
verification page (核销) at /store/verify/."""

import base64
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from fenxiao.core.errors import DomainError
from fenxiao.customers.phones import mask_phone
from fenxiao.distribution.services.sharing import qr_png
from fenxiao.orders.models import Order, OrderStatus
from fenxiao.stores.models import Store
from fenxiao.stores.services import my_store as my_store_service
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
def my_store(request):
    """我的门店: the store the buyer joined (address, hours, phone, open or not, 到店自提, their
    导购 by name); a buyer with none is told so and sent shopping. One query for the store."""
    return render(request, "storefront/stores/mine.html", {"mine": my_store_service.for_buyer(request.user)})


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
        # The page then says so (?done=), and is ready for the next code.
        return redirect(f"{reverse('storefront:store_verify')}?done={order.number}")
    order, error, store, lines, blocked = None, "", None, [], ""
    if code:
        try:
            order = pickup.find(request.user, code)
        except DomainError as refusal:
            error = refusal.message
        else:
            store = Store.objects.filter(pk=order.pickup_store_id).first()
            lines = pickup.hand_over(order)
            blocked = pickup.blocked_reason(order)
    # ?done= names the order just verified only if it is one (a completed pickup of the
    # clerk's stores): the page must not say "已核销" of any number put in its address.
    done = pickup.verified_order(request.user, request.GET.get("done", ""))
    # The clerk confirms the buyer by the last digits, as the backend shows them to most
    # staff (a recipient named by their masked phone is not named twice).
    phone = mask_phone(order.recipient_phone) if order and order.recipient_phone else ""
    return render(
        request,
        "storefront/stores/verify.html",
        {
            "code": code,
            "order": order,
            "recipient_phone": "" if order and phone == order.recipient else phone,
            "lines": lines,
            "pieces": sum(row["quantity"] for row in lines),
            "blocked": blocked,
            "store": store,
            "error": error,
            "done": done.number if done else "",
        },
    )
