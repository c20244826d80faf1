"""After-sale deadlines, run by the periodic task: requests the merchant left unanswered are
approved, returns the buyer never shipped back are closed, parcels never confirmed are
received and refunded (`OrderSettings`' day counts)."""

import logging
import time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from fenxiao.core.errors import DomainError, InvalidTransition
from fenxiao.notices.services import events as notices

from ..models import (
    AFTER_SALE_FLOW,
    ActorKind,
    AfterSale,
    AfterSaleLog,
    AfterSaleStatus,
    OrderEvent,
    OrderSettings,
)
from .after_sale_outcome import log_line
from .after_sales import approve, receive
from .events import event_line

logger = logging.getLogger(__name__)

CHUNK_SIZE = 200
SWEEP_BUDGET_SECONDS = 240
CLOSED_MESSAGE = gettext_noop("买家未在期限内寄回商品，售后已自动关闭")
CLOSED_EVENT = gettext_noop("售后 %(after_sale)s 买家未在期限内寄回商品，已自动关闭")


def sweep_deadlines(now=None, *, chunk_size: int | None = None, budget_seconds=SWEEP_BUDGET_SECONDS) -> dict:
    """Act on every after-sale past the deadline of its step; returns how many of each.

    Returns never shipped back are closed a chunk at a time (no money moves: one guarded
    UPDATE, the history and the notices in bulk). An unanswered request is approved and
    an unconfirmed parcel received one after-sale per transaction, as a user's action
    would be, since money may move; each re-reads the status and deadline under the
    order's and the after-sale's locks, so two runs at once never act twice. Ids are taken
    in order after a cursor, so one run passes each due after-sale at most once."""
    now = now or timezone.now()
    size = chunk_size or CHUNK_SIZE
    stop_at = time.monotonic() + budget_seconds
    rules = OrderSettings.current()
    done = {"closed": _close_overdue_returns(now, size, stop_at)}
    done["approved"] = (
        _one_by_one(AfterSaleStatus.REQUESTED, now, size, stop_at, lambda a: approve(a, None, due_at=now))
        if rules.after_sale_respond_days
        else 0
    )
    done["received"] = (
        _one_by_one(
            AfterSaleStatus.RETURN_SHIPPED,
            now,
            size,
            stop_at,
            lambda a: receive(a, None, restock=False, due_at=now),
        )
        if rules.return_receive_days
        else 0
    )
    return done


def _due_ids(status: str, now, after: int, size: int) -> list[int]:
    return list(
        AfterSale.objects.filter(status=status, deadline__lte=now, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)[:size]
    )


def _one_by_one(status: str, now, size: int, stop_at: float, act) -> int:
    after, done = 0, 0
    while time.monotonic() < stop_at:
        ids = _due_ids(status, now, after, size)
        for pk in ids:
            if time.monotonic() >= stop_at:
                return done  # the next run picks the rest up
            after_sale = AfterSale.objects.select_related("order").filter(pk=pk).first()
            if after_sale is None:
                continue
            try:
                act(after_sale)
                done += 1
            except InvalidTransition:
                continue  # acted on meanwhile (staff, the buyer, another run)
            except DomainError as exc:
                logger.warning("after-sale %s deadline not applied: %s", pk, exc.message)
            except Exception:
                # One failing after-sale must not hold up the rest: it waits for the next run.
                logger.exception("after-sale deadline sweep failed on %s", pk)
        if len(ids) < size:
            break
        after = ids[-1]
    return done


def _close_overdue_returns(now, size: int, stop_at: float) -> int:
    AFTER_SALE_FLOW.check(AfterSaleStatus.AWAITING_RETURN, AfterSaleStatus.CLOSED)
    due = AfterSale.objects.filter(status=AfterSaleStatus.AWAITING_RETURN, deadline__lte=now)
    after, done = 0, 0
    while True:
        with transaction.atomic():
            chunk = list(
                due.select_for_update(skip_locked=True)
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", "order_id", flat=False)[:size]
            )
            ids = [pk for pk, _ in chunk]
            if ids:
                closed_at = timezone.now()
                # The rows are locked and the UPDATE repeats the condition: a row a buyer
                # shipped back a moment ago is not closed.
                done += due.filter(pk__in=ids).update(
                    status=AfterSaleStatus.CLOSED, closed_at=closed_at, deadline=None
                )
                closed = list(
                    AfterSale.objects.filter(
                        pk__in=ids, status=AfterSaleStatus.CLOSED, closed_at=closed_at
                    ).values_list("pk", "number", "order_id", "order__number", "order__buyer_id")
                )
                note = log_line(CLOSED_MESSAGE)
                AfterSaleLog.objects.bulk_create(
                    AfterSaleLog(after_sale_id=pk, kind="closed", actor_kind=ActorKind.SYSTEM, **note)
                    for pk, *_ in closed
                )
                OrderEvent.objects.bulk_create(
                    OrderEvent(
                        order_id=order_id,
                        kind="after_sale_closed",
                        actor_kind=ActorKind.SYSTEM,
                        **event_line(CLOSED_EVENT, {"after_sale": number}, after_sale=number),
                    )
                    for _, number, order_id, _, _ in closed
                )
                notices.after_sales_closed(
                    (buyer_id, pk, number, order_number) for pk, number, _, order_number, buyer_id in closed
                )
        if len(chunk) < size or time.monotonic() >= stop_at:
            return done
        after = ids[-1]
