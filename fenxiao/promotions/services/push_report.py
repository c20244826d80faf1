"""The per-push report: who it reached, who read and clicked, and who ordered after it.

Constant in the number of recipients: one aggregate over the recipients and their
messages, one over the paid orders of recipients within the window after their message,
and, when the push chose SMS, one over its outbox rows by channel.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, OuterRef, Q, Sum

from fenxiao.core.money import ratio_bp
from fenxiao.notices.models import Delivery, DeliveryStatus
from fenxiao.orders.models import Order

from ..models_push import Push, PushRecipient

# "Orders after" counts a recipient's orders paid within this many days of their message.
ORDER_WINDOW_DAYS = 7


@dataclass(frozen=True)
class PushReport:
    recipients: int
    processed: int
    delivered: int  # messages written
    read: int
    clicked: int
    coupons_issued: int
    buyers_ordered: int
    orders: int
    paid_amount: int  # fen, as paid (refunds not deducted)
    window_days: int = ORDER_WINDOW_DAYS
    # Per external channel the push chose: its outbox rows by outcome.
    channels: tuple["ChannelFigures", ...] = ()

    @staticmethod
    def _rate(part: int, whole: int) -> int:
        """Basis points of `whole`."""
        return ratio_bp(part, whole)

    @property
    def read_bp(self) -> int:
        return self._rate(self.read, self.delivered)

    @property
    def clicked_bp(self) -> int:
        return self._rate(self.clicked, self.delivered)

    @property
    def ordered_bp(self) -> int:
        return self._rate(self.buyers_ordered, self.delivered)


@dataclass(frozen=True)
class ChannelFigures:
    channel: str
    sent: int
    failed: int
    waiting: int  # still queued or being sent (the outbox retries)
    # Recipients whose message went to the message center only: they decline marketing.
    skipped: int


def _channel_figures(push: Push, delivered: int) -> tuple[ChannelFigures, ...]:
    if not push.external_channels:
        return ()
    rows = {
        row["channel"]: row
        for row in Delivery.objects.filter(
            message_id__in=PushRecipient.objects.filter(push_id=push.pk, message__isnull=False).values(
                "message_id"
            )
        )
        .values("channel")
        .annotate(
            rows=Count("pk"),
            sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
            failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        )
        .order_by()
    }
    figures = []
    for channel in push.external_channels:
        row = rows.get(channel, {"rows": 0, "sent": 0, "failed": 0})
        figures.append(
            ChannelFigures(
                channel=channel,
                sent=row["sent"],
                failed=row["failed"],
                waiting=row["rows"] - row["sent"] - row["failed"],
                skipped=max(delivered - row["rows"], 0),
            )
        )
    return tuple(figures)


def report(push: Push, window_days: int = ORDER_WINDOW_DAYS) -> PushReport:
    counts = PushRecipient.objects.filter(push_id=push.pk).aggregate(
        recipients=Count("pk"),
        processed=Count("pk", filter=Q(processed_at__isnull=False)),
        delivered=Count("message_id"),
        read=Count("pk", filter=Q(message__read_at__isnull=False)),
        clicked=Count("pk", filter=Q(message__clicked_at__isnull=False)),
        coupons=Count("pk", filter=Q(got_coupon=True)),
    )
    window = timedelta(days=window_days)
    # A paid order counts when its buyer got the push's message before paying, within the window.
    reached = PushRecipient.objects.filter(
        push_id=push.pk,
        message__isnull=False,
        user_id=OuterRef("buyer_id"),
        processed_at__lte=OuterRef("paid_at"),
        processed_at__gt=ExpressionWrapper(OuterRef("paid_at") - window, output_field=DateTimeField()),
    )
    # Nothing paid before the push started can count: the paid-at index bounds the scan.
    since = push.started_at or push.created_at
    orders = Order.objects.filter(Exists(reached), paid_at__gte=since).aggregate(
        buyers=Count("buyer_id", distinct=True), orders=Count("pk"), amount=Sum("paid_amount")
    )
    return PushReport(
        recipients=counts["recipients"],
        processed=counts["processed"],
        delivered=counts["delivered"],
        read=counts["read"],
        clicked=counts["clicked"],
        coupons_issued=counts["coupons"],
        buyers_ordered=orders["buyers"],
        orders=orders["orders"],
        paid_amount=orders["amount"] or 0,
        window_days=window_days,
        channels=_channel_figures(push, counts["delivered"]),
    )
