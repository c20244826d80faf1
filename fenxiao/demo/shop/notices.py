"""Demo in-site messages dated when their event happened.

The order and after-sale services notify as they act, so every demo message is stamped
with the load time while the orders it is about are backdated (`timeline.rewrite`). Here
each message about an order or an after-sale takes that event's moment, the ones older
than an hour count as read (a real buyer opens their messages), and the demo's push is
moved a little back so its report can show who read and clicked since.
Set-based updates only.
"""

from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper, F, OuterRef, Subquery
from django.utils import timezone

from fenxiao.notices.models import Kind, Message
from fenxiao.orders.models import AfterSale, Order
from fenxiao.promotions.models_push import Push, PushRecipient

# The push went out a little before the load: the message list is ordered by id, and the
# push's messages are the newest ones.
PUSH_AGE = timedelta(hours=2)


def backdate_messages(push: Push) -> None:
    now = timezone.now()
    orders = Order.objects.filter(pk=OuterRef("subject_id"))
    moments = [
        (Kind.ORDER_SHIPPED, Subquery(orders.values("shipped_at")[:1])),
        (Kind.COMMISSION_ARRIVED, Subquery(orders.values("paid_at")[:1])),
        (
            Kind.REFUND_DONE,
            Subquery(AfterSale.objects.filter(pk=OuterRef("subject_id")).values("refunded_at")[:1]),
        ),
    ]
    for kind, moment in moments:
        Message.objects.filter(kind=kind, subject_id__isnull=False).update(created_at=moment)
    Message.objects.filter(created_at__isnull=True).update(created_at=now)  # defensive: no event time

    sent = now - PUSH_AGE
    Push.objects.filter(pk=push.pk).update(
        created_at=sent - timedelta(hours=1), started_at=sent, finished_at=sent, heartbeat_at=sent
    )
    delivered = PushRecipient.objects.filter(push=push).update(processed_at=sent)
    Message.objects.filter(pk__in=PushRecipient.objects.filter(push=push).values("message_id")).update(
        created_at=sent
    )
    read_after = ExpressionWrapper(F("created_at") + timedelta(hours=2), output_field=DateTimeField())
    Message.objects.filter(created_at__lt=now - timedelta(hours=1)).exclude(
        pk__in=_unread_push_messages(push, delivered)
    ).update(read_at=read_after)
    clicked = (
        PushRecipient.objects.filter(push=push).order_by("user_id").values_list("message_id", flat=True)[:1]
    )
    Message.objects.filter(pk__in=list(clicked)).update(
        clicked_at=ExpressionWrapper(F("created_at") + timedelta(hours=3), output_field=DateTimeField())
    )


def _unread_push_messages(push: Push, delivered: int) -> list[int]:
    """Not everybody reads a push: the last recipient (by user id) has not yet."""
    if delivered < 2:
        return []
    return list(
        PushRecipient.objects.filter(push=push).order_by("-user_id").values_list("message_id", flat=True)[:1]
    )
