"""Attempt limits that hold under concurrency and across processes.

Invariant: every attempt is counted *before* the work it guards (a password check, an
account insert) and the count it gets back decides whether the work happens. The count is
one atomic step, so a burst of N simultaneous attempts gets the counts 1..N and only the
first `limit` of them proceed — never "read, check, then increment", which lets a burst
through. Counters live in shared storage (never a per-process cache), so they hold for any
number of web processes on any number of machines:

- with Redis (settings.RATE_LIMIT_CACHE names the cache), a key that expires with its
  window: "create at 0 with the window's expiry unless present" and "increment" in one
  MULTI/EXEC, so no attempt writes to the database;
- otherwise one upsert per attempt into `RateCounter`.

Both give the same answers; the tests run the limits against each.
"""

import hashlib
import random
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.db.models import F

from ..models import RateCounter

_table = RateCounter._meta.db_table


def counter_key(scope: str, ident: str) -> str:
    """A fixed-length key: usernames and addresses are hashed, never stored as typed."""
    digest = hashlib.sha256(ident.strip().lower().encode()).hexdigest()[:40]
    return f"{scope}:{digest}"


def _shared_cache():
    alias = settings.RATE_LIMIT_CACHE
    return caches[alias] if alias else None


def hit(key: str, window_seconds: int) -> int:
    """Count one attempt; returns how many attempts this window holds, this one included."""
    cache = _shared_cache()
    if cache is not None:
        return _cache_hit(cache, key, window_seconds)
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
    cache = _shared_cache()
    if cache is None:
        RateCounter.objects.filter(key=key, hits__gt=0).update(hits=F("hits") - 1)
        return
    try:
        if cache.decr(_cache_key(key)) < 0:  # reset or expired meanwhile: never below zero
            cache.incr(_cache_key(key))
    except ValueError:  # the window ended: nothing left to give back
        pass


def reset(key: str) -> None:
    cache = _shared_cache()
    if cache is None:
        RateCounter.objects.filter(key=key).update(hits=0)
    else:
        cache.delete(_cache_key(key))


def purge_expired() -> int:
    """Drop ended windows from the database (Redis expires its keys by itself)."""
    return RateCounter.objects.filter(expires_at__lte=int(time.time())).delete()[0]


def _cache_key(key: str) -> str:
    return f"ratelimit:{key}"


def _cache_hit(cache, key: str, window_seconds: int) -> int:
    key = _cache_key(key)
    if isinstance(cache, RedisCache):
        # SET NX EX and INCR in one MULTI/EXEC: the expiry is set exactly when the window's
        # first attempt creates the key, and no other client runs in between (a separate
        # add() then incr() could see the key expire between the two and recreate it
        # without an expiry).
        redis_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(redis_key, write=True)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(redis_key, 0, ex=window_seconds, nx=True)
            pipe.incr(redis_key)
            return int(pipe.execute()[1])
    # Any other cache backend (a test's local-memory cache): add() creates the window's
    # key only if absent, incr() counts; a key that expired in between is created again.
    while True:
        if cache.add(key, 1, timeout=window_seconds):
            return 1
        try:
            return cache.incr(key)
        except ValueError:
            continue
