"""Effects outside the database (a refund, a payout, a notification), done at least once.

Each effect is a row with a status, an attempt count and a next-attempt time. A worker
`claim`s a pending row (processing, one more attempt, a deadline) in a short transaction,
calls the far side outside any transaction, then records the answer only if its claim
still stands. A `sweep` hands rows that are due again, or whose worker died, back to the
queue in chunks, skipping rows a worker holds right now.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet


def claim(rows: QuerySet, deadline, *, status: str, processing, attempts: str, next_at: str):
    """Lock the first of `rows` (the caller's filter names it and says it is pending) and
    mark it `processing`, counting one more attempt, until `deadline`. Returns the row as
    claimed, or None when there is nothing to claim (done, failed, or held by another
    worker). `status`, `attempts` and `next_at` name the row's fields."""
    with transaction.atomic():
        row = rows.select_for_update().first()
        if row is None:
            return None
        setattr(row, attempts, getattr(row, attempts) + 1)
        type(row)._default_manager.filter(pk=row.pk).update(
            **{status: processing, attempts: getattr(row, attempts), next_at: deadline}
        )
        setattr(row, status, processing)
    return row


def sweep(
    due: Callable[[], QuerySet],
    *,
    limit: int,
    chunk: int,
    release: Callable[[QuerySet], list],
    enqueue: Callable[[object], None],
) -> int:
    """Re-drive the rows of `due()`, at most `limit`, `chunk` at a time in primary key order.

    Each chunk is locked (skipping rows a worker holds) in one short transaction in which
    `release(rows)` makes them claimable again and returns their keys; each key is then
    handed to `enqueue`, outside the transaction. Returns how many were queued.
    """
    queued, after = 0, 0
    while queued < limit:
        ids = list(
            due()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[: min(chunk, limit - queued)]
        )
        if not ids:
            break
        after = ids[-1]
        with transaction.atomic():
            keys = release(due().filter(pk__in=ids).select_for_update(skip_locked=True))
        queued += len(keys)
        for key in keys:
            enqueue(key)
    return queued
