"""Checkout, payment hand-off to the gateway's cashier, and the result page."""

import secrets
import time

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from fenxiao.catalog.models import Sku
from fenxiao.core.errors import DomainError
from fenxiao.core.http import client_ip
from fenxiao.customers.models import Address
from fenxiao.customers.services import wallet, wechat_oauth
from fenxiao.orders.models import CartLine, Order
from fenxiao.orders.services import checkout
from fenxiao.orders.services.promotions_port import AUTO, Choice
from fenxiao.payments.gateways import gateway_choices, is_phone, needs_payer_id
from fenxiao.payments.models import PaymentStatus
from fenxiao.payments.services.payments import query_gateway, start_payment

from .common import int_or_none, quantity_posted, safe_next

# The result page waits this long for the gateway's notification before it stops polling
# and offers 重新查询 instead.
RESULT_WAIT_SECONDS = 30
# 重新查询 asks the gateway about one payment at most this often; the cashier's 我已完成支付
# (payments.views) shares the limit (the same cache key).
QUERY_INTERVAL_SECONDS = 5


def _requested(request) -> tuple[list[tuple[int, int]], bool, str]:
    """What the buyer is checking out: one SKU (buy now) or chosen cart lines."""
    source = request.GET  # the selection travels in the URL, also when the form posts
    sku = int_or_none(source.get("sku"))
    if sku and 0 < sku < 2**31:
        qty = int_or_none(source.get("qty")) or 1
        return [(sku, qty)], False, f"sku={sku}&qty={qty}"
    # The cart form sends one `line` per ticked line; links use `lines=1,2`.
    raw = source.getlist("line") + (source.get("lines") or "").split(",")
    ids = sorted({i for i in map(int_or_none, raw) if i and 0 < i < 2**31})
    lines = CartLine.objects.filter(cart__buyer=request.user, pk__in=ids).order_by("pk")
    requested = [(line.sku_id, line.quantity) for line in lines]
    return requested, True, "lines=" + ",".join(str(line.pk) for line in lines)


def _id(value) -> int | None:
    number = int_or_none(value)
    return number if number and 0 < number < 2**31 else None


def _choice(request) -> tuple[Choice, str]:
    """The coupon (`coupon=<id>`, `coupon=none`, absent: the best one) and the group buy
    (`group=<promotion id>` opens a group, `join=<group id>` joins one), from the URL like
    the goods, and the query string that carries them on."""
    raw = request.GET.get("coupon")
    coupon = None if raw == "none" else (_id(raw) if raw else AUTO)
    group, join = _id(request.GET.get("group")), _id(request.GET.get("join"))
    if coupon is None and raw != "none":
        coupon = AUTO  # a malformed id: fall back to the best coupon
    parts = [f"join={join}"] if join else [f"group={group}"] if group else []
    return Choice(coupon=coupon, group_promotion=None if join else group, join_group=join), "&".join(parts)


def _fulfilment(request) -> tuple[str, int | None, tuple | None, str]:
    """快递配送 or 到店自提 (`fulfilment=pickup`), the store picked (`store=<id>`) and the
    buyer's location when the browser shared it (`lat`, `lng`), and the query carrying them."""
    if request.GET.get("fulfilment") != "pickup":
        return "delivery", None, None, ""
    store = _id(request.GET.get("store"))
    location = None
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        if -90 <= lat <= 90 and -180 <= lng <= 180:
            location = (round(lat, 6), round(lng, 6))
    except (KeyError, ValueError):
        pass
    parts = ["fulfilment=pickup"]
    if location:
        parts.append(f"lat={location[0]}&lng={location[1]}")
    return "pickup", store, location, "&".join(parts)


def _coupon_param(coupon) -> str:
    return "" if coupon == AUTO else f"&coupon={'none' if coupon is None else coupon}"


def _give_up(request, error: DomainError, requested, from_cart: bool):
    """Where a basket that cannot be priced goes: the cart, or the product page."""
    messages.error(request, error.message)
    if from_cart:
        return redirect("/cart/")
    product_id = Sku.objects.filter(pk=requested[0][0]).values_list("product_id", flat=True).first()
    return redirect(f"/products/{product_id}/" if product_id else "/")


@login_required
def checkout_page(request):
    requested, from_cart, query = _requested(request)
    note_key = query  # the goods alone: the note a buyer types is kept per purchase (app.js)
    choice, group_query = _choice(request)
    if group_query:
        query = f"{query}&{group_query}"
    goods_query = query
    fulfilment, store_id, location, pickup_query = _fulfilment(request)
    pickup = fulfilment == "pickup"
    if pickup_query:
        query = f"{query}&{pickup_query}"
    if not requested:
        placed = checkout.placed_order(request.user, _submit_token(request))
        if placed is not None:  # the form again after its order emptied the cart lines
            return _to_payment(placed)
        messages.error(request, _("请选择要购买的商品"))
        return redirect("/cart/")
    addresses = list(Address.objects.filter(user=request.user))
    chosen = int_or_none(request.POST.get("address") or request.GET.get("address"))
    address = (
        next((a for a in addresses if a.pk == chosen), None)
        or next((a for a in addresses if a.is_default), None)
        or (addresses[0] if addresses else None)
    )
    if request.method == "POST":
        if address is None and not pickup:
            messages.error(request, _("请先添加收货地址"))
            return redirect(f"/me/addresses/new/?next=/checkout/?{query}")
        try:
            order = checkout.place_order(
                request.user,
                requested,
                address_id=None if pickup else address.pk,
                fulfilment=fulfilment,
                pickup_store_id=store_id,
                note=request.POST.get("note", ""),
                expected_total=int_or_none(request.POST.get("expected_total")),
                from_cart=from_cart,
                use_wallet=bool(request.POST.get("use_wallet")),
                choice=choice,
                client_token=_submit_token(request),
            )
        except DomainError as error:
            messages.error(request, error.message)
            # A coupon gone meanwhile (used, expired): back to the best one still usable.
            coupon = AUTO if error.code.startswith("COUPON_") else choice.coupon
            store = f"&store={store_id}" if store_id and error.code != "PICKUP_UNAVAILABLE" else ""
            return redirect(f"/checkout/?{query}{store}{_coupon_param(coupon)}")
        return _to_payment(order)
    try:
        quote = checkout.quote(
            requested,
            with_images=True,
            buyer=request.user,
            choice=choice,
            address=None if pickup else address,
            fulfilment=fulfilment,
            pickup_store_id=store_id,
            location=location,
        )
    except DomainError as error:
        if choice.coupon == AUTO or not error.code.startswith("COUPON_"):
            return _give_up(request, error, requested, from_cart)
        messages.error(request, error.message)  # that coupon cannot be used: show the best one
        return redirect(f"/checkout/?{query}")
    balance = wallet.balance(request.user.pk)
    return render(
        request,
        "storefront/checkout.html",
        {
            "quote": quote,
            "addresses": addresses,
            "address": address,
            # The form posts what the page shows: the coupon picked (or none) is spelled out.
            "query": query
            + (f"&store={quote.pickup_store.id}" if quote.pickup_store else "")
            + _coupon_param(quote.coupon_id or None if quote.coupon_options else choice.coupon),
            "base_query": query + (f"&store={quote.pickup_store.id}" if quote.pickup_store else ""),
            # The two tabs and the store list keep the goods, the group and the coupon.
            "goods_query": goods_query
            + _coupon_param(quote.coupon_id or None if quote.coupon_options else choice.coupon),
            "pickup_query": pickup_query,
            "located": location is not None,
            "wallet_balance": balance,
            "wallet_usable": min(balance, quote.total),
            "submit_token": secrets.token_hex(16),
            "note_key": note_key,
        },
    )


def _submit_token(request) -> str:
    """One 提交订单 form, one order: the page hands each form a token, which names the
    checkout to the service. A second post of the same form (a double tap, a post the phone
    re-sent on a slow network, 返回 then 提交 again) finds the order the first one placed; a
    post that failed (price changed, out of stock …) placed nothing, so it may simply try
    again."""
    token = request.POST.get("submit_token", "")
    if not (16 <= len(token) <= 64 and token.isascii() and token.isalnum()):
        return ""  # a form from before tokens, or a forged one: placed as posted
    return token


def _to_payment(order: Order):
    if order.status != Order.Status.PENDING_PAYMENT:  # store credit paid it all
        return redirect(reverse("storefront:order_result", args=[order.number]))
    return redirect(reverse("storefront:order_pay", args=[order.number]))


@require_POST
def buy_now(request):
    """立即购买 on the product page posts here (its form carries the CSRF token, which must
    never end up in a URL); the checkout page itself is a plain GET of the SKU and quantity."""
    sku = int_or_none(request.POST.get("sku"))
    qty = quantity_posted(request)
    if not sku or not 0 < sku < 2**31 or not 0 < qty <= 999:
        messages.error(request, _("请选择商品规格和数量"))
        return redirect(safe_next(request, "/"))
    return redirect(f"/checkout/?sku={sku}&qty={qty}")


@login_required
def pay(request, number: str):
    order = get_object_or_404(Order, number=number, buyer=request.user)
    agent = request.headers.get("User-Agent", "")
    # Where the buyer is decides how WeChat Pay works: its in-app sheet inside WeChat, the
    # WeChat app opened from a phone's browser (H5), a QR code on a computer.
    gateways = gateway_choices(in_wechat="MicroMessenger" in agent, mobile=is_phone(agent))
    # Paying inside WeChat needs the buyer's openid: learnt silently before they tap 立即支付.
    wants_openid = any(needs_payer_id(name) for name, _ in gateways) and wechat_oauth.should_ask(request)
    if request.method == "POST":
        gateway = request.POST.get("gateway") or (gateways[0][0] if gateways else "")
        if gateway not in dict(gateways):
            # Only what this page offers here (a mini-program's gateway has no page to pay on).
            messages.error(request, _("请选择可用的支付方式"))
            return redirect(reverse("storefront:order_detail", args=[number]))
        payer_id = ""
        if needs_payer_id(gateway):
            payer_id = wechat_oauth.openid_for(request) or ""
            if not payer_id and wechat_oauth.configured():
                return redirect(wechat_oauth.authorize_url(request, request.path))
        result = reverse("storefront:order_result", args=[number])  # a site path: never off-site
        try:
            payment = start_payment(
                order, gateway, return_url=result, payer_id=payer_id, client_ip=client_ip(request) or ""
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(reverse("storefront:order_detail", args=[number]))
        return redirect(payment.pay_url)
    if wants_openid and order.status == Order.Status.PENDING_PAYMENT:
        return redirect(wechat_oauth.authorize_url(request, request.path))
    return render(request, "storefront/orders/pay.html", {"order": order, "gateways": gateways})


@login_required
def result(request, number: str):
    """支付结果: polls until the gateway's notification marks the order paid, for
    RESULT_WAIT_SECONDS counted from the page's first load (`since`, carried by each poll);
    then it stops and offers 重新查询, which asks the gateway (POST)."""
    order = get_object_or_404(Order, number=number, buyer=request.user)
    if request.method == "POST":
        _query_gateway(request, order)
        return redirect(reverse("storefront:order_result", args=[number]))
    now = int(time.time())
    since = int_or_none(request.GET.get("since")) if request.htmx else None
    if since is None or not 0 <= now - since <= 86400:
        since = now
    template = "storefront/partials/pay_status.html" if request.htmx else "storefront/orders/result.html"
    waiting = order.status == Order.Status.PENDING_PAYMENT
    return render(
        request,
        template,
        {
            "order": order,
            "since": since,
            "polling": waiting and now - since < RESULT_WAIT_SECONDS,
            "waited": waiting and now - since >= RESULT_WAIT_SECONDS,
        },
    )


def _query_gateway(request, order: Order) -> None:
    """重新查询: ask the gateway about each payment of the order still waiting for its
    notification, and apply one it says is paid (the notification is late, or lost). A
    payment is asked at most once per QUERY_INTERVAL_SECONDS, however often the buyer taps
    (the same limit as the cashier's 我已完成支付)."""
    if order.status != Order.Status.PENDING_PAYMENT:
        return
    for payment in order.payments.filter(status=PaymentStatus.CREATED).order_by("pk"):
        if not cache.add(f"payment-query:{payment.pk}", 1, QUERY_INTERVAL_SECONDS):
            continue
        try:
            query_gateway(payment)
        except DomainError as error:
            messages.error(request, error.message)
            return
    if not Order.objects.filter(pk=order.pk, status=Order.Status.PENDING_PAYMENT).exists():
        return
    messages.info(request, _("暂未查到支付结果，如已付款请稍候，结果到达后页面会自动跳转"))
