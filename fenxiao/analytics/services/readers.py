"""Reading the aggregate tables for a period: one grouped query per figure family, whatever
the number of orders behind them. Shared by the dashboard and the reports."""

from django.db import connection
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.utils import timezone

from ..models import DistinctCount
from .periods import Period

CURRENT, PREVIOUS = 0, 1


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
    """{group: rows} of `inner`, a values("grp", person).distinct() query: distinct people
    per group, counted over a hashed DISTINCT (much faster on PostgreSQL than
    COUNT(DISTINCT …) per group, which sorts each group)."""
    sql, params = inner.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT grp, COUNT(*) FROM ({sql}) AS people GROUP BY grp", params)  # noqa: S608
        return dict(cursor.fetchall())


def _compute(queryset, field: str, spans: list[tuple]) -> dict:
    """{span: distinct people} for non-overlapping `spans`, in one query. Single days need
    no DISTINCT: each person has at most one row a day."""
    if all(first == last for first, last in spans):
        days = [first for first, _ in spans]
        per_day = dict(queryset.filter(day__in=days).values_list("day").annotate(n=Count("pk")).order_by())
        return {(d, d): per_day.get(d, 0) for d in days}
    grp = Case(
        *[When(day__gte=first, day__lte=last, then=Value(i)) for i, (first, last) in enumerate(spans)],
        output_field=IntegerField(),
    )
    lo, hi = min(f for f, _ in spans), max(last for _, last in spans)
    counted = _count_per_group(
        queryset.filter(day__gte=lo, day__lte=hi).annotate(grp=grp).values("grp", field).distinct()
    )
    return {span: counted.get(i, 0) for i, span in enumerate(spans)}


def distinct_counts(queryset, field: str, period: Period, metric: str) -> tuple[int, int, list[int]]:
    """Distinct `field` values (people) in the period, in the previous period, and per
    bucket: counted once per span from the per-day-per-person rows, never summed over days.
    Spans already counted come from `DistinctCount` (one query); the rest are counted (at
    most two queries: the two periods, the buckets) and kept if they have ended."""
    prev = period.previous()
    whole = [(period.start, period.end), (prev.start, prev.end)]
    buckets = [(first, last) for _, first, last in period.buckets()]
    known = {
        (row.first, row.last): row.value
        for row in DistinctCount.objects.filter(metric=metric, first__gte=prev.start, last__lte=period.end)
    }
    computed = {}
    for group in (whole, buckets):
        missing = [span for span in group if span not in known and span not in computed]
        if missing:
            computed.update(_compute(queryset, field, missing))
    if computed:
        today = timezone.localdate()
        DistinctCount.objects.bulk_create(
            [
                DistinctCount(metric=metric, first=f, last=lst, value=v)
                for (f, lst), v in computed.items()
                if lst < today
            ],
            ignore_conflicts=True,
        )
    known.update(computed)
    return known[whole[0]], known[whole[1]], [known[span] for span in buckets]


def grouped(
    model,
    period: Period,
    keys: list[str],
    fields: list[str],
    order: str | None = None,
    limit=None,
    derived: dict | None = None,
    **filters,
):
    """Rows of `model` over the period grouped by `keys`, with `fields` summed (one row of
    totals when `keys` is empty). `derived` names figures computed from the sums (an
    expression over `F("t_<field>")`): returned, and orderable, like the sums."""
    if not keys:
        total = model.objects.filter(day__gte=period.start, day__lte=period.end, **filters).aggregate(
            **{f"t_{f}": Sum(f) for f in fields}
        )
        return [{f: total[f"t_{f}"] or 0 for f in fields}]
    rows = (
        model.objects.filter(day__gte=period.start, day__lte=period.end, **filters)
        .values(*keys)
        .annotate(**{f"t_{f}": Sum(f) for f in fields})
        .annotate(**{f"t_{name}": expression for name, expression in (derived or {}).items()})
    )
    fields = [*fields, *(derived or {})]
    rows = rows.order_by(f"-t_{order}", *keys) if order else rows.order_by(*keys)
    if limit:
        rows = rows[:limit]
    return [{**{k: row[k] for k in keys}, **{f: row[f"t_{f}"] or 0 for f in fields}} for row in rows]


def grouped_distinct(queryset, period: Period, key: str, field: str, metric: str) -> dict:
    """{key value: distinct `field` count} over the period, kept like `distinct_counts` (a
    row per key value under "<metric>:<value>", and "<metric>" as the marker it was done)."""
    span = {"first": period.start, "last": period.end}
    rows = DistinctCount.objects.filter(metric__startswith=metric, **span).values_list("metric", "value")
    kept = dict(rows)
    if metric in kept:
        return {name.split(":", 1)[1]: value for name, value in kept.items() if ":" in name}
    counted = {
        row[key]: row["n"]
        for row in queryset.filter(day__gte=period.start, day__lte=period.end)
        .values(key)
        .annotate(n=Count(field, distinct=True))
        .order_by()
    }
    if period.end < timezone.localdate():
        DistinctCount.objects.bulk_create(
            [
                DistinctCount(metric=metric, value=len(counted), **span),
                *[DistinctCount(metric=f"{metric}:{k}", value=v, **span) for k, v in counted.items()],
            ],
            ignore_conflicts=True,
        )
    return counted
