"""The periodic sweeps over many orders: unpaid orders past their payment deadline are
cancelled, shipped orders past their auto-complete time are completed.

Set-based, a chunk at a time: each chunk is one transaction with a fixed handful of
statements (lock the chunk, one guarded UPDATE, one bulk insert of events, one stock or
commission statement), whatever its size. Only what moves money or creates a record
per person stays per row, inside the chunk: store credit returned on part-wallet orders
(one ledger entry each) and, in 满足条件 mode, buyers measured for becoming distributors.
Orders with a payment open at a gateway are closed there one by one, after the chunk
has committed. A chunk of cancellations that fails is rolled back and done again one
order per transaction, so one order that cannot be cancelled waits alone (logged) for the
next run instead of holding up every other order for ever.

Chunks are taken in id order after the last one (a keyset cursor, served by the partial
indexes on Order), so a run passes over each due order at most once and a row it could
not handle (locked by a buyer paying right now, a gateway that failed) waits for the
next run instead of being retried in a loop. A run stops when the backlog is drained or
its time budget is spent, so it never overlaps the next one for long; if it does, the
rows the other run holds are skipped (`skip_locked`), not waited for.
"""

import logging
import time

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.catalog.services.stock import restore_stock_in_order
from fenxiao.core.errors import InvalidTransition
from fenxiao.webhooks.services import events as webhooks

from ..models import ORDER_FLOW, ActorKind, Order, OrderEvent, OrderLine, OrderStatus
from . import hooks, payments_port, stores_port, tenders
from .events import event_line, text_arg

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# The timeout sweep runs every minute, the auto-complete sweep every ten: each stops taking
# new chunks once its budget is spent, the rest of the backlog is the next run's.
CANCEL_BUDGET_SECONDS = 45
COMPLETE_BUDGET_SECONDS = 240

TIMEOUT_REASON = gettext_noop("超时未付款，系统自动取消")
AUTO_COMPLETE_MESSAGE = gettext_noop("发货后到期，系统自动确认收货")
CANCELLED_MESSAGE = gettext_noop("订单已取消：%(reason)s")


def _chunks(
    due, budget_seconds: float, chunk_size: int | None, handle, then=None, *, one_by_one_on_failure=False
) -> int:
    """Call `handle(locked_orders)` per chunk of `due`, each in its own transaction, and
    then `then()` once it has committed, until the backlog is drained or the budget is
    spent; returns the sum of what they returned. With `one_by_one_on_failure`, a chunk
    whose `handle` fails is rolled back and handled again one order per transaction: the
    order that fails is logged and skipped, the others go through."""
    size = chunk_size or CHUNK_SIZE
    stop_at = time.monotonic() + budget_seconds
    after, done = 0, 0
    while True:
        chunk = []
        try:
            with transaction.atomic():
                chunk = list(
                    due.select_for_update(skip_locked=True).filter(pk__gt=after).order_by("pk")[:size]
                )
                if chunk:
                    done += handle(chunk)
        except Exception:
            if not (one_by_one_on_failure and chunk):
                raise
            logger.exception("sweep: a chunk of %s orders failed, handling them one by one", len(chunk))
            done += _one_by_one(due, chunk, handle)
        if then is not None:
            done += then(stop_at)
        if len(chunk) < size or time.monotonic() >= stop_at:
            return done
        after = chunk[-1].pk


def _one_by_one(due, chunk: list[Order], handle) -> int:
    done = 0
    for order in chunk:
        try:
            with transaction.atomic():
                again = list(due.select_for_update(skip_locked=True).filter(pk=order.pk))
                if again:
                    done += handle(again)
        except Exception:
            # This order waits for the next run; it no longer holds up the others.
            logger.exception("sweep could not handle order %s", order.pk)
    return done


# --- unpaid orders past their payment deadline -------------------------------------------------


def cancel_expired_orders(
    now=None, *, chunk_size: int | None = None, budget_seconds=CANCEL_BUDGET_SECONDS
) -> int:
    """Cancel unpaid orders past their payment deadline and put their stock back.

    An order with a payment still open at a gateway is closed there first, one by one and
    outside any transaction (`lifecycle.cancel_unpaid`): if the gateway says the buyer has
    in fact paid, the payment is applied and the order is not cancelled. Every other order
    of the chunk is cancelled together. Returns how many orders were cancelled."""
    now = now or timezone.now()
    ORDER_FLOW.check(OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED)
    due = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, pay_deadline__lte=now).only(
        "pk", "number", "buyer_id", "wallet_amount", "paid_at", "status", "fulfilment", "pickup_store_id"
    )
    at_gateway: dict[int, Order] = {}  # by id: a chunk handled again one by one adds them again

    def handle(chunk: list[Order]) -> int:
        open_ids = payments_port.orders_with_open_payments([o.pk for o in chunk])
        at_gateway.update((o.pk, o) for o in chunk if o.pk in open_ids)
        return _cancel_chunk([o for o in chunk if o.pk not in open_ids])

    def then(stop_at: float) -> int:
        # Outside the chunk's transaction: a gateway call never holds the chunk's locks.
        orders = list(at_gateway.values())
        at_gateway.clear()
        return _cancel_at_gateway(orders, stop_at)

    return _chunks(due, budget_seconds, chunk_size, handle, then, one_by_one_on_failure=True)


def _cancel_chunk(orders: list[Order]) -> int:
    """With the chunk's rows locked and no payment open on any of them: what
    `lifecycle.cancel_unpaid` does to one order, done to all of them at once."""
    if not orders:
        return 0
    ids = [o.pk for o in orders]
    cancelled_at = timezone.now()
    moved = Order.objects.filter(pk__in=ids, status=OrderStatus.PENDING_PAYMENT).update(
        status=OrderStatus.CANCELLED, cancelled_at=cancelled_at, cancel_reason=TIMEOUT_REASON
    )
    if moved != len(ids):
        # Cannot happen with the rows locked; if it ever did, nothing of the chunk is kept.
        raise InvalidTransition(_("订单状态已变化，请刷新后重试"))
    # Stock goes back where each order took it: pickup orders to their store, set-based too.
    pickup_store = {o.pk: o.pickup_store_id for o in orders if o.pickup_store_id is not None}
    online: dict[int, int] = {}
    at_stores: dict[tuple[int, int], int] = {}
    for row in (
        OrderLine.objects.filter(order_id__in=ids)
        .values("order_id", "sku_id")
        .annotate(quantity=Sum("quantity"))
    ):
        store = pickup_store.get(row["order_id"])
        if store is None:
            online[row["sku_id"]] = online.get(row["sku_id"], 0) + row["quantity"]
        else:
            key = (store, row["sku_id"])
            at_stores[key] = at_stores.get(key, 0) + row["quantity"]
    restore_stock_in_order(online)
    stores_port.restore_stock_in_order(at_stores)
    line = event_line(CANCELLED_MESSAGE, {"reason": text_arg(TIMEOUT_REASON)})
    OrderEvent.objects.bulk_create(
        OrderEvent(order_id=pk, kind="cancelled", actor_kind=ActorKind.SYSTEM, **line) for pk in ids
    )
    hooks.orders_cancelled(ids)
    for order in orders:
        # Store credit taken at checkout goes back, once per order (a money move keyed by
        # the order, so it stays one ledger entry each). Only part-wallet orders have any.
        if order.wallet_amount:
            order.status = OrderStatus.CANCELLED
            tenders.release_wallet(order)
    return moved


def _cancel_at_gateway(orders: list[Order], stop_at: float) -> int:
    from .lifecycle import cancel_unpaid

    cancelled = 0
    for order in orders:
        if time.monotonic() >= stop_at:
            break  # the next run picks the rest up
        try:
            cancel_unpaid(order, actor_kind=ActorKind.SYSTEM, reason=TIMEOUT_REASON)
            cancelled += 1
        except InvalidTransition:
            continue  # paid at the last moment, or the buyer is paying right now
        except Exception:
            # One gateway failing must not hold up the rest: this order waits for the next run.
            logger.exception("timeout sweep could not close the payments of order %s", order.pk)
    return cancelled


# --- shipped orders past their auto-complete time ----------------------------------------------


def auto_complete_orders(
    now=None, *, chunk_size: int | None = None, budget_seconds=COMPLETE_BUDGET_SECONDS
) -> int:
    """Complete shipped orders past their auto-complete time for the buyer: the order, its
    event, its commission frozen and the buyer's distributor condition, per chunk."""
    now = now or timezone.now()
    ORDER_FLOW.check(OrderStatus.SHIPPED, OrderStatus.COMPLETED)
    due = Order.objects.filter(status=OrderStatus.SHIPPED, auto_complete_at__lte=now).only(
        "pk", "buyer_id", "status"
    )
    return _chunks(due, budget_seconds, chunk_size, _complete_chunk)


def _complete_chunk(orders: list[Order]) -> int:
    ids = [o.pk for o in orders]
    completed_at = timezone.now()
    moved = Order.objects.filter(pk__in=ids, status=OrderStatus.SHIPPED).update(
        status=OrderStatus.COMPLETED, completed_at=completed_at
    )
    if moved != len(ids):
        raise InvalidTransition(_("订单状态已变化，请刷新后重试"))  # cannot happen with the rows locked
    OrderEvent.objects.bulk_create(
        OrderEvent(order_id=pk, kind="completed", actor_kind=ActorKind.SYSTEM, message=AUTO_COMPLETE_MESSAGE)
        for pk in ids
    )
    hooks.orders_completed(ids, {o.buyer_id for o in orders}, completed_at)
    # The chunk's orders are read without their numbers: one read for them, and only if a
    # webhook endpoint listens (the iterator runs when consumed).
    numbers = Order.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "number").iterator()
    webhooks.orders_completed(numbers, completed_at)
    return moved
