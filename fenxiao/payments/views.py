"""Pay pages: the sandbox gateway's cashier, and the mall's own page for real gateways,
which shows the trade's QR code (WeChat Pay Native), opens WeChat's payment sheet (JSAPI),
sends a phone's browser on to the WeChat app (H5) or to Alipay's cashier, and waits for the
payment to be confirmed."""

import qrcode
import qrcode.image.svg
from django.core.cache import cache
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fenxiao.core.errors import DomainError
from fenxiao.core.http import client_ip, is_site_path
from fenxiao.core.money import format_fen

from .gateways import enabled_gateways, get_gateway
from .gateways.sandbox import SandboxGateway
from .models import Payment, PaymentStatus, SandboxTrade
from .services.payments import query_gateway, same_address, start_payment

# The buyer's "我已支付" asks the gateway at most this often per payment.
QUERY_INTERVAL_SECONDS = 5


@require_http_methods(["GET", "POST"])
def sandbox_pay(request, out_trade_no: str):
    # Outside demo mode the page does not exist: nobody may "pay" here without money.
    if SandboxGateway.name not in enabled_gateways():
        raise Http404
    trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
    if trade is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            trade = SandboxGateway().complete_trade(out_trade_no, trade=trade)
        if is_site_path(trade.return_url):
            return HttpResponseRedirect(trade.return_url)
    return render(
        request,
        "payments/sandbox_pay.html",
        {
            "trade": trade,
            "amount_display": format_fen(trade.amount),
        },
    )


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


@require_http_methods(["GET", "POST"])
def payment_page(request, out_trade_no: str):
    """The mall's pay page for gateways without a cashier of their own: the QR code of a
    scan-to-pay trade, or WeChat's in-app payment sheet. The page polls `?state=1` until
    the gateway's notification has marked the payment; "我已完成支付" asks the gateway
    directly (for a late notification). Like the gateway's own pay link, the trade number
    is the key: the page shows only the amount and lets whoever holds it pay."""
    payment = Payment.objects.select_related("order").filter(out_trade_no=out_trade_no).first()
    if payment is None or payment.gateway not in enabled_gateways():
        raise Http404
    gateway = get_gateway(payment.gateway)
    if not gateway.pay_page:
        raise Http404
    if request.GET.get("state"):
        return JsonResponse({"paid": payment.status == PaymentStatus.SUCCEEDED, "status": payment.status})
    error = ""
    if request.method == "POST" and request.POST.get("action") == "renew" and gateway.pay_page == "h5":
        if payment.status == PaymentStatus.CREATED:
            # The WeChat link lasts minutes, the order longer: a new trade (the old one is
            # closed, or applied if it was paid after all) with a new link.
            try:
                renewed = start_payment(
                    payment.order,
                    payment.gateway,
                    return_url=payment.return_url,
                    payer_id=payment.payer_id,
                    client_ip=client_ip(request) or "",
                )
            except DomainError as exc:
                error = exc.message
                payment.refresh_from_db()
            else:
                return HttpResponseRedirect(renewed.pay_url)
    elif request.method == "POST" and payment.status == PaymentStatus.CREATED:
        if cache.add(f"payment-query:{payment.pk}", 1, QUERY_INTERVAL_SECONDS):
            try:
                query_gateway(payment)
            except DomainError as exc:
                error = exc.message
            payment.refresh_from_db()
        if payment.status == PaymentStatus.CREATED and not error:
            error = _("暂未查到支付结果，如已付款请稍候，结果到达后页面会自动跳转")
    if payment.status == PaymentStatus.SUCCEEDED and is_site_path(payment.return_url):
        return HttpResponseRedirect(payment.return_url)
    # Past the order's time to pay the gateway would refuse it: the page says so instead.
    expired = payment.order.pay_deadline <= timezone.now()
    open_trade = payment.status == PaymentStatus.CREATED and not expired
    alipay_form = gateway.page_form(payment) if open_trade and gateway.pay_page == "alipay" else None
    h5_fresh = gateway.pay_page == "h5" and payment.created_at > timezone.now() - gateway.pay_code_lifetime
    # WeChat lets only the address the trade was opened with pay it: a buyer who has changed
    # networks since (Wi-Fi to mobile data) is offered a new trade, not a link WeChat refuses.
    here = client_ip(request)
    h5_moved = h5_fresh and bool(here) and not same_address(payment.client_ip, here)
    h5_fresh = h5_fresh and not h5_moved
    response = render(
        request,
        "payments/payment_page.html",
        {
            "payment": payment,
            "gateway_label": gateway.label,
            "amount_display": format_fen(payment.amount),
            # Generated by qrcode from the gateway's code URL: nothing of the request in it.
            "qr_svg": mark_safe(_qr_svg(payment.pay_code)) if open_trade and gateway.pay_page == "qr" else "",  # noqa: S308
            "jsapi_params": gateway.client_params(payment.pay_code)
            if open_trade and gateway.pay_page == "jsapi"
            else None,
            "alipay_action": alipay_form[0] if alipay_form else "",
            "alipay_fields": alipay_form[1] if alipay_form else None,
            "h5_link": gateway.pay_link(payment) if open_trade and h5_fresh else "",
            # Straight on to WeChat when the page is first opened; not when the buyer comes
            # back from it, asks about the payment or renews the link.
            "h5_auto": request.method == "GET" and not request.GET.get("returned"),
            "h5_stale": open_trade and gateway.pay_page == "h5" and not h5_fresh,
            "h5_moved": h5_moved,
            "in_wechat": "MicroMessenger" in request.headers.get("User-Agent", ""),
            "error": error,
            "expired": expired and payment.status == PaymentStatus.CREATED,
        },
    )
    if gateway.pay_page == "h5":
        # WeChat opens `h5_url` only for a Referer on the H5 支付域名; the site's same-origin
        # policy would send none to wx.tenpay.com. The origin alone names the domain.
        response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response
