"""Counters gathered in memory and written in batches, for the hot paths that only count.

A busy page (the referral link, every H5 page view) should not cost a write per request.
Each process gathers rows keyed by what makes them unique (visitor and day, …), merging a
repeat into the pending row, and writes them all at most `interval` seconds later with one
statement per table (`upsert` below: INSERT … ON CONFLICT DO UPDATE adding the counters).

A quiet process writes a row as it comes (nothing is pending for longer than the interval:
the next row after a quiet spell, or a timer, writes it), so counts are at most that
interval behind; a process killed without warning loses at most that interval of counts.
With the interval 0 every row is written at once (the test suite). Counts only: a failed
write is logged and dropped, never raised into the page that was being served.
"""

import atexit
import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


class Batch:
    """A process-wide buffer: `add(key, row, merge)` gathers, `flush()` writes.

    `write(rows)` receives the pending rows (in the order their keys were first seen) and
    must write them; `interval_setting` names the Django setting with the seconds to wait.
    """

    def __init__(
        self,
        name: str,
        write: Callable[[list], None],
        *,
        interval_setting: str,
        max_pending: int = 5000,
    ):
        self.name = name
        self._write = write
        self.interval_setting = interval_setting
        # A process writes at once when this many rows are pending, whatever the interval.
        self.max_pending = max_pending
        self._lock = threading.Lock()
        self.pending: dict[Hashable, Any] = {}
        self.last_write = time.monotonic()
        self._timer: threading.Timer | None = None
        # A timer writes from its own thread and connection; `make bench`, which runs in one
        # rolled-back transaction, turns it off and lets the requests write inline.
        self.use_timer = True
        atexit.register(self.flush)  # processes stopped gracefully write what they gathered

    @property
    def interval(self) -> float:
        return getattr(settings, self.interval_setting)

    def add(self, key: Hashable, row: Any, merge: Callable[[Any, Any], None] | None = None) -> None:
        """Gather `row` under `key`; a row already pending under it is `merge(pending, row)`d
        (without `merge`, the first row stays). Writes at once when the batch is due."""
        self.add_all([(key, row, merge)])

    def add_all(self, entries: Iterable[tuple[Hashable, Any, Callable[[Any, Any], None] | None]]) -> None:
        """`add` for the rows one event makes (a visitor's day and a trail row): they are
        gathered together, so they are written together."""
        interval = self.interval
        with self._lock:
            for key, row, merge in entries:
                pending = self.pending.get(key)
                if pending is None:
                    self.pending[key] = row
                elif merge is not None:
                    merge(pending, row)
            due = interval <= 0 or len(self.pending) >= self.max_pending or self._quiet(interval)
            if not due and self._timer is None and self.use_timer:
                self._timer = threading.Timer(interval, self._write_from_timer)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def _quiet(self, interval: float) -> bool:
        return time.monotonic() - self.last_write >= interval

    def flush(self) -> int:
        """Write every pending row of this process; returns the rows written."""
        with self._lock:
            rows = list(self.pending.values())
            self.pending.clear()
            self.last_write = time.monotonic()
        if not rows:
            return 0
        try:
            self._write(rows)
        except DatabaseError:
            logger.exception("could not write %d %s", len(rows), self.name)
            return 0
        return len(rows)

    def reset(self, *, quiet: bool = True) -> None:
        """Drop what is pending and any timer (tests); `quiet` makes the next row write at once."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self.pending.clear()
            self.last_write = time.monotonic() - (3600 if quiet else 0)

    def _write_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        finally:
            connection.close()  # the timer's own thread and connection


def upsert(
    model,
    rows: Iterable[dict],
    *,
    conflict: Sequence[str],
    conflict_where: str = "",
    add: Sequence[str] = (),
    replace: Sequence[str] = (),
    fill: Sequence[str] = (),
) -> None:
    """One INSERT … ON CONFLICT DO UPDATE for `rows` (dicts of field names), on PostgreSQL
    and SQLite alike. On conflict the `add` counters are added, the `replace` fields take the
    new value and the `fill` fields take it only where the row has none; every other field
    keeps what the row had (the day's first source, say). Django's bulk_create
    (update_conflicts) can only copy new values, not add them, hence the SQL; values are
    prepared by the model fields, fields a row does not give take their defaults.

    `conflict` names the fields of a unique constraint; `conflict_where` repeats the
    predicate of a partial unique index (with {column} placeholders) so that index is chosen.
    Rows must be unique on `conflict` (PostgreSQL refuses to update one row twice).
    """
    rows = list(rows)
    if not rows:
        return
    meta = model._meta
    q = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    column = {f.name: f.column for f in fields}
    placeholders, params = [], []
    for values in rows:
        instance = model(**values)
        placeholders.append("(" + ", ".join(["%s"] * len(fields)) + ")")
        params += [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    table = q(meta.db_table)
    updates = [f"{q(column[n])} = {table}.{q(column[n])} + excluded.{q(column[n])}" for n in add]
    updates += [f"{q(column[n])} = excluded.{q(column[n])}" for n in replace]
    updates += [f"{q(column[n])} = COALESCE({table}.{q(column[n])}, excluded.{q(column[n])})" for n in fill]
    where = conflict_where.format(**{n: q(c) for n, c in column.items()})
    sql = _UPSERT.format(
        table=table,
        columns=", ".join(q(f.column) for f in fields),
        rows=", ".join(placeholders),
        conflict=", ".join(q(column[n]) for n in conflict),
        where=f" WHERE {where}" if where else "",
        updates=", ".join(updates),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Quoted identifiers and placeholders only are formatted in; the values are parameters.
_UPSERT = """
INSERT INTO {table} ({columns}) VALUES {rows}
ON CONFLICT ({conflict}){where}
DO UPDATE SET {updates}
"""
