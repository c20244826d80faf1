"""A sandbox gateway that behaves like WeChat Pay / Alipay.

The buyer is sent to the gateway's pay page; after they confirm, the gateway (not the
buyer's browser) tells the mall asynchronously, through a Huey task, with an HMAC-signed
notification, and keeps retrying until the mall answers SUCCESS. Refunds are idempotent
on the merchant's refund number and never exceed what was paid.
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ..errors import NotificationExpired, NotificationMalformed, PaymentNotFound, SignatureInvalid
from ..models import SandboxRefund, SandboxTrade
from .base import GatewayNotification, PaymentGateway, PaymentIntent, RefundResult, TradeState

SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
NONCE_HEADER = "X-Sandbox-Nonce"


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def deliver(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST a notification to the mall, as the gateway's servers would."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class SandboxGateway(PaymentGateway):
    name = "sandbox"
    label = "沙箱支付"

    def __init__(self, secret: str | None = None):
        self.secret = secret or settings.SANDBOX_PAY_SECRET

    # --- the mall calls these ---------------------------------------------------------------
    def create_payment(self, *, out_trade_no, amount, description, return_url) -> PaymentIntent:
        notify_url = settings.SITE_URL + reverse("api:payment_notify", args=[self.name])
        SandboxTrade.objects.get_or_create(
            out_trade_no=out_trade_no,
            defaults={
                "amount": amount,
                "description": description[:200],
                "notify_url": notify_url,
                "return_url": return_url,
            },
        )
        return PaymentIntent(pay_url=reverse("sandbox_pay", args=[out_trade_no]))

    def query(self, out_trade_no) -> TradeState:
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return TradeState(paid=False, closed=True)
        return TradeState(
            paid=trade.status == SandboxTrade.Status.PAID,
            closed=trade.status == SandboxTrade.Status.CLOSED,
            transaction_id=trade.trade_no,
            amount=trade.amount,
        )

    def close(self, out_trade_no) -> bool:
        SandboxTrade.objects.filter(out_trade_no=out_trade_no, status=SandboxTrade.Status.OPEN).update(
            status=SandboxTrade.Status.CLOSED
        )
        return not SandboxTrade.objects.filter(
            out_trade_no=out_trade_no, status=SandboxTrade.Status.PAID
        ).exists()

    def refund(self, *, out_trade_no, out_refund_no, amount, reason) -> RefundResult:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    SandboxRefund.objects.create(
                        out_refund_no=out_refund_no, out_trade_no=out_trade_no, amount=amount
                    )
            except IntegrityError:
                done = SandboxRefund.objects.get(out_refund_no=out_refund_no)
                return RefundResult(succeeded=True, gateway_refund_id=done.refund_id)
            moved = SandboxTrade.objects.filter(
                out_trade_no=out_trade_no,
                status=SandboxTrade.Status.PAID,
                refunded_amount__lte=F("amount") - amount,
            ).update(refunded_amount=F("refunded_amount") + amount)
            if not moved:
                transaction.set_rollback(True)
                return RefundResult(succeeded=False, failure_reason="交易不存在或可退金额不足")
            refund = SandboxRefund.objects.get(out_refund_no=out_refund_no)
            return RefundResult(succeeded=True, gateway_refund_id=refund.refund_id)

    def verify_notification(self, headers, body) -> GatewayNotification:
        signature = headers.get(SIGNATURE_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        expected = sign(self.secret, timestamp, nonce, body)
        if not signature or not hmac.compare_digest(signature, expected):
            raise SignatureInvalid()
        try:
            sent_at = int(timestamp)
        except ValueError as exc:
            raise NotificationMalformed() from exc
        if abs(time.time() - sent_at) > settings.PAYMENT_NOTIFY_MAX_AGE_SECONDS:
            raise NotificationExpired()
        try:
            data = json.loads(body)
            return GatewayNotification(
                out_trade_no=str(data["out_trade_no"]),
                transaction_id=str(data["transaction_id"]),
                amount=int(data["amount"]),
                paid_at=datetime.fromtimestamp(int(data["paid_at"]), tz=UTC),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise NotificationMalformed() from exc

    # --- the gateway's own side: the pay page and the notifier -------------------------------
    def complete_trade(self, out_trade_no: str, *, notify: bool = True) -> SandboxTrade:
        """The buyer confirmed on the pay page: the gateway takes the money and will notify.

        `notify=False` is for loading demo data, which applies the payment directly.
        """
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            raise PaymentNotFound()
        trade_no = "SBX" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(8).upper()
        moved = SandboxTrade.objects.filter(pk=trade.pk, status=SandboxTrade.Status.OPEN).update(
            status=SandboxTrade.Status.PAID, trade_no=trade_no, paid_at=timezone.now()
        )
        trade.refresh_from_db()
        if moved and notify:
            from ..tasks import deliver_sandbox_notification

            transaction.on_commit(lambda: deliver_sandbox_notification(trade.out_trade_no))
        return trade

    def build_notification(self, trade: SandboxTrade) -> tuple[bytes, dict[str, str]]:
        body = json.dumps(
            {
                "out_trade_no": trade.out_trade_no,
                "transaction_id": trade.trade_no,
                "amount": trade.amount,
                "paid_at": int(trade.paid_at.timestamp()),
            },
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(12)
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: sign(self.secret, timestamp, nonce, body),
        }
        return body, headers
