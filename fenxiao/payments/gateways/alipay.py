"""Alipay (支付宝) 手机网站支付 (alipay.trade.wap.pay), for mobile browsers outside WeChat
(WeChat's browser does not open Alipay).

Alipay creates the trade when the buyer reaches its cashier: the mall's pay page posts a
signed form there (`page_form`), and Alipay notifies the mall asynchronously with a signed
form, answered with the plain text `success`. Querying, closing and refunding are API
calls; a refund is asked about (alipay.trade.fastpay.refund.query) when its answer does
not say the money moved, and the refund number makes every attempt idempotent.
"""

from urllib.parse import parse_qsl

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy

from ..errors import GatewayRefused, NotificationIgnored, NotificationMalformed, SignatureInvalid
from .alipay_client import AlipayClient, china_time, fen, yuan
from .base import GatewayNotification, PaymentGateway, PaymentIntent, RefundResult, TradeState

PAID_STATES = {"TRADE_SUCCESS", "TRADE_FINISHED"}
# Answers worth asking again about later (the same numbers), not final refusals.
RETRYABLE = {
    "ACQ.SYSTEM_ERROR",
    "ACQ.SELLER_BALANCE_NOT_ENOUGH",
    "aop.ACQ.SYSTEM_ERROR",
}


def _refusal(answer: dict) -> str:
    code = answer.get("sub_code") or answer.get("code") or ""
    return f"{code} {answer.get('sub_msg') or answer.get('msg') or ''}".strip()[:200]


def _china(text: str | None):
    moment = parse_datetime(text or "")
    if moment is None:
        return None
    return (
        timezone.make_aware(moment, timezone.get_fixed_timezone(480)) if timezone.is_naive(moment) else moment
    )


class AlipayGateway(PaymentGateway):
    name = "alipay"
    label = gettext_lazy("支付宝")
    pay_page = "alipay"
    in_wechat = False
    ack_text = "success"

    def __init__(self, client: AlipayClient | None = None):
        self.client = client or AlipayClient()

    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id=""
    ) -> PaymentIntent:
        # Nothing to ask yet: the trade is created when the buyer reaches Alipay's cashier.
        return PaymentIntent(pay_url=reverse("payment_page", args=[out_trade_no]))

    def page_form(self, payment) -> tuple[str, dict[str, str]]:
        """Where the pay page posts the buyer, and the signed fields it posts."""
        back = settings.SITE_URL + (payment.return_url or "/")
        biz = {
            "out_trade_no": payment.out_trade_no,
            "total_amount": yuan(payment.amount),
            "subject": f"订单 {payment.order.number}",
            "product_code": "QUICK_WAP_WAY",
            # Alipay closes the trade itself when the order's time to pay runs out.
            "time_expire": china_time(payment.order.pay_deadline),
            "quit_url": back,
        }
        params = self.client.signed(
            "alipay.trade.wap.pay",
            biz,
            notify_url=settings.SITE_URL + reverse("api:payment_notify", args=[self.name]),
            return_url=back,
        )
        return self.client.gateway + "?charset=utf-8", params

    def query(self, out_trade_no) -> TradeState:
        answer = self.client.call("alipay.trade.query", {"out_trade_no": out_trade_no})
        if answer.get("code") != "10000":
            if answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
                return TradeState(paid=False, closed=False)  # the buyer has not opened the cashier
            raise GatewayRefused(gateway=_refusal(answer))
        status = answer.get("trade_status")
        try:
            amount = fen(answer["total_amount"])
        except (KeyError, ValueError):
            amount = None
        return TradeState(
            paid=status in PAID_STATES,
            closed=status == "TRADE_CLOSED",
            transaction_id=answer.get("trade_no") or None,
            amount=amount,
            paid_at=_china(answer.get("send_pay_date")),
        )

    def close(self, out_trade_no) -> bool:
        answer = self.client.call("alipay.trade.close", {"out_trade_no": out_trade_no})
        if answer.get("code") == "10000" or answer.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            # Never opened: the pay page no longer posts to Alipay once the payment is closed.
            return True
        return self.closed_unless_paid(out_trade_no, _refusal(answer))

    def refund(self, *, out_trade_no, out_refund_no, amount, reason, total=None) -> RefundResult:
        answer = self.client.call(
            "alipay.trade.refund",
            {
                "out_trade_no": out_trade_no,
                "refund_amount": yuan(amount),
                "out_request_no": out_refund_no,
                "refund_reason": reason[:256],
            },
        )
        refund_id = str(answer.get("trade_no", ""))
        if answer.get("code") == "10000" and answer.get("fund_change") == "Y":
            return RefundResult(succeeded=True, gateway_refund_id=refund_id)
        if answer.get("code") == "20000" or answer.get("sub_code") in RETRYABLE:
            raise GatewayRefused(f"支付宝暂不能退款：{_refusal(answer)}")  # asked again later
        # No money moved in this call, or a refusal: an earlier attempt under this number may
        # have refunded it already. Only a refund Alipay does not have is refused or pending.
        found = self.client.call(
            "alipay.trade.fastpay.refund.query",
            {"out_trade_no": out_trade_no, "out_request_no": out_refund_no},
        )
        if found.get("code") == "10000" and found.get("refund_status") == "REFUND_SUCCESS":
            return RefundResult(succeeded=True, gateway_refund_id=refund_id)
        if answer.get("code") != "10000":
            return RefundResult(succeeded=False, failure_reason=_refusal(answer))
        return RefundResult(succeeded=False, pending=True, gateway_refund_id=refund_id)

    def verify_notification(self, headers, body) -> GatewayNotification:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError) as exc:
            raise NotificationMalformed() from exc
        self.client.verify_notification(form)
        if form.get("app_id") != self.client.app_id:
            # Signed by Alipay but for another app: not a payment to this mall.
            raise SignatureInvalid()
        if form.get("trade_status") not in PAID_STATES:
            # Alipay also tells of closed or refunded trades: acknowledged, nothing to apply.
            raise NotificationIgnored()
        try:
            paid_at = _china(form.get("gmt_payment")) or timezone.now()
            return GatewayNotification(
                out_trade_no=form["out_trade_no"],
                transaction_id=form["trade_no"],
                amount=fen(form["total_amount"]),
                paid_at=paid_at,
            )
        except (KeyError, ValueError) as exc:
            raise NotificationMalformed() from exc
