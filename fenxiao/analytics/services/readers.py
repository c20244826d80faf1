"""Reading the aggregate tables for a period: one grouped query per figure family, whatever
the number of orders behind them. Shared by the dashboard and the reports."""

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, Sum, Value, When

from .periods import DAY, Period

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


def _count_per_group(inner) -> dict:
    """{group: rows} of `inner`, a values("group", person).distinct() query: distinct people
    per group, counted over a hashed DISTINCT (much faster on PostgreSQL than
    COUNT(DISTINCT …) per group, which sorts each group)."""
    sql, params = inner.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT grp, COUNT(*) FROM ({sql}) AS people GROUP BY grp", params)  # noqa: S608
        return dict(cursor.fetchall())


def distinct_counts(queryset, field: str, period: Period) -> tuple[int, int, list[int]]:
    """Distinct `field` values in the period, in the previous period, and per bucket: the
    per-day-per-person rows counted once per span (two queries), never summed over days.
    A day bucket needs no DISTINCT: each person has at most one row a day."""
    prev = period.previous()
    span = Case(
        When(day__gte=period.start, then=Value(CURRENT)), default=Value(PREVIOUS), output_field=IntegerField()
    )
    spans_ = _count_per_group(
        queryset.filter(day__gte=prev.start, day__lte=period.end)
        .annotate(grp=span)
        .values("grp", field)
        .distinct()
    )
    buckets = period.buckets()
    current = queryset.filter(day__gte=period.start, day__lte=period.end)
    if period.grain == DAY:
        per_day = dict(current.values_list("day").annotate(n=Count("pk")).order_by())
        per = [per_day.get(first, 0) for _, first, _ in buckets]
    else:
        bucket = Case(
            *[
                When(day__gte=first, day__lte=last, then=Value(i))
                for i, (_, first, last) in enumerate(buckets)
            ],
            output_field=IntegerField(),
        )
        counted = _count_per_group(current.annotate(grp=bucket).values("grp", field).distinct())
        per = [counted.get(i, 0) for i in range(len(buckets))]
    return spans_.get(CURRENT, 0), spans_.get(PREVIOUS, 0), per


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
