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
The buffer is the shared one of `fenxiao/core/batching.py`.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext_noop

from fenxiao.core.batching import Batch, upsert

from ..models import Touch, TouchDecision, TouchRule


@dataclass
class _Visit:
    distributor_id: int
    visitor: str
    day: date
    source: str
    target: str
    hits: int
    last_seen_at: datetime


def _merge(visit: _Visit, again: _Visit) -> None:
    visit.hits += again.hits
    visit.last_seen_at = again.last_seen_at


def count(distributor_id: int, source: str, *, target: str = "", visitor: str) -> None:
    """Count one signed-out visit; the row keeps the day's first source and landing page."""
    now = timezone.now()
    key = (distributor_id, visitor, timezone.localdate(now))
    batch.add(key, _Visit(*key, source, target[:300], 1, now), _merge)


def flush() -> int:
    """Write every pending visit of this process; returns the rows written."""
    return batch.flush()


# The constant part of an anonymous touch row; `hits` is added on conflict.
_CONSTANT = {
    "decision": TouchDecision.PENDING_LOGIN,
    "rule": TouchRule.ANONYMOUS,
    "reason": gettext_noop("访客未登录，推广码暂存，登录后绑定"),
}


def _write(visits: list[_Visit]) -> None:
    """One statement. The conflict target repeats the predicate of
    one_anonymous_touch_row_per_visitor_and_day, so that partial index is chosen."""
    upsert(
        Touch,
        (
            {**asdict(v), **_CONSTANT}
            for v in sorted(visits, key=lambda v: (v.distributor_id, v.visitor, v.day))
        ),
        conflict=("distributor", "visitor", "day"),
        conflict_where="{buyer} IS NULL AND {day} IS NOT NULL",
        add=("hits",),
        replace=("last_seen_at",),
    )


batch = Batch("referral visit counts", _write, interval_setting="REFERRAL_VISIT_FLUSH_SECONDS")
