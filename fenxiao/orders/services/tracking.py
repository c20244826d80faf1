"""Parcel tracking: subscribing each parcel at the tracking service, and the trail it
pushes back.

Subscriptions are sent at least once and count once. The row is written with the parcel
(`subscribe_later`), a task sends it after commit, and `sweep_subscriptions` re-drives any
row still pending (or held by a worker that died) past its deadline; the provider's
subscribe is idempotent on the waybill and callback URL.

Pushes are applied once, however often they come. A push is accepted only when signed
with the subscription's own salt; its trail lines are stored under a unique key (parcel,
time, digest of state and text), so a line seen twice is one row, and the parcel's state is
always that of its newest line, so a replayed old push never moves a parcel back.

Signed for, and the auto-complete countdown. When the last parcel of an 已发货 order is
signed for, the order is confirmed for the buyer `signed_auto_complete_days` after the
latest signing, unless the countdown from shipping (`auto_complete_days` after shipment,
set when the order shipped) ends earlier: `auto_complete_at = min(ship-time deadline,
last signed_at + N days)`. A signing can only bring the date forward; with no signing
ever reported the ship-time countdown stands.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core import effects
from fenxiao.core.errors import InvalidTransition

from ..errors import TrackingPushMalformed, TrackingSubscriptionNotFound
from ..logistics import active_provider, get_provider
from ..models import (
    ActorKind,
    Order,
    OrderSettings,
    OrderStatus,
    Parcel,
    SubscriptionStatus,
    TrackingEvent,
    TrackingState,
    TrackingSubscription,
)
from .events import carrier_arg, log_event

logger = logging.getLogger(__name__)

SEND_TIMEOUT = timedelta(minutes=2)
MAX_ATTEMPTS = 8
SWEEP_CHUNK = 100
SWEEP_LIMIT = 1000
# States worth a line in the order log (the rest show on the trail only).
LOGGED_STATES = {TrackingState.SIGNED, TrackingState.PROBLEM, TrackingState.RETURNED}


# --- subscriptions (an outbox) ---------------------------------------------------------------


def callback_url(subscription: TrackingSubscription) -> str:
    return settings.SITE_URL + reverse(
        "api:logistics_callback", args=[subscription.provider, subscription.pk]
    )


def subscribe_later(parcel: Parcel) -> TrackingSubscription | None:
    """Inside the shipping transaction: the parcel's subscription row, sent after commit.
    None when no tracking service is configured (the parcel ships without a trail)."""
    made = subscribe_many_later([parcel])
    return made[0] if made else None


def subscribe_many_later(parcels: list[Parcel]) -> list[TrackingSubscription]:
    """`subscribe_later` for many parcels (a batch shipment's chunk), in one insert."""
    provider = active_provider()
    if provider is None or not parcels:
        return []
    due = timezone.now() + SEND_TIMEOUT
    made = TrackingSubscription.objects.bulk_create(
        TrackingSubscription(
            parcel=parcel, provider=provider.name, salt=secrets.token_urlsafe(32), next_attempt_at=due
        )
        for parcel in parcels
    )
    for subscription in made:
        transaction.on_commit(lambda pk=subscription.pk: _enqueue(pk))
    return made


def _enqueue(subscription_id: int) -> None:
    from ..tasks import send_tracking_subscription

    send_tracking_subscription(subscription_id)


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2 min, 4 min … capped at an hour between tries."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def send_subscription(subscription_id: int, *, now=None) -> bool:
    """One try at subscribing. True once the service accepted it."""
    now = now or timezone.now()
    sub = effects.claim(
        TrackingSubscription.objects.filter(pk=subscription_id, status=SubscriptionStatus.PENDING),
        now + SEND_TIMEOUT,
        status="status",
        processing=SubscriptionStatus.SENDING,
        attempts="attempts",
        next_at="next_attempt_at",
    )
    if sub is None:
        return False
    mine = TrackingSubscription.objects.filter(
        pk=sub.pk, status=SubscriptionStatus.SENDING, attempts=sub.attempts
    )
    provider = get_provider(sub.provider)
    parcel = Parcel.objects.select_related("order").get(pk=sub.parcel_id)
    if provider is None:
        mine.update(status=SubscriptionStatus.FAILED, last_error="物流服务未启用", next_attempt_at=None)
        return False
    try:
        result = provider.subscribe(
            carrier=parcel.carrier,
            number=parcel.tracking_number,
            callback_url=callback_url(sub),
            salt=sub.salt,
            destination=parcel.order.city,
            phone=parcel.order.recipient_phone,
        )
    except Exception as exc:  # the service is unreachable: try again later
        logger.warning("tracking subscription %s failed: %s", sub.pk, exc)
        result = None
        error = f"{type(exc).__name__}: {exc}"[:300]
    if result is not None and result.accepted:
        mine.update(status=SubscriptionStatus.SUBSCRIBED, subscribed_at=timezone.now(), next_attempt_at=None)
        return True
    if result is not None:
        error = result.message[:300] or "订阅被拒绝"
    if (result is not None and not result.retryable) or sub.attempts >= MAX_ATTEMPTS:
        mine.update(status=SubscriptionStatus.FAILED, last_error=error, next_attempt_at=None)
    else:
        mine.update(
            status=SubscriptionStatus.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + retry_delay(sub.attempts),
        )
    return False


def _due(now):
    return TrackingSubscription.objects.filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True),
        status__in=[SubscriptionStatus.PENDING, SubscriptionStatus.SENDING],
    )


def sweep_subscriptions(now=None, *, limit: int = SWEEP_LIMIT) -> int:
    """Re-drive subscriptions due for another try, or held past their deadline by a
    worker that died. Returns how many were queued."""
    now = now or timezone.now()

    def release(rows) -> list[int]:
        ids = list(rows.values_list("pk", flat=True))
        TrackingSubscription.objects.filter(pk__in=ids).update(
            status=SubscriptionStatus.PENDING, next_attempt_at=now + SEND_TIMEOUT
        )
        return ids

    return effects.sweep(lambda: _due(now), limit=limit, chunk=SWEEP_CHUNK, release=release, enqueue=_enqueue)


def retry_subscription(subscription: TrackingSubscription) -> TrackingSubscription:
    """Staff send a failed, stopped (the waybill checked) or stuck subscription again."""
    with transaction.atomic():
        locked = TrackingSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
        if locked is None or locked.status == SubscriptionStatus.SUBSCRIBED:
            raise InvalidTransition(_("物流订阅已成功，无需重试"), code="SUBSCRIPTION_NOT_RETRYABLE")
        changes = {"status": SubscriptionStatus.PENDING, "next_attempt_at": timezone.now() + SEND_TIMEOUT}
        if locked.status == SubscriptionStatus.STOPPED:
            # A new signing key: a push captured before the stop (the stop itself
            # included) can never be replayed against the new subscription.
            changes["salt"] = secrets.token_urlsafe(32)
        TrackingSubscription.objects.filter(pk=locked.pk).update(**changes)
        locked.status = SubscriptionStatus.PENDING
        transaction.on_commit(lambda: _enqueue(locked.pk))
    return locked


# --- pushes ---------------------------------------------------------------------------------


def _digest(state: str, context: str) -> str:
    return hashlib.sha256(f"{state}\n{context}".encode()).hexdigest()


def record_push(provider_name: str, subscription_id: int, form: dict[str, str]) -> int:
    """Verify and apply one push. Returns how many new trail lines it brought.

    One waybill may carry the parcels of several orders (合并发货). Kuaidi100 keeps one
    subscription per waybill (another is answered 501, "already subscribed") and pushes
    to the first one's callback only, so a verified push is every such parcel's trail."""
    provider = get_provider(provider_name)
    sub = TrackingSubscription.objects.filter(pk=subscription_id, provider=provider_name).first()
    if provider is None or sub is None:
        raise TrackingSubscriptionNotFound()
    push = provider.parse_push(form, sub.salt)  # raises on a bad signature: nothing stored
    subscribed = Parcel.objects.get(pk=sub.parcel_id)
    # The service may correct the carrier it was given (Kuaidi100's autoCheck): the push then
    # names the old one as well.
    if push.number.upper() != subscribed.tracking_number.upper() or subscribed.carrier not in (
        push.carrier,
        push.previous_carrier,
    ):
        raise TrackingPushMalformed(_("推送的运单与订阅不一致"), code="TRACKING_WAYBILL_MISMATCH")
    sharing = list(
        Parcel.objects.filter(carrier=subscribed.carrier, tracking_number=subscribed.tracking_number)
        .order_by("order_id", "pk")
        .values_list("pk", flat=True)
    )
    added = 0
    for parcel_id in sharing:
        added += _record_trail(parcel_id, push)
    if push.stopped:
        # The service follows the waybill no more: every parcel under it shows why, and
        # staff may subscribe again. A subscription being (re)sent is left to its answer.
        TrackingSubscription.objects.filter(
            parcel_id__in=sharing, status__in=[SubscriptionStatus.SUBSCRIBED, SubscriptionStatus.FAILED]
        ).update(
            status=SubscriptionStatus.STOPPED,
            last_error=f"已停止跟踪：{push.stopped}"[:300],
            next_attempt_at=None,
        )
    else:
        # A push proves the service has the subscription, whatever our outbox thought (the
        # status is tested in the statement, so a stop handled meanwhile stands). A stopped
        # one stays stopped: the service pushes nothing after a stop, so such a push is an
        # older one arriving late.
        TrackingSubscription.objects.filter(
            pk=sub.pk,
            status__in=[SubscriptionStatus.PENDING, SubscriptionStatus.SENDING, SubscriptionStatus.FAILED],
        ).update(status=SubscriptionStatus.SUBSCRIBED, subscribed_at=timezone.now(), next_attempt_at=None)
        if sub.status == SubscriptionStatus.SUBSCRIBED:
            # Followed again after a stop (this subscription was re-sent, with a new salt):
            # the other parcels under the waybill are followed again too.
            TrackingSubscription.objects.filter(
                parcel_id__in=sharing, status=SubscriptionStatus.STOPPED
            ).exclude(pk=sub.pk).update(status=SubscriptionStatus.SUBSCRIBED, last_error="")
    return added


def _record_trail(parcel_id: int, push) -> int:
    """Store the push's lines on one parcel (once each) and move the parcel on."""
    with transaction.atomic():
        parcel = Parcel.objects.select_related("order").get(pk=parcel_id)
        # Lock order first, as shipping does, so "every parcel signed" is read consistently.
        order = Order.objects.select_for_update().get(pk=parcel.order_id)
        parcel = Parcel.objects.select_for_update().get(pk=parcel.pk)
        before = TrackingEvent.objects.filter(parcel=parcel).count()
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    parcel=parcel,
                    occurred_at=line.occurred_at,
                    state=line.state,
                    context=line.context,
                    location=line.location,
                    digest=_digest(line.state, line.context),
                )
                for line in push.lines
            ],
            ignore_conflicts=True,
        )
        added = TrackingEvent.objects.filter(parcel=parcel).count() - before
        if added:
            _update_parcel(order, parcel)
    return added


def _update_parcel(order: Order, parcel: Parcel) -> None:
    newest = TrackingEvent.objects.filter(parcel=parcel).order_by("-occurred_at", "-id").first()
    first_signed = (
        TrackingEvent.objects.filter(parcel=parcel, state=TrackingState.SIGNED)
        .order_by("occurred_at")
        .first()
    )
    state = newest.state
    signed_at = first_signed.occurred_at if first_signed else None
    if state == parcel.tracking_state and signed_at == parcel.signed_at:
        return
    was_signed = parcel.signed_at is not None
    old_state = parcel.tracking_state
    Parcel.objects.filter(pk=parcel.pk).update(
        tracking_state=state, tracking_updated_at=timezone.now(), signed_at=signed_at
    )
    parcel.tracking_state, parcel.signed_at = state, signed_at
    if signed_at and not was_signed:
        _signed_for(order, parcel)
    elif state != old_state and state in LOGGED_STATES and state != TrackingState.SIGNED:
        log_event(
            order,
            "parcel_" + state,
            ActorKind.SYSTEM,
            gettext_noop("包裹 %(carrier)s %(tracking_number)s：%(state)s，%(context)s"),
            # The carrier's own words stay as it wrote them.
            args={**_parcel_args(parcel), "state": {"tracking_state": state}, "context": newest.context},
            parcel_id=parcel.pk,
        )


def _parcel_args(parcel: Parcel) -> dict:
    return {"carrier": carrier_arg(parcel.carrier), "tracking_number": parcel.tracking_number}


def _signed_for(order: Order, parcel: Parcel) -> None:
    """A parcel was signed for; when it was the last one of a shipped order, the
    auto-complete countdown starts from the signing (see the module docstring)."""
    template, args = gettext_noop("包裹 %(carrier)s %(tracking_number)s 已签收"), _parcel_args(parcel)
    data = {"parcel_id": parcel.pk, "signed_at": parcel.signed_at.isoformat()}
    unsigned = Parcel.objects.filter(order=order, signed_at__isnull=True).exclude(pk=parcel.pk).exists()
    if order.status == OrderStatus.SHIPPED and not unsigned:
        last_signed = max(
            Parcel.objects.filter(order=order).exclude(pk=parcel.pk).values_list("signed_at", flat=True),
            default=parcel.signed_at,
        )
        last_signed = max(last_signed, parcel.signed_at)
        days = OrderSettings.current().signed_auto_complete_days
        candidate = last_signed + timedelta(days=days)
        if order.auto_complete_at is None or candidate < order.auto_complete_at:
            Order.objects.filter(pk=order.pk, status=OrderStatus.SHIPPED).update(auto_complete_at=candidate)
            order.auto_complete_at = candidate
        local = timezone.localtime(order.auto_complete_at)
        template = gettext_noop(
            "包裹 %(carrier)s %(tracking_number)s 已签收，全部包裹已签收，将于 %(when)s 自动确认收货"
        )
        args["when"] = f"{local:%m-%d %H:%M}"
        data["auto_complete_at"] = order.auto_complete_at.isoformat()
    log_event(order, "parcel_signed", ActorKind.SYSTEM, template, args=args, **data)
