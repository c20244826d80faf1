"""When each demo order's events happened.

Services stamp every record with the current time, and a shop whose orders were all
placed in the same second looks fake. Each demo order carries a `Story`: the moment of
each of its events, stepped forward from a start in the past. Once the order is built,
`rewrite` moves its records to those moments. Demo data only: real orders are never
rewritten.
"""

from datetime import datetime, timedelta
from random import Random

from fenxiao.orders.models import AfterSale, AfterSaleLog, Order, OrderEvent, OrderSettings
from fenxiao.payments.models import Payment, PaymentStatus, Refund, SandboxTrade

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


class Story:
    def __init__(self, start: datetime, rng: Random):
        self.clock = start
        self.rng = rng
        self.moments: dict[tuple[str, str], datetime] = {}

    def mark(self, kind: str, after: tuple[float, float] = (0, 0), after_sale: str = "") -> None:
        """Event `kind` happened between after[0] and after[1] seconds after the last one."""
        self.clock += timedelta(seconds=self.rng.uniform(*after))
        self.moments[(kind, after_sale)] = self.clock

    def at(self, kind: str, after_sale: str = "") -> datetime | None:
        return self.moments.get((kind, after_sale))

    def of_event(self, event: OrderEvent) -> datetime:
        """When a logged event happened; one logged without its after-sale's number
        (a rejection) is matched by kind, which is unambiguous within one demo order."""
        key = (event.kind, event.data.get("after_sale", ""))
        if key in self.moments:
            return self.moments[key]
        [moment] = [when for (kind, _), when in self.moments.items() if kind == event.kind]
        return moment


def rewrite(order: Order, story: Story, settings: OrderSettings) -> None:
    created, paid, shipped = story.at("created"), story.at("paid"), story.at("shipped")
    fields = {
        "created_at": created,
        "pay_deadline": created + timedelta(minutes=settings.payment_timeout_minutes),
        "paid_at": paid,
        "shipped_at": shipped,
        "completed_at": story.at("completed"),
        "cancelled_at": story.at("cancelled"),
    }
    if shipped:
        fields["auto_complete_at"] = shipped + timedelta(days=settings.auto_complete_days)
    Order.objects.filter(pk=order.pk).update(**fields)
    for event in order.events.all():
        OrderEvent.objects.filter(pk=event.pk).update(created_at=story.of_event(event))
    _rewrite_payments(order, created, paid)
    for sale in order.after_sales.all():
        _rewrite_after_sale(sale, story)


def _rewrite_payments(order: Order, created: datetime, paid: datetime | None) -> None:
    opened = paid - timedelta(minutes=1) if paid else created + timedelta(minutes=1)
    numbers = list(order.payments.values_list("out_trade_no", flat=True))
    Payment.objects.filter(order=order).update(created_at=opened)
    Payment.objects.filter(order=order, status=PaymentStatus.SUCCEEDED).update(paid_at=paid)
    SandboxTrade.objects.filter(out_trade_no__in=numbers).update(created_at=opened)
    SandboxTrade.objects.filter(out_trade_no__in=numbers, paid_at__isnull=False).update(paid_at=paid)


def _rewrite_after_sale(sale: AfterSale, story: Story) -> None:
    decided = story.at("after_sale_approved", sale.number) or story.at("after_sale_rejected", sale.number)
    refunded = story.at("refunded", sale.number)
    AfterSale.objects.filter(pk=sale.pk).update(
        created_at=story.at("after_sale_requested", sale.number), decided_at=decided, refunded_at=refunded
    )
    if decided:
        refund_started = story.at("after_sale_received", sale.number) or decided
        Refund.objects.filter(after_sale=sale).update(created_at=refund_started, completed_at=refunded)
    for log in sale.logs.all():
        when = story.at(LOG_MOMENTS.get(log.kind, ""), sale.number)
        if when:
            AfterSaleLog.objects.filter(pk=log.pk).update(created_at=when)


# The after-sale history's steps, by the order events that tell the same moment.
LOG_MOMENTS = {
    "requested": "after_sale_requested",
    "approved": "after_sale_approved",
    "rejected": "after_sale_rejected",
    "shipped_back": "after_sale_shipped_back",
    "received": "after_sale_received",
    "refunded": "refunded",
}
