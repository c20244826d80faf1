"""The webhook outbox: each event reaches each subscribed endpoint at least once, a
delivered row is never sent again by a worker, and every POST is logged.

- `events.emit_many` writes `pending` rows in the caller's transaction; `schedule` queues
  a task after commit. If the task is lost, the sweeper finds the rows once
  `next_attempt_at` has passed.
- A worker claims a row (`sending`, attempt + 1, a deadline) in its own short transaction
  (`core.effects.claim`: a conditional update on a `pending` row), POSTs outside any
  transaction, then records the answer with a conditional update on the claim it made.
  Only a `pending` row can be claimed, so a `succeeded` one is final: a restarted worker,
  a second task or the sweeper never sends it again. A worker killed mid-POST leaves
  `sending` past its deadline; the sweeper hands it back to `pending` and it is sent
  again with the same event id, which the receiver uses to deduplicate.
- A non-2xx answer, a timeout or a refused connection goes back to `pending` after
  `BACKOFF[attempt]` (1 min, 5 min, 30 min, 2 h, 6 h, 12 h, 24 h), then `failed`.
- An endpoint that has not succeeded once since `failing_since` + `DISABLE_AFTER` is
  disabled, its waiting rows cancelled, and the merchant's staff are told (`staff_notice.py`).
- Staff may redeliver any row that is not being sent (a new round of attempts, even after
  success) and send a `ping` to an endpoint.
"""

import http.client
import json
import logging
import ssl
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core import effects
from fenxiao.core.errors import DomainError

from ..errors import EndpointInactive
from ..models import (
    DISABLED_AUTOMATICALLY,
    ENDPOINT_DISABLED,
    FAILED_WITH_DETAIL,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Endpoint,
    Event,
    EventType,
)
from . import signing

logger = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=2)
QUEUE_GRACE = timedelta(minutes=2)
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
DISABLE_AFTER = timedelta(days=1)
SWEEP_CHUNK = 200
SWEEP_LIMIT = 2000


def timeout() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))


def retry_delay(attempts: int) -> timedelta:
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def schedule(event_ids: list[int]) -> None:
    """After the caller's commit, hand the events' pending rows to a worker."""
    from ..tasks import deliver_events

    if event_ids:
        transaction.on_commit(lambda: deliver_events(event_ids))


def deliver_events(event_ids: list[int]) -> None:
    # Only rows never tried in this round: one waiting for its backoff is the sweeper's.
    pending = Delivery.objects.filter(event_id__in=event_ids, status=DeliveryStatus.PENDING, attempts=0)
    for delivery_id in pending.order_by("pk").values_list("pk", flat=True):
        deliver(delivery_id)


def body_of(event: Event) -> bytes:
    """The request body: the same bytes on every attempt of one event."""
    envelope = {
        "id": str(event.event_id),
        "type": event.type,
        "created_at": timezone.localtime(event.created_at).isoformat(),
        "data": event.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def headers_for(event: Event, secret: str, body: bytes, timestamp: str) -> dict[str, str]:
    return {
        "X-Fenxiao-Event": event.type,
        "X-Fenxiao-Event-Id": str(event.event_id),
        "X-Fenxiao-Timestamp": timestamp,
        "X-Fenxiao-Signature": signing.sign(secret, timestamp, body),
    }


def _claim(delivery_id: int, now) -> Delivery | None:
    return effects.claim(
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING),
        now + CLAIM_TIMEOUT,
        status="status",
        processing=DeliveryStatus.SENDING,
        attempts="attempts",
        next_at="next_attempt_at",
    )


def _mine(claimed: Delivery):
    """The row as this worker claimed it: a re-drive since then makes every update a no-op."""
    return Delivery.objects.filter(pk=claimed.pk, status=DeliveryStatus.SENDING, attempts=claimed.attempts)


def deliver(delivery_id: int, *, now=None) -> None:
    """POST one pending row to its endpoint; safe to run any number of times."""
    now = now or timezone.now()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return
    event = Event.objects.get(pk=claimed.event_id)
    endpoint = Endpoint.objects.get(pk=claimed.endpoint_id)
    if not endpoint.is_active and event.type != EventType.PING:
        _mine(claimed).update(
            status=DeliveryStatus.CANCELLED, next_attempt_at=None, last_error=ENDPOINT_DISABLED
        )
        return
    from . import transport

    body = body_of(event)
    started = timezone.now()
    clock = time.monotonic()
    code, excerpt, error = None, "", ""
    try:
        reply = transport.post(
            endpoint.url,
            body,
            headers_for(event, endpoint.secret, body, str(int(time.time()))),
            timeout=timeout(),
        )
        code, excerpt = reply.status, reply.excerpt
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except Exception as exc:  # noqa: BLE001 - any failure is tried again later
        error = _describe(exc)
    duration = int((time.monotonic() - clock) * 1000)
    DeliveryAttempt.objects.create(
        delivery_id=claimed.pk,
        number=claimed.attempts,
        started_at=started,
        response_code=code,
        duration_ms=duration,
        error=error,
        response_excerpt=excerpt,
    )
    finished = timezone.now()
    common = {"last_response_code": code, "last_duration_ms": duration, "last_error": error}
    if not error:
        _mine(claimed).update(
            status=DeliveryStatus.SUCCEEDED, delivered_at=finished, next_attempt_at=None, **common
        )
        Endpoint.objects.filter(pk=endpoint.pk).update(last_success_at=finished, failing_since=None)
        return
    logger.warning("webhook delivery %s attempt %s failed: %s", claimed.pk, claimed.attempts, error)
    # A test push is answered at once in the backend: it is not retried.
    gave_up = claimed.attempts >= MAX_ATTEMPTS or event.type == EventType.PING
    _mine(claimed).update(
        status=DeliveryStatus.FAILED if gave_up else DeliveryStatus.PENDING,
        next_attempt_at=None if gave_up else finished + retry_delay(claimed.attempts),
        **common,
    )
    if event.type == EventType.PING:
        return  # a test push that fails is the merchant testing: it starts no clock
    # The first failure since the last success starts the endpoint's clock.
    Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=started)
    disable_failing(now=finished, endpoint_ids=[endpoint.pk])


# What a failed connection means, in the shop's words; the first class that matches wins,
# so each comes before its bases (RemoteDisconnected is also a ConnectionResetError).
_FAILURES = (
    (ssl.SSLCertVerificationError, gettext_noop("HTTPS 证书校验失败")),
    (ssl.SSLError, gettext_noop("HTTPS 连接失败")),
    (http.client.RemoteDisconnected, gettext_noop("对方未返回响应就断开了连接")),
    (http.client.HTTPException, gettext_noop("对方返回的不是有效的 HTTP 响应")),
    (ConnectionResetError, gettext_noop("连接被对方重置")),
    (OSError, gettext_noop("网络连接失败")),
)


def _describe(exc: Exception) -> str:
    """What went wrong, for staff: our own refusals in Chinese, a failed connection said in
    Chinese with the technical detail after it (for whoever runs the receiver). Stored in
    Chinese; pages read it through `Delivery.last_error_text`."""
    if isinstance(exc, DomainError):
        return exc.message[:300]
    if isinstance(exc, TimeoutError):
        return gettext_noop("请求超时")
    if isinstance(exc, ConnectionRefusedError):
        return gettext_noop("连接被拒绝")
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for kind, words in _FAILURES:
        if isinstance(exc, kind):
            return (FAILED_WITH_DETAIL % {"words": words, "detail": detail})[:300]
    return detail[:300]


def _due(now) -> Q:
    return Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING], next_attempt_at__lte=now)


def sweep(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Disable endpoints failing for a day, then re-drive rows due again or stuck `sending`
    past their deadline, in chunks. Returns how many were queued."""
    from ..tasks import deliver_webhook

    now = now or timezone.now()
    disable_failing(now=now)

    def release(rows) -> list[int]:
        ids = list(rows.values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now + CLAIM_TIMEOUT
        )
        return ids

    return effects.sweep(
        lambda: Delivery.objects.filter(_due(now)),
        limit=limit,
        chunk=SWEEP_CHUNK,
        release=release,
        enqueue=deliver_webhook,
    )


def disable_failing(*, now=None, endpoint_ids: list[int] | None = None) -> list[int]:
    """Disable each active endpoint without a success since `failing_since` + one day: its
    waiting rows are cancelled and staff are told. Returns the ids disabled."""
    from .staff_notice import endpoint_disabled

    now = now or timezone.now()
    failing = Endpoint.objects.filter(is_active=True, failing_since__lte=now - DISABLE_AFTER)
    if endpoint_ids is not None:
        failing = failing.filter(pk__in=endpoint_ids)
    disabled = []
    for endpoint in failing.order_by("pk"):
        reason = DISABLED_AUTOMATICALLY
        with transaction.atomic():
            moved = Endpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
                is_active=False, disabled_reason=reason, disabled_at=now
            )
            if not moved:
                continue  # another worker disabled it first; it told staff
            Delivery.objects.filter(
                endpoint_id=endpoint.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]
            ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None, last_error=ENDPOINT_DISABLED)
            endpoint_disabled(endpoint, reason=reason, at=now)
        disabled.append(endpoint.pk)
    return disabled


def redeliver(delivery: Delivery) -> Delivery:
    """Staff send a row again, a new round of attempts, whatever its status (except while
    a worker is sending it)."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().filter(pk=delivery.pk).first()
        if locked is None:
            raise EndpointInactive(_("投递记录不存在"))
        endpoint = Endpoint.objects.get(pk=locked.endpoint_id)
        if not endpoint.is_active:
            raise EndpointInactive()
        if locked.status == DeliveryStatus.SENDING:
            raise EndpointInactive(_("正在投递中，请稍后再试"), code="WEBHOOK_DELIVERY_BUSY")
        Delivery.objects.filter(pk=locked.pk).update(
            status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=timezone.now() + QUEUE_GRACE
        )
        schedule([locked.event_id])
    locked.refresh_from_db()
    return locked


def ping(endpoint: Endpoint) -> Delivery:
    """测试推送: a `ping` event to this endpoint only, sent at once."""
    with transaction.atomic():
        event = Event.objects.create(
            type=EventType.PING,
            source_key=f"ping:{endpoint.pk}:{uuid.uuid4().hex}",
            payload={"endpoint_id": endpoint.pk, "message": "这是一条测试推送"},
        )
        row = Delivery.objects.create(
            event=event, endpoint=endpoint, next_attempt_at=timezone.now() + QUEUE_GRACE
        )
        schedule([event.pk])
    row.refresh_from_db()
    return row
