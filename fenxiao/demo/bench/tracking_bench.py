"""What traffic recording costs an H5 page: the product page, in process, with tracking on
and off, alternating rounds of many requests so a drifting machine favours neither side.

Tracking runs with the flush interval the site runs with (TRAFFIC_FLUSH_SECONDS), so the
"on" figures include the batched writes as they fall due, spread over the requests that
gathered them. Two figures: the page's median with tracking off and on (the honest end-to-end
difference, but on a shared machine a page's own noise is about a millisecond), and the time
spent in the tracking middleware itself on each tracked page (what tracking adds, measured
directly: the visitor cookie, the source, the buffer and its inline writes). The target is
under 1 ms per page; the figures are printed, not asserted (the test suite shows the query
side: no query for a gathered page view).
"""

import statistics
import time
from contextlib import contextmanager

from django.test import Client, override_settings

TARGET_MS = 1.0


@contextmanager
def inline_writes():
    """The bench runs in one rolled-back transaction: a buffer's timer would write from its
    own thread and connection (and wait on the transaction's lock), so requests write inline."""
    from fenxiao.analytics.services import tracking
    from fenxiao.distribution.services import visits

    batches = (tracking.batch, visits.batch)
    for batch in batches:
        batch.use_timer = False
    try:
        yield
    finally:
        for batch in batches:
            batch.flush()
            batch.use_timer = True


def _time(client: Client, url: str, count: int) -> list[float]:
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return timings


@contextmanager
def _timed_hook(spent: list[float]):
    """Times each call of the middleware's tracking step (it runs after the view)."""
    from fenxiao.analytics.middleware import TrafficMiddleware

    original = TrafficMiddleware._track

    def timed(self, request, response):
        start = time.perf_counter()
        try:
            return original(self, request, response)
        finally:
            spent.append((time.perf_counter() - start) * 1000)

    TrafficMiddleware._track = timed
    try:
        yield
    finally:
        TrafficMiddleware._track = original


def measure(write, product, buyer, *, rounds: int = 10, per_round: int = 50) -> float:
    """Prints the product page's time with tracking off and on, signed out and signed in
    (the signed-in page also writes the browsing trail); returns the worst mean cost of
    the tracking step in ms."""
    from fenxiao.analytics.services import tracking

    url = f"/products/{product.pk}/"
    anonymous, signed_in = Client(), Client()
    signed_in.force_login(buyer)
    worst = 0.0
    for label, client in (("signed out", anonymous), ("signed in", signed_in)):
        times, spent = {True: [], False: []}, []
        for on in (True, False):  # warm both paths (templates, caches, the visitor cookie)
            with override_settings(TRAFFIC_TRACKING=on):
                _time(client, url, 5)
        for _ in range(rounds):
            for on in (False, True):
                with override_settings(TRAFFIC_TRACKING=on), _timed_hook(spent if on else []):
                    times[on] += _time(client, url, per_round)
        tracking.flush()
        off, on = statistics.median(times[False]), statistics.median(times[True])
        cost, median = statistics.fmean(spent), statistics.median(spent)
        p99 = statistics.quantiles(spent, n=100)[98]
        worst = max(worst, cost)
        verdict = "ok" if cost < TARGET_MS else "SLOW"
        write(
            f"H5 product page, {label:<10} tracking off {off:6.2f} ms, on {on:6.2f} ms "
            f"(medians of {len(times[True])}, {on - off:+.2f} ms)"
        )
        write(
            f"  tracking step, {label:<10} {cost * 1000:6.0f} µs mean, {median * 1000:4.0f} µs median, "
            f"{p99 * 1000:6.0f} µs p99 "
            f"per page, batched writes included (target < {TARGET_MS:g} ms: {verdict})"
        )
    return worst
