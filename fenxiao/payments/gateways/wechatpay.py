"""WeChat Pay (微信支付, API v3). Native (`wechatpay`): the buyer scans (or, in WeChat,
long-presses) a QR code on the mall's own pay page; JSAPI (`wechatpay_jsapi`, in WeChat's
browser): the pay page opens WeChat's payment sheet; H5 (`wechatpay_h5`, a phone's browser
outside WeChat): the pay page sends the browser to WeChat's page that opens the WeChat app.
WeChat Pay notifies the mall asynchronously in every case.

Native needs neither the buyer's openid nor an H5 domain registration, so it works in any
browser: on a computer the buyer scans with their phone, in WeChat's browser they
long-press the code. The pay page (`views.payment_page`) waits for the notification and
can ask the gateway when it is late.

Refunds are asynchronous at WeChat Pay: a refund answered PROCESSING stays pending here
and is asked about again (same refund number) until it is SUCCESS or refused; the refund
number makes every attempt idempotent.
"""

import json
import logging
import secrets
import time
from datetime import datetime, timedelta
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from fenxiao.core.http import is_site_path

from ..errors import (
    GatewayRefused,
    GatewayUnavailable,
    NotificationExpired,
    NotificationIgnored,
    NotificationMalformed,
    SignatureInvalid,
)
from .base import GatewayNotification, PaymentGateway, PaymentIntent, RefundResult, TradeState
from .wechatpay_client import WechatPayClient

PAID_STATES = {"SUCCESS", "REFUND"}
CLOSED_STATES = {"CLOSED", "REVOKED", "PAYERROR"}
# Refusals worth asking again about later (the same refund number), not final answers.
# A rejected signature or permission (a key being rotated, a misconfigured node) is the
# mall's to fix, not the refund's: asked again once fixed.
RETRYABLE_CODES = {
    "SYSTEM_ERROR",
    "FREQUENCY_LIMITED",
    "NOT_ENOUGH",
    "RATELIMIT_EXCEEDED",
    "SIGN_ERROR",
    "NO_AUTH",
}
DESCRIPTION_MAX = 127
REASON_MAX = 80
# What H5 reports as the site the buyer pays on (h5_info.app_name): the mall's name, as in
# its SMS signature and share cards.
H5_APP_NAME = "分销商城"

logger = logging.getLogger(__name__)


def _shanghai(moment: datetime) -> str:
    """RFC 3339 in China time without fractions, as the API wants `time_expire`."""
    return timezone.localtime(moment, timezone.get_fixed_timezone(480)).replace(microsecond=0).isoformat()


def _aware(moment: datetime) -> datetime:
    if timezone.is_naive(moment):
        return timezone.make_aware(moment, timezone.get_fixed_timezone(480))
    return moment


def _refusal(reply) -> str:
    return f"{reply.code or reply.status} {reply.data.get('message', '')}".strip()[:200]


class WechatPayGateway(PaymentGateway):
    name = "wechatpay"
    label = gettext_lazy("微信支付")

    pay_page = "qr"
    # WeChat Pay's code_url and prepay_id last two hours; a margin for the buyer to pay.
    pay_code_lifetime = timedelta(minutes=110)

    def __init__(self, client: WechatPayClient | None = None):
        self.client = client or WechatPayClient()

    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id=""
    ) -> PaymentIntent:
        reply = self.client.request(
            "POST", "/v3/pay/transactions/native", self._order(out_trade_no, amount, description, expires_at)
        )
        code_url = reply.data.get("code_url") if reply.ok else None
        if not code_url:
            raise GatewayRefused(gateway=_refusal(reply))
        return PaymentIntent(pay_url=reverse("payment_page", args=[out_trade_no]), pay_code=str(code_url))

    def _order(self, out_trade_no, amount, description, expires_at) -> dict:
        payload = {
            "appid": self.client.appid,
            "mchid": self.client.mchid,
            "description": description[:DESCRIPTION_MAX],
            "out_trade_no": out_trade_no,
            "notify_url": settings.SITE_URL + reverse("api:payment_notify", args=[self.name]),
            "amount": {"total": amount, "currency": "CNY"},
        }
        if expires_at is not None:
            # WeChat Pay closes the trade itself when the order's time to pay runs out.
            payload["time_expire"] = _shanghai(expires_at)
        return payload

    def query(self, out_trade_no) -> TradeState:
        reply = self.client.request(
            "GET", f"/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={self.client.mchid}"
        )
        if reply.status == 404:
            return TradeState(paid=False, closed=True)
        if not reply.ok:
            raise GatewayRefused(gateway=_refusal(reply))
        state = reply.data.get("trade_state")
        total = (reply.data.get("amount") or {}).get("total")
        paid_at = None
        if reply.data.get("success_time"):
            try:
                paid_at = _aware(datetime.fromisoformat(reply.data["success_time"]))
            except (TypeError, ValueError):
                paid_at = None
        return TradeState(
            paid=state in PAID_STATES,
            closed=state in CLOSED_STATES,
            transaction_id=reply.data.get("transaction_id") or None,
            amount=total if isinstance(total, int) else None,
            paid_at=paid_at,
        )

    def close(self, out_trade_no) -> bool:
        reply = self.client.request(
            "POST", f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close", {"mchid": self.client.mchid}
        )
        if reply.ok:
            return True
        # Refused: paid meanwhile, already closed, or a failure; the trade's state decides.
        return self.closed_unless_paid(out_trade_no, _refusal(reply))

    def refund(self, *, out_trade_no, out_refund_no, amount, reason, total=None) -> RefundResult:
        # Asked first: a refund the gateway already took (an answer lost, a re-drive) is
        # reported as it stands rather than requested again.
        reply = self.client.request("GET", f"/v3/refund/domestic/refunds/{out_refund_no}")
        if reply.status == 404:
            payload = {
                "out_trade_no": out_trade_no,
                "out_refund_no": out_refund_no,
                "reason": reason[:REASON_MAX],
                "amount": {"refund": amount, "total": total or amount, "currency": "CNY"},
            }
            reply = self.client.request("POST", "/v3/refund/domestic/refunds", payload)
        if not reply.ok:
            if reply.status >= 500 or reply.status in (401, 429) or reply.code in RETRYABLE_CODES:
                raise GatewayRefused(f"微信支付暂不能退款：{_refusal(reply)}")  # asked again later
            return RefundResult(succeeded=False, failure_reason=_refusal(reply))
        refund_id = str(reply.data.get("refund_id", ""))
        status = reply.data.get("status")
        if status == "SUCCESS":
            return RefundResult(succeeded=True, gateway_refund_id=refund_id)
        if status == "PROCESSING":
            return RefundResult(succeeded=False, pending=True, gateway_refund_id=refund_id)
        if status == "ABNORMAL":
            # The money is held at WeChat Pay until the merchant re-routes it on the merchant
            # platform, after which the refund reads SUCCESS: not final, still counted, asked
            # about again.
            return RefundResult(
                succeeded=False,
                pending=True,
                gateway_refund_id=refund_id,
                failure_reason="退款异常（买家的收款账户不可用），请到微信支付商户平台处理",
            )
        return RefundResult(
            succeeded=False, gateway_refund_id=refund_id, failure_reason=f"退款已关闭（{status}）"
        )

    def verify_notification(self, headers, body) -> GatewayNotification:
        sent_at = self.client.verify({k.lower(): v for k, v in headers.items()}, body)
        if abs(time.time() - sent_at) > settings.PAYMENT_NOTIFY_MAX_AGE_SECONDS:
            raise NotificationExpired()
        try:
            envelope = _json_object(body)
            if envelope.get("event_type") != "TRANSACTION.SUCCESS":
                # Signed by WeChat Pay but not a payment (a refund's news): acknowledged only.
                raise NotificationIgnored()
            trade = self.client.decrypt(envelope["resource"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise NotificationMalformed() from exc
        if trade.get("mchid") != self.client.mchid or trade.get("appid") != self.client.appid:
            # Signed by WeChat Pay but about another merchant: not a payment to this mall.
            raise SignatureInvalid()
        try:
            if trade["trade_state"] != "SUCCESS":
                raise NotificationMalformed()
            total = trade["amount"]["total"]
            if not isinstance(total, int):
                raise NotificationMalformed()
            return GatewayNotification(
                out_trade_no=str(trade["out_trade_no"]),
                transaction_id=str(trade["transaction_id"]),
                amount=total,
                paid_at=_aware(datetime.fromisoformat(trade["success_time"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NotificationMalformed() from exc


class WechatPayJsapiGateway(WechatPayGateway):
    """WeChat Pay inside WeChat's browser (JSAPI / 公众号支付): the trade is opened for the
    buyer's openid and the mall's pay page opens WeChat's own payment sheet with the
    prepay id, signed with the merchant key. Notifications, queries, closing and refunds
    are the Native gateway's."""

    name = "wechatpay_jsapi"
    label = gettext_lazy("微信支付")
    pay_page = "jsapi"
    in_wechat = True
    needs_payer_id = True

    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id=""
    ) -> PaymentIntent:
        payload = self._order(out_trade_no, amount, description, expires_at)
        payload["payer"] = {"openid": payer_id}
        reply = self.client.request("POST", "/v3/pay/transactions/jsapi", payload)
        prepay_id = reply.data.get("prepay_id") if reply.ok else None
        if not prepay_id:
            raise GatewayRefused(gateway=_refusal(reply))
        return PaymentIntent(pay_url=reverse("payment_page", args=[out_trade_no]), pay_code=str(prepay_id))

    def client_params(self, prepay_id: str) -> dict[str, str]:
        """What `WeixinJSBridge.invoke("getBrandWCPayRequest", …)` takes: signed here, since
        the merchant key never leaves the server."""
        params = {
            "appId": self.client.appid,
            "timeStamp": str(int(time.time())),
            "nonceStr": secrets.token_hex(16),
            "package": f"prepay_id={prepay_id}",
            "signType": "RSA",
        }
        params["paySign"] = self.client.sign(
            f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
        )
        return params


class WechatPayH5Gateway(WechatPayGateway):
    """WeChat Pay H5 (H5 支付) in a phone's browser outside WeChat, where a QR code cannot be
    scanned by the phone showing it: the trade is opened with the buyer's network address
    and WeChat answers an `h5_url`, its page on wx.tenpay.com that opens the WeChat app. The
    mall's pay page sends the browser there (`pay_link`) with `redirect_url`, where WeChat
    brings the buyer back. Notifications, queries, closing and refunds are the Native
    gateway's.

    What WeChat checks, and the mall must get right: the page that opens `h5_url` is on the
    merchant platform's H5 支付域名 (SITE_URL's) and says so in its Referer, which the pay
    page sends although the site's policy is same-origin; `payer_client_ip` is the address
    the buyer pays from (behind a proxy: CLIENT_IP_HEADER); and an `h5_url` lasts five
    minutes, so an older one is opened afresh. WeChat brings the buyer back whether they
    paid or not (also after a few seconds in the WeChat app), so the page they return to
    waits for the notification rather than taking the return as payment.
    """

    name = "wechatpay_h5"
    label = gettext_lazy("微信支付")
    pay_page = "h5"
    # WeChat refuses H5 inside its own browser (JSAPI is for there), and a computer has no
    # WeChat app to open (Native's QR code is for there).
    in_wechat = False
    on_phone = True
    needs_client_ip = True
    # `h5_url` lasts five minutes; a margin for the browser to get there.
    pay_code_lifetime = timedelta(minutes=4)

    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id="", client_ip=""
    ) -> PaymentIntent:
        payload = self._order(out_trade_no, amount, description, expires_at)
        payload["scene_info"] = {
            "payer_client_ip": client_ip,
            "h5_info": {"type": "Wap", "app_name": H5_APP_NAME, "app_url": settings.SITE_URL},
        }
        reply = self.client.request("POST", "/v3/pay/transactions/h5", payload)
        h5_url = reply.data.get("h5_url") if reply.ok else None
        if h5_url:
            return PaymentIntent(pay_url=reverse("payment_page", args=[out_trade_no]), pay_code=str(h5_url))
        if reply.code == "NO_AUTH":
            # The merchant has not (or no longer) got H5 支付 on the merchant platform: no
            # retry helps, the buyer must pay another way and the merchant must apply for it.
            logger.error("WeChat Pay refused H5 payment for %s: %s", out_trade_no, _refusal(reply))
            raise GatewayUnavailable(
                gettext("商城暂未开通微信 H5 支付，请换一种支付方式，或在微信中打开商城支付"),
                code="WECHATPAY_H5_NOT_ENABLED",
                gateway=_refusal(reply),
            )
        raise GatewayRefused(gateway=_refusal(reply))

    def pay_link(self, payment) -> str:
        """`h5_url` with where WeChat brings the buyer back: the page the payment was started
        for (the order's result page), else the mall's pay page (marked as a return, so it
        does not send them straight back to WeChat). Absolute on SITE_URL, whose domain is the
        one registered for H5."""
        back = payment.return_url
        if not is_site_path(back):
            back = reverse("payment_page", args=[payment.out_trade_no]) + "?returned=1"
        joiner = "&" if "?" in payment.pay_code else "?"
        return f"{payment.pay_code}{joiner}redirect_url={quote(settings.SITE_URL + back, safe='')}"


def _json_object(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise NotificationMalformed() from exc
    if not isinstance(data, dict):
        raise NotificationMalformed()
    return data
