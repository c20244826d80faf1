"""Targeted pushes (定向推送): one message with a product or a coupon to a customer segment.

The invariant: each member of the segment, as it was when the push started, gets at most
one message (and at most the one coupon copy the push hands out), even when the delivery
job is killed midway and run again, or two jobs run at once.

- `start` freezes the audience: one `PushRecipient` per member, written by
  `INSERT … SELECT … ON CONFLICT DO NOTHING` from the segment's member query, a chunk of
  user ids per statement, in the transaction that moves the push to 发送中.
- `deliver_chunk` takes the next chunk of unprocessed recipients (`FOR UPDATE SKIP
  LOCKED` on PostgreSQL; SQLite's write lock serialises jobs), marks them processed,
  issues the coupon copies, writes the messages (`notify_many`, whose `source_key` per
  push and user is a second guard) and moves the push's counters, all in one
  transaction: a job killed before the commit leaves the chunk as it was, one killed after
  leaves it done. A push cancelled meanwhile rolls the chunk back.
- A coupon push issues through `promotions.services.coupons.issue` (its quantity and
  per-buyer limit hold; each chunk is one line of the issuance log). A member who gets no
  copy (limit reached, quantity gone) gets no message either. A coupon switched off or
  expired mid-push stops the push (已取消, with the reason).
- The message center always gets the push; a push may add an SMS (`via_sms`), which goes
  out through the notices outbox (re-driven after a crash like every notice) and only to
  recipients who accept marketing: the others get the in-site message alone, decided chunk
  by chunk so a buyer who just said no is not texted. WeChat template messages are not
  offered: WeChat allows them for service notices only.
- `sweep` re-queues a sending push whose job has shown no progress for `STALE`.
"""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Product
from fenxiao.core.errors import DomainError
from fenxiao.customers.models import Segment
from fenxiao.customers.services import segments
from fenxiao.notices.channels import channels_for
from fenxiao.notices.models import Channel, Kind, Message
from fenxiao.notices.services.inbox import Draft, notify_many

from ..errors import PushEmptySegment, PushInvalid, PushNotFound
from ..models import BuyerCoupon, Coupon, push_note, pushed_audience
from ..models_push import (
    CANCELLED_BY_STAFF,
    PUSH_FLOW,
    Push,
    PushCarries,
    PushRecipient,
    PushStatus,
    coupon_closed_reason,
)
from . import coupons

logger = logging.getLogger(__name__)

CHUNK = 500
# A sending push whose job has not moved it for this long is presumed stranded.
STALE = timedelta(minutes=2)


def source_key(push_id: int, user_id: int) -> str:
    return f"push:{push_id}:{user_id}"


def member_ids(segment: Segment):
    """The segment's members now, as a query of active user ids (never loaded)."""
    return segments.members(segment).filter(is_active=True)


def preview_count(segment: Segment | None) -> int:
    """How many customers a push to `segment` would reach if it started now."""
    return member_ids(segment).count() if segment else 0


def marketing_count(segment: Segment | None) -> int:
    """How many of them an SMS would go to (they accept marketing)."""
    return member_ids(segment).filter(accepts_marketing=True).count() if segment else 0


# The external channels a push may add (see the module's docstring for WeChat).
PUSH_CHANNELS = [Channel.SMS]


def available_channels() -> set[str]:
    """The external channels a push can use now: an adapter is set up that carries pushes
    (a template provider needs a template for 活动推送)."""
    return {channel for channel, _adapter in channels_for(Kind.PUSH, PUSH_CHANNELS)}


def _external(push: Push) -> list[tuple[str, str]]:
    return channels_for(Kind.PUSH, push.external_channels) if push.external_channels else []


# --- drafts -----------------------------------------------------------------------------


def _check(push: Push, now) -> None:
    if not (push.title or "").strip():
        raise PushInvalid(_("请填写推送标题"))
    if not (push.body or "").strip():
        raise PushInvalid(_("请填写推送内容"))
    if push.segment_id is None:
        raise PushInvalid(_("请选择客户分群"))
    if push.carries == PushCarries.PRODUCT:
        push.coupon = None
        if push.product_id is None:
            raise PushInvalid(_("推送商品时请选择商品"))
        if not Product.objects.filter(pk=push.product_id, is_listed=True).exists():
            raise PushInvalid(_("该商品未上架，不能推送"))
    elif push.carries == PushCarries.COUPON:
        push.product = None
        if push.coupon_id is None:
            raise PushInvalid(_("推送优惠券时请选择优惠券"))
        if not Coupon.objects.filter(coupons.available(now), pk=push.coupon_id).exists():
            raise PushInvalid(_("该优惠券已停用、已过期或已发完，不能推送"))
    else:
        raise PushInvalid(_("请选择推送内容：商品或优惠券"))
    available = available_channels()
    for name in push.external_channels:
        if name not in available:
            raise PushInvalid(
                _("%(channel)s通道未开通或没有“活动推送”模板，请取消勾选后再保存")
                % {"channel": Channel(name).label}
            )


@transaction.atomic
def save_draft(push: Push, staff, now=None) -> Push:
    """Create or edit a push; only a draft may change."""
    now = now or timezone.now()
    if push.pk:
        before = Push.objects.select_for_update().filter(pk=push.pk).first()
        if before is None:
            raise PushNotFound()
        if before.status != PushStatus.DRAFT:
            raise PushInvalid(_("推送已开始发送或已取消，不能修改"))
        push.status = before.status
    else:
        push.status = PushStatus.DRAFT
        push.created_by = staff
    _check(push, now)
    push.total = push.processed = push.coupons_issued = 0
    push.save()
    return push


# --- starting: the audience is frozen ----------------------------------------------------


def _insert_recipients(push: Push) -> int:
    """One recipient row per member, a chunk of ids per INSERT … SELECT; returns the total."""
    members = member_ids(push.segment)
    table = PushRecipient._meta.db_table
    qn = connection.ops.quote_name
    after = 0
    while True:
        window = members.filter(pk__gt=after).order_by("pk")
        bound = window.values_list("pk", flat=True)[CHUNK - 1 : CHUNK].first()
        chunk = window.filter(pk__lte=bound) if bound is not None else window
        sql, params = chunk.values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            # `WHERE true` lets SQLite parse ON CONFLICT after a SELECT.
            cursor.execute(
                f"INSERT INTO {qn(table)} ({qn('push_id')}, {qn('user_id')}, {qn('got_coupon')}) "  # noqa: S608 - quoted identifiers and the ORM's own SQL
                f"SELECT %s, m.*, %s FROM ({sql}) m WHERE true ON CONFLICT DO NOTHING",
                [push.pk, False, *params],
            )
        if bound is None:
            break
        after = bound
    return PushRecipient.objects.filter(push=push).count()


def start(push: Push, staff, now=None) -> Push:
    """开始发送: freeze the segment's members as recipients and queue the delivery job."""
    now = now or timezone.now()
    with transaction.atomic():
        push = Push.objects.select_for_update().select_related("segment").filter(pk=push.pk).first()
        if push is None:
            raise PushNotFound()
        PUSH_FLOW.check(push.status, PushStatus.SENDING)
        _check(push, now)
        PUSH_FLOW.move(push, PushStatus.SENDING, started_at=now, sent_by=staff, heartbeat_at=now)
        total = _insert_recipients(push)
        if not total:
            raise PushEmptySegment()  # rolls the push back to its draft
        Push.objects.filter(pk=push.pk).update(total=total)
        push.total = total
        transaction.on_commit(lambda: _enqueue(push.pk))
    return push


def _enqueue(push_id: int) -> None:
    from ..tasks import deliver_push

    deliver_push(push_id)


@transaction.atomic
def cancel(push: Push, staff, now=None, *, reason: str = "") -> Push:
    """取消: a draft is dropped; a sending push stops after the chunk in flight."""
    now = now or timezone.now()
    push = Push.objects.select_for_update().filter(pk=push.pk).first()
    if push is None:
        raise PushNotFound()
    PUSH_FLOW.move(push, PushStatus.CANCELLED, cancelled_at=now, stop_reason=reason or CANCELLED_BY_STAFF)
    return push


# --- delivering ---------------------------------------------------------------------------


class _Stop(Exception):
    """Roll the chunk back: the push is no longer sending."""


class _CouponClosed(Exception):
    """Roll the chunk back, then stop the push: its coupon can no longer be handed out."""


def _drafts(push: Push, user_ids: list[int]) -> list[Draft]:
    if push.carries == PushCarries.PRODUCT:
        link = reverse("storefront:product", args=[push.product_id])
    else:
        link = reverse("storefront:my_coupons")
    return [
        Draft(
            user_id=uid,
            title=push.title,
            body=push.body,
            source_key=source_key(push.pk, uid),
            link=link,
            subject_type="push",
            subject_id=push.pk,
        )
        for uid in user_ids
    ]


def _notify(push: Push, user_ids: list[int]) -> None:
    """The chunk's messages: on the push's external channels for those who accept
    marketing, in the message center alone for the rest (two writes at most)."""
    external = _external(push)
    declined = set()
    if external:
        declined = set(
            get_user_model()
            .objects.filter(pk__in=user_ids, accepts_marketing=False)
            .values_list("pk", flat=True)
        )
    accepting = [uid for uid in user_ids if uid not in declined]
    if accepting:
        notify_many(Kind.PUSH, _drafts(push, accepting), channels=external)
    if declined:
        notify_many(Kind.PUSH, _drafts(push, sorted(declined)), channels=[])


def _issue(push: Push, user_ids: list[int], now) -> set[int]:
    """The chunk's coupon copies; the ids of the members who got one."""
    try:
        # A refusal here becomes the push's 取消原因, which the row keeps in Chinese
        # whatever the language of the request that happens to run the job.
        with translation.override("zh-hans"):
            log = coupons.issue(
                push.coupon,
                user_ids,
                push.sent_by,
                audience=pushed_audience(push.title),
                note=push_note(push.pk),
                now=now,
            )
    except DomainError as exc:
        # The coupon was switched off or expired after the push started.
        raise _CouponClosed(exc.message) from exc
    if not log.issued:
        return set()
    return set(BuyerCoupon.objects.filter(issue=log).values_list("buyer_id", flat=True))


def deliver_chunk(push_id: int, now=None) -> int:
    """Deliver the next chunk of the push; returns how many recipients it handled (0 when
    the push is finished, cancelled, or another job holds every remaining chunk)."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            push = (
                Push.objects.filter(pk=push_id, status=PushStatus.SENDING)
                .select_related("coupon", "sent_by")
                .first()
            )
            if push is None:
                return 0
            rows = list(
                PushRecipient.objects.filter(push_id=push_id, processed_at__isnull=True)
                .order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", "user_id")[:CHUNK]
            )
            if not rows:
                # Nothing this job can take. Rows another job holds right now are not done:
                # that job finishes the push after its last chunk commits.
                if not PushRecipient.objects.filter(push_id=push_id, processed_at__isnull=True).exists():
                    _finish(push_id, now)
                return 0
            ids = [pk for pk, _ in rows]
            user_ids = [uid for _, uid in rows]
            if PushRecipient.objects.filter(pk__in=ids, processed_at__isnull=True).update(
                processed_at=now
            ) != len(ids):
                raise _Stop  # another job got there first (cannot happen under the locks; be safe)
            got = set(user_ids)
            if push.carries == PushCarries.COUPON:
                got = _issue(push, user_ids, now)
                if got:
                    PushRecipient.objects.filter(pk__in=ids, user_id__in=got).update(got_coupon=True)
            if got:
                _notify(push, sorted(got))
                PushRecipient.objects.filter(pk__in=ids, user_id__in=got).update(
                    message=Subquery(
                        Message.objects.filter(
                            source_key=Concat(
                                Value(f"push:{push_id}:"),
                                Cast(OuterRef("user_id"), CharField()),
                                output_field=CharField(),
                            )
                        ).values("pk")[:1]
                    )
                )
            moved = Push.objects.filter(pk=push_id, status=PushStatus.SENDING).update(
                processed=F("processed") + len(ids),
                coupons_issued=F("coupons_issued") + (len(got) if push.carries == PushCarries.COUPON else 0),
                heartbeat_at=now,
            )
            if not moved:
                raise _Stop  # cancelled while this chunk was being written
            return len(ids)
    except _Stop:
        return 0
    except _CouponClosed as closed:
        Push.objects.filter(pk=push_id, status=PushStatus.SENDING).update(
            status=PushStatus.CANCELLED, cancelled_at=now, stop_reason=coupon_closed_reason(str(closed))
        )
        return 0


def _finish(push_id: int, now) -> None:
    Push.objects.filter(pk=push_id, status=PushStatus.SENDING).update(
        status=PushStatus.DONE, finished_at=now, heartbeat_at=now
    )


def deliver(push_id: int, *, max_chunks: int | None = None) -> int:
    """The delivery job: chunks until the push is done (or `max_chunks`, for tests that
    stop a job midway). Returns how many recipients this run handled."""
    handled, chunks = 0, 0
    while max_chunks is None or chunks < max_chunks:
        n = deliver_chunk(push_id)
        if not n:
            break
        handled += n
        chunks += 1
    return handled


def sweep(now=None) -> list[int]:
    """Re-queue every sending push whose job has shown no progress for `STALE`. Claiming it
    moves its heartbeat, so the next sweep leaves the new job alone for a while."""
    now = now or timezone.now()
    stale = list(
        Push.objects.filter(status=PushStatus.SENDING, heartbeat_at__lt=now - STALE).values_list(
            "pk", flat=True
        )[:100]
    )
    queued = []
    for push_id in stale:
        if Push.objects.filter(pk=push_id, status=PushStatus.SENDING, heartbeat_at__lt=now - STALE).update(
            heartbeat_at=now
        ):
            queued.append(push_id)
            _enqueue(push_id)
    if queued:
        logger.info("push sweep: re-queued %s", queued)
    return queued
