"""Attempt limits that hold under concurrency and across processes.

Invariant: every attempt is counted *before* the work it guards (a password check, an
account insert) and the count it gets back decides whether the work happens. The count is
one atomic upsert, so a burst of N simultaneous attempts gets the counts 1..N and only the
first `limit` of them proceed — never "read, check, then increment", which lets a burst
through. Counters live in the database (not a per-process cache), so they hold for any
number of web processes.
"""

import hashlib
import random
import time

from django.db import connection
from django.db.models import F

from ..models import RateCounter

_table = RateCounter._meta.db_table


def counter_key(scope: str, ident: str) -> str:
    """A fixed-length key: usernames and addresses are hashed, never stored as typed."""
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:40]
    return f"{scope}:{digest}"


def hit(key: str, window_seconds: int) -> int:
    """Count one attempt; returns how many attempts this window holds, this one included."""
    now = int(time.time())
    q = connection.ops.quote_name
    table, k, hits, expires = q(_table), q("key"), q("hits"), q("expires_at")
    sql = (
        f"INSERT INTO {table} ({k}, {hits}, {expires}) VALUES (%s, 1, %s) "  # noqa: S608 - quoted identifiers only
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{hits} = CASE WHEN {table}.{expires} <= %s THEN 1 ELSE {table}.{hits} + 1 END, "
        f"{expires} = CASE WHEN {table}.{expires} <= %s THEN %s ELSE {table}.{expires} END "
        f"RETURNING {hits}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now + window_seconds, now, now, now + window_seconds])
        count = cursor.fetchone()[0]
    if random.random() < 0.01:  # expired counters are kept from piling up
        purge_expired()
    return count


def release(key: str) -> None:
    """Give back one attempt (it turned out to be a legitimate one)."""
    RateCounter.objects.filter(key=key, hits__gt=0).update(hits=F("hits") - 1)


def reset(key: str) -> None:
    RateCounter.objects.filter(key=key).update(hits=0)


def purge_expired() -> int:
    return RateCounter.objects.filter(expires_at__lte=int(time.time())).delete()[0]
