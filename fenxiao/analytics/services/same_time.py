"""今日 against 昨日同时段: today's figures run up to the last refresh of the aggregates, so
they are compared with yesterday up to the same time of day, not with the whole of
yesterday (which made every morning look like a collapse).

Yesterday-so-far is read from the raw rows (`sources`), one query per source, through the
indexes the aggregates read them by. 浏览量 is kept per visitor-day without times, so it
has nothing to compare with (None)."""

from datetime import date, datetime, timedelta

from django.db.models import Count, Sum
from django.utils import timezone

from fenxiao.core.days import day_start

from ..models import ReportWatermark, VisitorDay
from . import sources
from .periods import Period


def cutoff(period: Period) -> datetime | None:
    """The moment today's figures run up to (the aggregates' last refresh, within today),
    when `period` is today alone; None for any other period."""
    today = timezone.localdate()
    if period.days != 1 or period.start != today:
        return None
    start, now = day_start(today), timezone.now()
    marks = ReportWatermark.objects.filter(name=ReportWatermark.REPORTS)
    refreshed = marks.values_list("refreshed_at", flat=True).first()
    return min(max(refreshed or now, start), now)


def _yesterday(until: datetime) -> tuple[date, datetime, datetime]:
    """Yesterday, its start, and the moment as far into it as `until` is into today."""
    today = timezone.localdate(until)
    yesterday = today - timedelta(days=1)
    lo = day_start(yesterday)
    return yesterday, lo, lo + (until - day_start(today))


def previous_until(until: datetime) -> datetime:
    """Where yesterday's figures stop when today's run up to `until`."""
    return _yesterday(until)[2]


def yesterday_until(until: datetime) -> dict[str, int | None]:
    """The dashboard's summed figures for yesterday, from its start to `until`'s time of day."""
    yesterday, lo, hi = _yesterday(until)
    orders = sources.paid_orders(lo, hi).aggregate(
        n=Count("id"), gmv=Sum("paid_amount"), buyers=Count("buyer_id", distinct=True)
    )

    def total(queryset, field: str) -> int:
        return queryset.aggregate(t=Sum(field))["t"] or 0

    return {
        "gmv": orders["gmv"] or 0,
        "paid_orders": orders["n"],
        "paying_buyers": orders["buyers"],
        "refunds": total(sources.granted_refunds(lo, hi), "amount"),
        # A visitor counts from their first visit of the day.
        "visitors": VisitorDay.objects.filter(day=yesterday, first_seen_at__lt=hi).count(),
        "page_views": None,
        "new_distributors": sources.new_distributors(lo, hi).count(),
        "commission_accrued": total(sources.accrued_commissions(lo, hi), "amount"),
        "commission_paid": total(sources.paid_withdrawals(lo, hi), "amount"),
    }
