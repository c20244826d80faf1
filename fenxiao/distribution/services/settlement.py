"""Settlement: held commission whose hold has ended becomes balance, exactly once.

The invariant: every commission is settled once and only once, even when runs overlap,
one dies halfway, or a cycle day is missed.

- A run settles in chunks of `CHUNK` commissions, one transaction each, walking the due
  commissions by id (never loading them all). A chunk locks its rows with `FOR UPDATE SKIP
  LOCKED` in the same statement that tests they are still due, so overlapping runs share
  the work instead of waiting on each other, and a just-opened after-sale or a suspension
  keeps a commission out. Its ledger entries go in with one insert that the unique
  `commission:<id>` source key makes idempotent, and its distributors' running totals move
  in the same transaction (on PostgreSQL all three are one statement, `settlement_sql.CHUNK_SQL`).
- A run is a batch row: `running` while it works (its heartbeat and totals move with every
  chunk), then `settled`. A run that dies between chunks leaves its batch `running` with
  true totals; the sweeper resumes every batch whose heartbeat has gone quiet, and staff
  can resume one from the backend. Resuming only settles what is still frozen, so a resume
  that overlaps a live run settles nothing twice.
- Commission is held until its freeze has ended *and* the order's after-sale window has
  closed with no after-sale open, and only while its distributor may be paid (active, or
  banned with the held commission released by staff) and no abuse guard holds it for
  review (`risk`).
- Which days the scheduled run settles on, and catching up a missed one, is
  `settlement_cycle`'s.
"""

import logging
import threading
from array import array
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.errors import InvalidTransition
from fenxiao.notices.services import events as notices
from fenxiao.orders.models import MAX_AFTER_SALE_DAYS, OPEN_AFTER_SALE, AfterSale, Order, OrderSettings
from fenxiao.webhooks.services import events as webhooks

from ..errors import BatchNotFound
from ..models import (
    BanDecision,
    Commission,
    CommissionStatus,
    DistributorStatus,
    LedgerKind,
    SettlementBatch,
    SettlementMode,
)
from . import settlement_sql as sql
from . import totals

logger = logging.getLogger(__name__)

# A running batch without progress for this long is taken to be dead and is resumed.
STALE_AFTER = timedelta(minutes=10)
# Commissions settled per transaction: large enough that the per-statement cost vanishes,
# small enough that row locks are held for milliseconds and a dead run loses little work.
CHUNK = 5000
# Distributors told (notices, webhooks) at a time once a run has finished.
PAID_CHUNK = 1000

Status = SettlementBatch.Status
CLAIMING = (Status.PENDING_REVIEW, Status.RUNNING)


def after_sale_closed_before(now):
    """Orders completed before this moment are past their after-sale window."""
    days = min(OrderSettings.current().after_sale_days, MAX_AFTER_SALE_DAYS)
    return now - timedelta(days=days)


def _payable() -> Q:
    """Distributors whose held commission may settle: active ones, and banned ones whose
    held commission staff released. Suspended ones wait until they are reactivated."""
    return Q(distributor__status=DistributorStatus.ACTIVE) | Q(
        distributor__status=DistributorStatus.BANNED, distributor__ban_decision=BanDecision.RELEASE
    )


def _due(now):
    open_after_sale = AfterSale.objects.filter(order_id=OuterRef("order_id"), status__in=OPEN_AFTER_SALE)
    # The order's completion is looked up per commission, on the order's key: a chunk tests a
    # few thousand commissions, and as a join the planner would read every order of the shop
    # for each chunk until the orders table grew past some half a million rows.
    completed = Order.objects.filter(pk=OuterRef("order_id")).values("completed_at")[:1]
    # A till sale's commission (no order) has no after-sale window: its hold is all it waits.
    return (
        Commission.objects.alias(order_completed_at=Subquery(completed))
        .filter(
            _payable(),
            Q(order__isnull=True) | Q(order_completed_at__lte=after_sale_closed_before(now)),
            status=CommissionStatus.FROZEN,
            frozen_until__lte=now,
            under_review=False,
        )
        .exclude(Exists(open_after_sale))
    )


def _unclaimed() -> Q:
    """Not held by a batch under review or being settled. A frozen commission still pointing
    at a settled batch was left behind by an older approval: the next run takes it.
    (Plain column tests, so a concurrent claim is re-checked on the row it locked.)"""
    closed = SettlementBatch.objects.exclude(status__in=CLAIMING).values("pk")
    return Q(batch__isnull=True) | Q(batch_id__in=closed)


class _BatchClosed(Exception):
    """Another runner closed (or removed) the batch: settle nothing more into it."""


class _Done(Exception):
    """No frozen commission is left after the run's position."""


def _window_end(after: int) -> int | None:
    """The id of the `CHUNK`-th frozen commission after id `after` (None: fewer are left,
    the window runs to the end). Read on the frozen-commission id index alone, so a chunk
    tests at most `CHUNK` rows for being due, however many are frozen: the planner would
    otherwise join and sort every frozen commission for each chunk."""
    frozen = Commission.objects.filter(status=CommissionStatus.FROZEN, pk__gt=after).order_by("pk")
    end = frozen.values_list("pk", flat=True)[CHUNK - 1 : CHUNK].first()
    if end is None and not frozen.exists():
        raise _Done
    return end


# The next window of each run in this process whose workers share the windows (see `_run`):
# each window goes to one worker, so no two test the same rows only to skip each other's
# locks. Only a hint: the claim's lock is what keeps a commission to one run.
_next_window: dict[int, int] = {}
_next_window_lock = threading.Lock()
# The highest id a window can end at; as `_next_window`, it marks a run whose last,
# open-ended window has been handed out.
_LAST_ID = 2**63 - 1


def _take_window(batch: SettlementBatch, after: int) -> tuple[int, int | None]:
    """The window (`after`, end] a worker settles next: after `after`, and after every window
    the run's other workers took. Raises `_Done` once nothing frozen is left after it."""
    with _next_window_lock:
        if batch.pk not in _next_window:
            return after, _window_end(after)
        after = max(after, _next_window[batch.pk])
        if after == _LAST_ID:
            raise _Done
        end = _window_end(after)
        _next_window[batch.pk] = _LAST_ID if end is None else end
        return after, end


def _claim(batch: SettlementBatch, now, after: int, end: int | None):
    """The commissions of the window (`after`, `end`] that are due and belong to this run,
    locked as they are read. The due test and the lock are one statement, so whatever
    changed before the lock (an after-sale opened, the distributor suspended, another run
    settled it) is seen; rows another run holds are skipped, not waited for. (On SQLite the
    run's IMMEDIATE transaction already serialises, and there is no row lock.)"""
    scope = Q(batch=batch) if batch.mode == SettlementMode.MANUAL else _unclaimed()
    window = Q(pk__gt=after) if end is None else Q(pk__gt=after, pk__lte=end)
    return (
        _due(now)
        .filter(scope, window)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("pk")
        .values("pk")[:CHUNK]
    )


def _settle_chunk(batch: SettlementBatch, now, after: int) -> int | None:
    """Settle the next chunk after id `after` in one transaction. Returns the last id it
    took, or None once nothing is left or the batch was closed by another runner."""
    at = connection.ops.adapt_datetimefield_value
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Check the chunk's foreign keys as its rows are written, not at commit:
                # deferred, they would run while the chunk holds its distributors' totals
                # rows, which the run's other workers are waiting for.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            after, end = _take_window(batch, after)
            claim, claim_params = _claim(batch, now, after, end).query.sql_with_params()
            settle = sql.SETTLE_SQL.format(claim=claim, **sql.tables())
            params = [CommissionStatus.SETTLED, at(now), batch.pk, after, _LAST_ID if end is None else end]
            write = _write_at_once if connection.vendor == "postgresql" else _write_in_steps
            chunk = write(cursor, batch, settle, [*params, *claim_params], after)
            if chunk is None:
                # Nothing due in this window (held, refunded, or taken by another run).
                return end
            count, net, last = chunk
            # A run counts each commission as it settles, so one that dies between chunks
            # leaves true totals; a manual batch counted its own when it was prepared.
            if batch.mode != SettlementMode.AUTO:
                count = net = 0
            # Once another runner has finished (or removed) the batch, settle nothing more
            # into it: the whole chunk is undone. Last, so that parallel workers of one run
            # hold the batch row only while they commit.
            if not SettlementBatch.objects.filter(pk=batch.pk, status=Status.RUNNING).update(
                heartbeat_at=timezone.now(),
                commission_count=F("commission_count") + count,
                total=F("total") + net,
            ):
                raise _BatchClosed
    except (_BatchClosed, _Done):
        return None
    return last if end is None else end


def _write_at_once(cursor, batch, settle: str, params: list, after: int) -> tuple[int, int, int] | None:
    """PostgreSQL: settle, credit and move the totals in one statement (`sql.CHUNK_SQL`).
    Returns how many settled, their net and the last id, or None if none did."""
    at = connection.ops.adapt_datetimefield_value
    cursor.execute(
        sql.CHUNK_SQL.format(settle=settle, note=sql.NOTE, **sql.tables()),
        [*params, LedgerKind.COMMISSION, at(timezone.now())],
    )
    rows = cursor.fetchall()
    count, net, last = rows[0][:3]
    if not count:
        return None
    new = {pk: {"frozen": f, "settled": s, "balance": b} for *_, pk, f, s, b in rows if pk is not None}
    if new:
        totals.add(new)
    return count, net, last


def _write_in_steps(cursor, batch, settle: str, params: list, after: int) -> tuple[int, int, int] | None:
    """The same in three steps where one statement cannot (SQLite): settle, credit what the
    batch settled in the window, then move the distributors' running totals (what settled
    leaves `frozen` for `settled`; the balance grows by the entries really inserted)."""
    at = connection.ops.adapt_datetimefield_value
    cursor.execute(settle, params)
    settled = cursor.fetchall()
    if not settled:
        return None
    last = max(row[0] for row in settled)
    cursor.execute(
        sql.CREDIT_SQL.format(note=sql.NOTE, **sql.tables()),
        [LedgerKind.COMMISSION, at(timezone.now()), after, last, batch.pk],
    )
    changes = totals.deltas()
    for _pk, distributor_id, net, *_rest in settled:
        changes[distributor_id]["frozen"] -= net
        changes[distributor_id]["settled"] += net
    for distributor_id, amount in cursor.fetchall():
        changes[distributor_id]["balance"] += amount
    totals.add(changes)
    return len(settled), sum(row[2] for row in settled), last


def _chunks(batch: SettlementBatch):
    """Settle a running batch chunk by chunk, yielding the last id after each chunk commits."""
    now = batch.approved_at or batch.cutoff
    after = 0
    while (after := _settle_chunk(batch, now, after)) is not None:
        yield after


def _counted(batch: SettlementBatch) -> dict[str, int]:
    """The batch's commission count and net total, as its own row should show them."""
    sums = Commission.objects.filter(batch=batch).aggregate(
        n=Count("pk"), total=Sum("amount") - Sum("reversed_amount")
    )
    return {"commission_count": sums["n"] or 0, "total": sums["total"] or 0}


def _refresh_totals(batch: SettlementBatch) -> SettlementBatch:
    SettlementBatch.objects.filter(pk=batch.pk).update(**_counted(batch))
    batch.refresh_from_db()
    return batch


def _beat(batch: SettlementBatch) -> None:
    SettlementBatch.objects.filter(pk=batch.pk).update(heartbeat_at=timezone.now())


def _finish(batch: SettlementBatch) -> tuple[SettlementBatch | None, array]:
    """Close a batch with its true totals, under its row lock: a runner still settling into
    it waits, then finds it closed (or gone) and settles nothing more into it. Returns the
    batch and the distributors this close paid (for the grade checks, after the lock)."""
    paid = array("q")
    if batch.mode == SettlementMode.MANUAL:
        # Anything refunded, under after-sale or held since the batch was prepared goes back
        # for a later batch. (A run puts a commission in its batch only as it settles it.)
        # Before the batch lock: a runner holds a commission's lock while it waits for the batch.
        Commission.objects.filter(batch=batch).exclude(status=CommissionStatus.SETTLED).update(batch=None)
    with transaction.atomic():
        locked = SettlementBatch.objects.select_for_update().filter(pk=batch.pk).first()
        if locked is None:
            return None, paid
        if locked.status != Status.RUNNING:
            # Another runner closed it, and told the distributors: only recount.
            SettlementBatch.objects.filter(pk=locked.pk).update(**_counted(locked))
        else:
            # With the close, under the batch lock: exactly one closer tells the distributors.
            count, total = _tell_paid(locked, paid)
            if not count and locked.mode == SettlementMode.AUTO:
                # An overlapping run settled everything first: no empty batch is left behind.
                locked.delete()
                return None, paid
            SettlementBatch.objects.filter(pk=locked.pk).update(
                status=Status.SETTLED, commission_count=count, total=total
            )
    return SettlementBatch.objects.filter(pk=batch.pk).first(), paid


def _tell_paid(batch: SettlementBatch, paid: array) -> tuple[int, int]:
    """One notice per distributor the run paid, with their net total, and the merchant's
    webhook events: a group of distributors at a time from one grouped read
    (`sql.PAID_SQL`), nothing per commission. Collects the distributors paid into `paid`;
    returns the batch's commission count and net total."""
    count = total = 0
    settled_at = timezone.now()
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql.PAID_SQL.format(**sql.tables()), [batch.pk])
        while rows := cursor.fetchmany(PAID_CHUNK):
            count += sum(row[2] for row in rows)
            total += sum(row[3] for row in rows)
            paid.extend(row[0] for row in rows)
            notices.commission_settled(batch_id=batch.pk, totals=((user, net) for _, user, _, net in rows))
            by_distributor = ((pk, user, net) for pk, user, _, net in rows)
            webhooks.commission_settled(batch_id=batch.pk, settled_at=settled_at, totals=by_distributor)
    return count, total


def _close(batch: SettlementBatch) -> SettlementBatch | None:
    """Close the batch, then the grade check once per distributor it paid."""
    from .grades import upgrade_after_settlement

    batch, paid = _finish(batch)
    upgrade_after_settlement(paid)
    return batch


def _run(batch: SettlementBatch) -> SettlementBatch | None:
    """Settle a running batch to the end, from wherever it stands: a new run, an approval,
    or the resume of one that died. Only what is still frozen is touched."""
    _beat(batch)
    workers = _workers()
    if workers > 1:
        with _next_window_lock:
            _next_window[batch.pk] = 0
    helpers = [threading.Thread(target=_drain, args=(batch,)) for _ in range(workers - 1)]
    for helper in helpers:
        helper.start()
    try:
        for _chunk in _chunks(batch):
            pass
    finally:
        for helper in helpers:
            helper.join()
        with _next_window_lock:
            _next_window.pop(batch.pk, None)
    return _close(batch)


def _workers() -> int:
    """Chunks settled at once by one run. Workers on their own connections take the windows
    in turn, each skipping the rows another run holds, so every commission is still
    settled once; a worker that dies leaves its chunk frozen for the next run.
    Only where rows can be skipped (PostgreSQL) and the run is not inside a caller's
    transaction, whose uncommitted rows other connections could not see."""
    if not connection.features.has_select_for_update_skip_locked or connection.in_atomic_block:
        return 1
    return max(1, settings.SETTLEMENT_WORKERS)


def _drain(batch: SettlementBatch) -> None:
    try:
        for _chunk in _chunks(batch):
            pass
    except Exception:
        logger.exception("settlement worker stopped; batch %s continues without it", batch.pk)
    finally:
        connection.close()


def _open_run(now, staff=None) -> SettlementBatch:
    return SettlementBatch.objects.create(
        mode=SettlementMode.AUTO,
        status=Status.RUNNING,
        cutoff=now,
        created_by=staff,
        approved_at=now,
        heartbeat_at=timezone.now(),
    )


def settle_due(now=None, *, staff=None) -> SettlementBatch | None:
    """Auto mode: settle everything due now into a new batch."""
    now = now or timezone.now()
    if not _due(now).filter(_unclaimed()).exists():
        return None
    return _run(_open_run(now, staff))


def create_batch(now=None, *, staff=None) -> SettlementBatch | None:
    """Manual mode: gather what is due into a batch for finance to review."""
    now = now or timezone.now()
    if not _due(now).filter(_unclaimed()).exists():
        return None
    with transaction.atomic():
        batch = SettlementBatch.objects.create(
            mode=SettlementMode.MANUAL,
            status=Status.PENDING_REVIEW,
            cutoff=now,
            created_by=staff,
        )
        # One statement, its claim re-tested on each row it updates: a batch prepared at the
        # same moment keeps what it took first.
        claimed = Commission.objects.filter(
            _unclaimed(), status=CommissionStatus.FROZEN, pk__in=_due(now).filter(_unclaimed()).values("pk")
        ).update(batch=batch)
        if not claimed:
            batch.delete()
            return None
    return _refresh_totals(batch)


def release_from_review_batches(commission_ids) -> None:
    """Take these commissions out of the batches under review that hold them (a hold made
    while finance reviews), and bring those batches' totals to what is left."""
    held = Commission.objects.filter(pk__in=list(commission_ids), batch__status=Status.PENDING_REVIEW)
    batches = list(SettlementBatch.objects.filter(pk__in=held.values("batch_id")))
    held.update(batch=None)
    for batch in batches:
        _refresh_totals(batch)


def approve_batch(batch: SettlementBatch, staff, now=None) -> SettlementBatch:
    """Finance approves a reviewed batch: its commissions are settled now. The batch is
    `running` until the last one is done, so an approval that dies is resumed, not lost."""
    now = now or timezone.now()
    moved = SettlementBatch.objects.filter(pk=batch.pk, status=Status.PENDING_REVIEW).update(
        status=Status.RUNNING, approved_by=staff, approved_at=now, heartbeat_at=timezone.now()
    )
    if not moved:
        raise InvalidTransition(_("该结算批次不是待审核状态"))
    batch.refresh_from_db()
    return _run(batch)


def cancel_batch(batch: SettlementBatch, staff) -> SettlementBatch:
    with transaction.atomic():
        moved = SettlementBatch.objects.filter(pk=batch.pk, status=Status.PENDING_REVIEW).update(
            status=Status.CANCELLED, approved_by=staff, approved_at=timezone.now()
        )
        if not moved:
            raise InvalidTransition(_("该结算批次不是待审核状态"))
        Commission.objects.filter(batch=batch, status=CommissionStatus.FROZEN).update(batch=None)
    batch.refresh_from_db()
    return batch


def resume_batch(batch: SettlementBatch, staff=None) -> SettlementBatch | None:
    """Finish a run that stopped halfway (staff's "继续结算", or the sweeper)."""
    # Re-read: an overlapping run may have closed it, or removed it when it had nothing left.
    current = SettlementBatch.objects.filter(pk=batch.pk).first()
    if current is None or current.status != Status.RUNNING:
        raise InvalidTransition(_("只有“结算中”的批次可以继续结算"))
    # One resumer per batch: it takes the batch by moving the heartbeat it read. A second
    # resumer (the sweeper on another node, staff's button) finds it moved and leaves the
    # batch alone; two runners on one batch would each stop when the other closed it,
    # leaving the rows each had skipped for the other to the next run.
    taken = SettlementBatch.objects.filter(
        pk=current.pk, status=Status.RUNNING, heartbeat_at=current.heartbeat_at
    ).update(heartbeat_at=timezone.now())
    if not taken:
        raise InvalidTransition(_("该批次正在由另一个任务继续结算"), code="SETTLEMENT_BATCH_BUSY")
    current.refresh_from_db()
    return _run(current)


def resume_interrupted(now=None) -> list[SettlementBatch]:
    """The sweeper: resume every running batch whose heartbeat has gone quiet."""
    now = now or timezone.now()
    quiet = SettlementBatch.objects.filter(status=Status.RUNNING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - STALE_AFTER)
    )
    finished = []
    for batch in quiet.order_by("pk"):
        try:
            done = resume_batch(batch)
        except InvalidTransition:  # another resumer finished it first
            continue
        if done is not None:
            finished.append(done)
    return finished


def get_batch(pk: int) -> SettlementBatch:
    batch = SettlementBatch.objects.filter(pk=pk).first()
    if batch is None:
        raise BatchNotFound()
    return batch
