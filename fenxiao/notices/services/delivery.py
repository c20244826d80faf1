"""The notification outbox: each message reaches each of its external channels at least
once, and a sent row is never sent again.

- `inbox.notify_many` writes the rows (`pending`) in the caller's transaction and
  `schedule` queues one task per chunk after commit. If the queueing is lost, the
  sweeper finds the rows once `next_attempt_at` has passed.
- A worker claims a row (`processing`, attempt + 1, a deadline) in its own short
  transaction (`core.effects.claim`), calls the adapter outside any transaction, then
  records the answer with a conditional update on the claim it made. Only a `pending` row
  can be claimed, so a `sent` one is final; a worker killed mid-call leaves `processing`
  past its deadline, which the sweeper hands back to `pending` (the adapter gets the row's
  reference again, so a provider that deduplicates sends once).
- A send that fails goes back to `pending` with a backoff, until `MAX_ATTEMPTS`; then it
  is `failed`, and staff may send it again from the backend (`retry`).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fenxiao.core import effects

from ..channels import Notice, adapter_for
from ..errors import DeliveryNotRetryable
from ..models import RETRYABLE, Delivery, DeliveryStatus, Message

logger = logging.getLogger(__name__)

# How long a worker may hold a claimed row before it is presumed dead.
CLAIM_TIMEOUT = timedelta(minutes=2)
# A freshly queued row is handed over at once; the sweeper only steps in after this.
QUEUE_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 5
SWEEP_CHUNK = 200
SWEEP_LIMIT = 2000


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a failed send: 30 s, 1 min, 2 min … capped at 1 hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def schedule(message_ids: list[int]) -> None:
    """After the caller's commit, hand the messages' pending rows to a worker."""
    from ..tasks import deliver_messages

    if message_ids:
        transaction.on_commit(lambda: deliver_messages(message_ids))


def deliver_messages(message_ids: list[int]) -> None:
    pending = Delivery.objects.filter(message_id__in=message_ids, status=DeliveryStatus.PENDING)
    for delivery_id in pending.order_by("pk").values_list("pk", flat=True):
        deliver(delivery_id)


def _claim(delivery_id: int, now) -> Delivery | None:
    return effects.claim(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts__lt=MAX_ATTEMPTS),
        now + CLAIM_TIMEOUT,
        status="status",
        processing=DeliveryStatus.PROCESSING,
        attempts="attempts",
        next_at="next_attempt_at",
    )


def _mine(claimed: Delivery):
    """The row as this worker claimed it: a re-drive since then makes every update a no-op."""
    return Delivery.objects.filter(pk=claimed.pk, status=DeliveryStatus.PROCESSING, attempts=claimed.attempts)


def deliver(delivery_id: int, *, now=None) -> None:
    """Send one queued row through its adapter; safe to run any number of times."""
    now = now or timezone.now()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return
    message = Message.objects.select_related("user").get(pk=claimed.message_id)
    notice = Notice(
        title=message.title,
        body=message.body,
        link=message.link,
        kind=message.kind,
        created_at=message.created_at,
    )
    try:
        adapter = adapter_for(claimed.channel, claimed.adapter)
        address = adapter.address(message.user)
        if not address:
            _mine(claimed).update(status=DeliveryStatus.FAILED, last_error="该用户在此渠道没有接收地址")
            return
        content = adapter.render(notice)
        adapter.send(address=address, notice=notice, reference=f"notice-{claimed.pk}")
    except Exception as exc:  # noqa: BLE001 - any failure is tried again later
        logger.warning("notice delivery %s attempt %s failed: %r", claimed.pk, claimed.attempts, exc)
        gave_up = claimed.attempts >= MAX_ATTEMPTS or getattr(exc, "permanent", False)
        _mine(claimed).update(
            status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
            last_error=f"{exc}"[:300] or type(exc).__name__,
            next_attempt_at=None if gave_up else timezone.now() + retry_delay(claimed.attempts),
        )
        return
    _mine(claimed).update(
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        recipient=address[:64],
        content=content[:600],
        last_error="",
        next_attempt_at=None,
    )


def _due(now) -> Q:
    return Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.PROCESSING], next_attempt_at__lte=now)


def sweep(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive rows due again or stuck `processing` past their deadline, in chunks; a row
    whose attempts are used up is given up as `failed`. Returns how many were queued."""
    from ..tasks import deliver_notice

    now = now or timezone.now()

    def release(rows) -> list[int]:
        held = list(rows.values_list("pk", "attempts"))
        spent = [pk for pk, attempts in held if attempts >= MAX_ATTEMPTS]
        again = [pk for pk, attempts in held if attempts < MAX_ATTEMPTS]
        Delivery.objects.filter(pk__in=spent).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="发送次数已用完"
        )
        Delivery.objects.filter(pk__in=again).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now + CLAIM_TIMEOUT
        )
        return again

    return effects.sweep(
        lambda: Delivery.objects.filter(_due(now)),
        limit=limit,
        chunk=SWEEP_CHUNK,
        release=release,
        enqueue=deliver_notice,
    )


def retry(delivery: Delivery) -> Delivery:
    """Staff send a failed (or still waiting) row again, with a fresh set of attempts."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if locked is None or locked.status not in RETRYABLE:
            raise DeliveryNotRetryable()
        Delivery.objects.filter(pk=locked.pk).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=timezone.now() + QUEUE_GRACE,
            last_error="",
        )
        schedule([locked.message_id])
    locked.refresh_from_db()
    return locked
