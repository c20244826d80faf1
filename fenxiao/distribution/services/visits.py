"""Signed-out visits through referral links, counted in batches.

A signed-out visit decides nothing (binding waits for sign-in), it is only counted: one
`Touch` row per distributor, visitor and day, whose `hits` grows. `/r/<code>` is the
busiest page of a distribution mall, so its count is not a write per visit: each process
gathers the visits of the last `REFERRAL_VISIT_FLUSH_SECONDS` in memory and writes them
with one INSERT … ON CONFLICT DO UPDATE, adding each row's hits. A quiet process writes a
visit as it comes (nothing is pending for longer than the interval: the visit after a
quiet spell, or a timer, writes it), so the counts are at most that interval behind; a
process killed without warning loses at most that interval of anonymous visit counts, never
a binding or an order. With the interval 0 every visit is written at once (the test suite).
"""

import atexit
import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from ..models import Touch, TouchDecision

logger = logging.getLogger(__name__)

# A process writes at once when this many rows are pending, whatever the interval.
MAX_PENDING = 5000


@dataclass
class _Visit:
    distributor_id: int
    visitor: str
    day: date
    source: str
    target: str
    hits: int
    last_seen_at: datetime


_lock = threading.Lock()
_pending: dict[tuple[int, str, date], _Visit] = {}
_last_write = time.monotonic()
_timer: threading.Timer | None = None


def count(distributor_id: int, source: str, *, target: str = "", visitor: str) -> None:
    """Count one signed-out visit; the row keeps the day's first source and landing page."""
    global _timer
    now = timezone.now()
    key = (distributor_id, visitor, timezone.localdate(now))
    interval = settings.REFERRAL_VISIT_FLUSH_SECONDS
    with _lock:
        visit = _pending.get(key)
        if visit is None:
            _pending[key] = _Visit(*key, source, target[:300], 1, now)
        else:
            visit.hits += 1
            visit.last_seen_at = now
        due = interval <= 0 or len(_pending) >= MAX_PENDING or time.monotonic() - _last_write >= interval
        if not due and _timer is None:
            _timer = threading.Timer(interval, _write_from_timer)
            _timer.daemon = True
            _timer.start()
    if due:
        flush()


def flush() -> int:
    """Write every pending visit of this process; returns the rows written."""
    global _last_write
    with _lock:
        visits = list(_pending.values())
        _pending.clear()
        _last_write = time.monotonic()
    if not visits:
        return 0
    try:
        _write(visits)
    except DatabaseError:
        # Counts only: the visitor's redirect and later binding do not depend on them.
        logger.exception("could not write %d referral visit counts", len(visits))
        return 0
    return len(visits)


def _write_from_timer() -> None:
    global _timer
    with _lock:
        _timer = None
    try:
        flush()
    finally:
        connection.close()  # the timer's own thread and connection


# Processes stopped gracefully (gunicorn workers, the shell) write what they gathered.
atexit.register(flush)

# The row each new visitor-and-day gets; `hits` is added on conflict.
_FIELDS = ("distributor_id", "visitor", "day", "source", "target", "hits", "last_seen_at")


def _write(visits: list[_Visit]) -> None:
    """One statement: INSERT … ON CONFLICT DO UPDATE on the partial unique index (PostgreSQL
    and SQLite both have it). Django's bulk_create(update_conflicts) can only copy the new
    values, not add them, hence the SQL; the values are prepared by the model fields."""
    meta = Touch._meta
    constant = {
        "decision": TouchDecision.PENDING_LOGIN,
        "rule": "anonymous",
        "reason": "访客未登录，推广码暂存，登录后绑定",
    }
    fields = [meta.get_field(name) for name in (*_FIELDS, *constant)]
    fields += [f for f in meta.concrete_fields if not f.primary_key and f not in fields]
    q = connection.ops.quote_name
    rows, params = [], []
    for visit in sorted(visits, key=lambda v: (v.distributor_id, v.visitor, v.day)):
        row = Touch(**{name: getattr(visit, name) for name in _FIELDS}, **constant)
        rows.append("(" + ", ".join(["%s"] * len(fields)) + ")")
        params += [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
    sql = _UPSERT.format(
        table=q(meta.db_table),
        columns=", ".join(q(f.column) for f in fields),
        rows=", ".join(rows),
        conflict=", ".join(q(c) for c in ("distributor_id", "visitor", "day")),
        buyer=q("buyer_id"),
        day=q("day"),
        hits=q("hits"),
        seen=q("last_seen_at"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# Quoted identifiers and placeholders only are formatted in. The conflict target repeats the
# predicate of one_anonymous_touch_row_per_visitor_and_day, so that index is chosen.
_UPSERT = """
INSERT INTO {table} ({columns}) VALUES {rows}
ON CONFLICT ({conflict}) WHERE {buyer} IS NULL AND {day} IS NOT NULL
DO UPDATE SET {hits} = {table}.{hits} + excluded.{hits}, {seen} = excluded.{seen}
"""
