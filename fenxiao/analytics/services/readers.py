"""Reading the aggregate tables for a period: one grouped query per figure family, whatever
the number of orders behind them. Shared by the dashboard and the reports."""

from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When

from .periods import Period

CURRENT, PREVIOUS = 0, 1


def ratio_bp(part: int, whole: int) -> int:
    return part * 10000 // whole if whole else 0


def daily_sums(model, first, last, fields: list[str], **filters) -> dict:
    """{day: {field: sum}} over `first`..`last`."""
    rows = (
        model.objects.filter(day__gte=first, day__lte=last, **filters)
        .values("day")
        .annotate(**{f"t_{f}": Sum(f) for f in fields})
        .order_by()
    )
    return {row["day"]: {f: row[f"t_{f}"] or 0 for f in fields} for row in rows}


def spans(period: Period, daily: dict, fields: list[str]):
    """Totals for the period, for the previous one, and per bucket, from `daily_sums` read
    over previous.start .. period.end."""
    prev = period.previous()

    def total(first, last):
        out = dict.fromkeys(fields, 0)
        for day, row in daily.items():
            if first <= day <= last:
                for f in fields:
                    out[f] += row[f] or 0
        return out

    return (
        total(period.start, period.end),
        total(prev.start, prev.end),
        [total(first, last) for _, first, last in period.buckets()],
    )


def distinct_counts(queryset, field: str, period: Period) -> tuple[int, int, list[int]]:
    """Distinct `field` values in the period, in the previous period, and per bucket: the
    per-day-per-person rows counted once per span (two queries), never summed over days."""
    prev = period.previous()
    whole = (
        queryset.filter(day__gte=prev.start, day__lte=period.end)
        .annotate(
            span=Case(
                When(day__gte=period.start, then=Value(CURRENT)),
                default=Value(PREVIOUS),
                output_field=IntegerField(),
            )
        )
        .values("span")
        .annotate(n=Count(field, distinct=True))
        .order_by()
    )
    spans_ = {row["span"]: row["n"] for row in whole}
    buckets = period.buckets()
    by_bucket = (
        queryset.filter(day__gte=period.start, day__lte=period.end)
        .annotate(
            bucket=Case(
                *[
                    When(day__gte=first, day__lte=last, then=Value(i))
                    for i, (_, first, last) in enumerate(buckets)
                ],
                output_field=IntegerField(),
            )
        )
        .values("bucket")
        .annotate(n=Count(field, distinct=True))
        .order_by()
    )
    per = {row["bucket"]: row["n"] for row in by_bucket}
    return spans_.get(CURRENT, 0), spans_.get(PREVIOUS, 0), [per.get(i, 0) for i in range(len(buckets))]


def grouped(
    model, period: Period, keys: list[str], fields: list[str], order: str | None = None, limit=None, **filters
):
    """Rows of `model` over the period grouped by `keys`, with `fields` summed (one row of
    totals when `keys` is empty)."""
    if not keys:
        total = model.objects.filter(day__gte=period.start, day__lte=period.end, **filters).aggregate(
            **{f"t_{f}": Sum(f) for f in fields}
        )
        return [{f: total[f"t_{f}"] or 0 for f in fields}]
    rows = (
        model.objects.filter(day__gte=period.start, day__lte=period.end, **filters)
        .values(*keys)
        .annotate(**{f"t_{f}": Sum(f) for f in fields})
    )
    rows = rows.order_by(f"-t_{order}", *keys) if order else rows.order_by(*keys)
    if limit:
        rows = rows[:limit]
    return [{**{k: row[k] for k in keys}, **{f: row[f"t_{f}"] or 0 for f in fields}} for row in rows]


def having_any(fields: list[str]) -> Q:
    q = Q()
    for f in fields:
        q |= Q(**{f"{f}__gt": 0})
    return q


def grouped_distinct(queryset, period: Period, key: str, field: str) -> list[tuple]:
    """(key value, distinct `field` count) over the period."""
    rows = (
        queryset.filter(day__gte=period.start, day__lte=period.end)
        .values(key)
        .annotate(n=Count(field, distinct=True))
        .order_by()
    )
    return [(row[key], row["n"]) for row in rows]
