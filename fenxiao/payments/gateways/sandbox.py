"""A sandbox gateway that behaves like WeChat Pay / Alipay.

The buyer is sent to the gateway's pay page; after they confirm, the gateway (not the
buyer's browser) tells the mall asynchronously, through a Huey task, with an HMAC-signed
notification, and keeps retrying until the mall answers SUCCESS. Refunds are idempotent
on the merchant's refund number and never exceed what was paid.

The notification is the gateway's own outbox, kept on the trade row: `pending` when the
buyer has paid, `sending` while a worker holds it (with a deadline), `delivered` once the
mall acknowledged, `failed` after `MAX_DELIVERIES` unacknowledged tries. A worker killed
mid-delivery leaves `sending` past its deadline; the sweeper re-drives it. The mall applies
a payment once however many times it is told (see `services.payments`).

`SANDBOX_GATEWAY_DELAY_SECONDS` (a setting, 0 by default) makes the sandbox answer slowly
after doing its work, like a gateway whose reply is lost: demos and tests use it to stop a
worker mid-call.
"""

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from fenxiao.core import effects

from ..errors import NotificationExpired, NotificationMalformed, PaymentNotFound, SignatureInvalid
from ..models import RETRYABLE_DELIVERY, DeliveryStatus, SandboxRefund, SandboxTrade
from .base import GatewayNotification, PaymentGateway, PaymentIntent, RefundResult, TradeState

SIGNATURE_HEADER = "X-Sandbox-Signature"
TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
NONCE_HEADER = "X-Sandbox-Nonce"

# Like WeChat Pay: a few quick retries, then longer gaps; given up after this many tries.
MAX_DELIVERIES = 8
DELIVERY_TIMEOUT = timedelta(minutes=2)
SWEEP_CHUNK = 100
SWEEP_LIMIT = 1000


def _slow_reply() -> None:
    delay = float(getattr(settings, "SANDBOX_GATEWAY_DELAY_SECONDS", 0) or 0)
    if delay > 0:
        time.sleep(delay)


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
    label = gettext_lazy("沙箱支付")

    def __init__(self, secret: str | None = None):
        self.secret = secret or settings.SANDBOX_PAY_SECRET

    # --- the mall calls these ---------------------------------------------------------------
    def create_payment(
        self, *, out_trade_no, amount, description, return_url, expires_at=None, payer_id=""
    ) -> PaymentIntent:
        notify_url = settings.SITE_URL + reverse("api:payment_notify", args=[self.name])
        # Idempotent on the merchant's trade number, like the real gateways: asked again, the
        # trade already open stays as it is (one INSERT … ON CONFLICT DO NOTHING).
        SandboxTrade.objects.bulk_create(
            [
                SandboxTrade(
                    out_trade_no=out_trade_no,
                    amount=amount,
                    description=description[:200],
                    notify_url=notify_url,
                    return_url=return_url,
                )
            ],
            ignore_conflicts=True,
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

    def refund(self, *, out_trade_no, out_refund_no, amount, reason, total=None) -> RefundResult:
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
        _slow_reply()  # the refund is booked on the gateway's side; its answer is late
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
    def complete_trade(
        self, out_trade_no: str, *, notify: bool = True, trade: SandboxTrade | None = None
    ) -> SandboxTrade:
        """The buyer confirmed on the pay page: the gateway takes the money and will notify.

        `notify=False` is for loading demo data, which applies the payment directly.
        `trade` is the row the pay page has just read (saves reading it again); it may be
        stale, which is harmless: the move to paid is conditional on the row being open.
        """
        if trade is None or trade.out_trade_no != out_trade_no:
            trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            raise PaymentNotFound()
        trade_no = "SBX" + timezone.now().strftime("%Y%m%d") + secrets.token_hex(8).upper()
        now = timezone.now()
        changes = {
            "status": SandboxTrade.Status.PAID,
            "trade_no": trade_no,
            "paid_at": now,
            "notify_status": DeliveryStatus.PENDING if notify else DeliveryStatus.NONE,
            "notify_next_at": now + DELIVERY_TIMEOUT,
        }
        moved = SandboxTrade.objects.filter(pk=trade.pk, status=SandboxTrade.Status.OPEN).update(**changes)
        if moved:
            # This call made the change: the row now holds exactly these values.
            for name, value in changes.items():
                setattr(trade, name, value)
        else:
            trade.refresh_from_db()  # paid or closed by someone else: show what is there
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


def paid_notification(trade: SandboxTrade) -> GatewayNotification:
    """What the notification of a paid trade tells the mall, for applying it directly
    (demo data, tests) without the signed HTTP round trip."""
    return GatewayNotification(
        out_trade_no=trade.out_trade_no,
        transaction_id=trade.trade_no,
        amount=trade.amount,
        paid_at=trade.paid_at,
    )


# --- the notifier's outbox ------------------------------------------------------------------


def delivery_delay(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min … capped at 30 min between unacknowledged tries."""
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 1800))


def _claim_delivery(out_trade_no: str, now) -> SandboxTrade | None:
    return effects.claim(
        SandboxTrade.objects.filter(
            out_trade_no=out_trade_no,
            status=SandboxTrade.Status.PAID,
            notify_status=DeliveryStatus.PENDING,
        ),
        now + DELIVERY_TIMEOUT,
        status="notify_status",
        processing=DeliveryStatus.SENDING,
        attempts="notify_attempts",
        next_at="notify_next_at",
    )


def deliver_notification(out_trade_no: str, *, now=None) -> bool:
    """One delivery attempt of a paid trade's notification. True once acknowledged."""
    now = now or timezone.now()
    trade = _claim_delivery(out_trade_no, now)
    if trade is None:
        return False
    mine = SandboxTrade.objects.filter(
        pk=trade.pk, notify_status=DeliveryStatus.SENDING, notify_attempts=trade.notify_attempts
    )
    body, headers = SandboxGateway().build_notification(trade)
    try:
        status, reply = deliver(trade.notify_url, body, headers)
    except Exception as exc:  # the mall is unreachable: like any non-SUCCESS answer
        status, reply = 0, f"{type(exc).__name__}: {exc}".encode()
    if status == 200 and b"SUCCESS" in reply:
        mine.update(notify_status=DeliveryStatus.DELIVERED, notified_at=timezone.now(), notify_next_at=None)
        return True
    error = f"HTTP {status} {reply[:200].decode('utf-8', 'replace')}"[:300]
    if trade.notify_attempts >= MAX_DELIVERIES:
        mine.update(notify_status=DeliveryStatus.FAILED, notify_last_error=error, notify_next_at=None)
    else:
        mine.update(
            notify_status=DeliveryStatus.PENDING,
            notify_last_error=error,
            notify_next_at=timezone.now() + delivery_delay(trade.notify_attempts),
        )
    return False


def _due_deliveries(now):
    from django.db.models import Q

    return SandboxTrade.objects.filter(
        Q(notify_next_at__lte=now) | Q(notify_next_at__isnull=True),
        status=SandboxTrade.Status.PAID,
        notify_status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING],
    )


def sweep_notifications(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive notifications due for another try, or stuck `sending` past the deadline."""
    now = now or timezone.now()

    def release(rows) -> list[str]:
        numbers = list(rows.values_list("out_trade_no", flat=True))
        SandboxTrade.objects.filter(out_trade_no__in=numbers).update(
            notify_status=DeliveryStatus.PENDING, notify_next_at=now + DELIVERY_TIMEOUT
        )
        return numbers

    return effects.sweep(
        lambda: _due_deliveries(now),
        limit=limit,
        chunk=SWEEP_CHUNK,
        release=release,
        enqueue=_enqueue_delivery,
    )


def _enqueue_delivery(out_trade_no: str) -> None:
    from ..tasks import deliver_sandbox_notification

    deliver_sandbox_notification(out_trade_no)


def retry_notification(trade: SandboxTrade) -> SandboxTrade:
    """Staff re-send a notification the mall has not acknowledged (pending, stuck, failed)."""
    from fenxiao.core.errors import InvalidTransition

    with transaction.atomic():
        locked = SandboxTrade.objects.select_for_update().filter(pk=trade.pk).first()
        if locked is None or locked.status != SandboxTrade.Status.PAID:
            raise InvalidTransition(
                gettext("交易未支付，没有可投递的通知"), code="NOTIFICATION_NOT_RETRYABLE"
            )
        if locked.notify_status not in RETRYABLE_DELIVERY:
            raise InvalidTransition(gettext("通知已送达，无需重试"), code="NOTIFICATION_NOT_RETRYABLE")
        SandboxTrade.objects.filter(pk=locked.pk).update(
            notify_status=DeliveryStatus.PENDING, notify_next_at=timezone.now() + DELIVERY_TIMEOUT
        )
        locked.notify_status = DeliveryStatus.PENDING
        number = locked.out_trade_no
        transaction.on_commit(lambda: _enqueue_delivery(number))
    return locked
