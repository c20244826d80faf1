"""Keeping the report aggregates: recompute whole days from raw rows, set-based.

`rebuild(first, last)` deletes the aggregate rows of those days and recomputes them, one
chunk of days per transaction, with one `INSERT … SELECT … GROUP BY` per source of each
table. A table fed by several sources (paid orders, refunds, discounts …) is filled by an
upsert per source, each writing only its own columns. Running it twice gives the same rows.

`refresh()` is the incremental upkeep the periodic task runs: it rebuilds from the day of
the last run (less a margin for transactions that committed late) to today, and also the
creation days of commissions whose status moved since then, since `CommissionDay` keeps
what is still held of each day's commission.
"""

from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from fenxiao.catalog.services.products import parent_subtrees
from fenxiao.core.days import day_bounds
from fenxiao.distribution.models import (
    Commission,
    CommissionAdjustment,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
    OrderAttribution,
)
from fenxiao.orders.models import AfterSale, AfterSaleLine, DiscountKind, Order, OrderDiscount, OrderLine
from fenxiao.stores.models import OfflineRefund
from fenxiao.stores.services.pos_sync import sale_key_of

from ..models import (
    BuyerDay,
    CategoryDay,
    CommissionDay,
    DailySales,
    DistinctCount,
    DistributionDay,
    DistributorDay,
    ProductDay,
    ReportWatermark,
    TrafficDay,
    VisitorDay,
)
from . import dashboard, periods, sources
from .sources import GRANTED

CHUNK_DAYS = 31
# A transaction that started before the last run but committed after it wrote rows with
# timestamps before its watermark: re-reading this much before it catches them.
SAFETY_MARGIN = timedelta(minutes=30)
WATERMARK = ReportWatermark.REPORTS

# Reductions of a commission before it settled (a clawback is the one after).
REDUCTIONS = [
    CommissionAdjustment.Kind.REDUCED,
    CommissionAdjustment.Kind.CANCELLED,
    CommissionAdjustment.Kind.VOIDED,
    CommissionAdjustment.Kind.RISK_VOIDED,
    CommissionAdjustment.Kind.REATTRIBUTED,
]

TABLES = [
    BuyerDay,
    DailySales,
    ProductDay,
    CategoryDay,
    DistributorDay,
    CommissionDay,
    DistributionDay,
    TrafficDay,
]


def _zero(expr):
    return Coalesce(expr, Value(0))


def _upsert(model, source, columns: dict, keys: list[str]) -> None:
    """INSERT INTO model's table the rows of `source` (a values()+annotate() query), its
    aliases renamed to columns by `columns`; on a key already there, set the non-key columns.

    `source` may also be a list of such queries with the same aliases (several sources of
    the same columns): their rows are summed per key in the one statement, so each column
    is still written once and two rebuilds of the same days still agree."""
    queries = source if isinstance(source, list) else [source]
    compilers = [q.order_by().query.get_compiler(connection=connection) for q in queries]
    compiled = [c.as_sql() for c in compilers]  # (which also sets each one's `select`)
    aliases = [alias for _, _, alias in compilers[0].select]
    if any([alias for _, _, alias in c.select] != aliases for c in compilers):
        raise ValueError("the sources of one upsert must select the same columns")
    targets = [columns.get(alias, alias) for alias in aliases]
    quote = connection.ops.quote_name
    sql, params = compiled[0]
    if len(compiled) > 1:
        names = [(quote(alias), target in keys) for alias, target in zip(aliases, targets, strict=True)]
        picked = ", ".join(name if key else f"SUM({name})" for name, key in names)
        union = " UNION ALL ".join(part for part, _ in compiled)
        grouped = ", ".join(name for name, key in names if key)
        # Quoted aliases and the ORM's own compiled queries only. (SQLite reads an upsert's
        # SELECT unambiguously only with a WHERE clause.)
        sql = f"SELECT {picked} FROM ({union}) AS sources WHERE 1 = 1 GROUP BY {grouped}"  # noqa: S608
        params = tuple(p for _, part_params in compiled for p in part_params)
    updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in targets if c not in keys)
    statement = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, targets))}) {sql} "
        f"ON CONFLICT ({', '.join(map(quote, keys))}) DO UPDATE SET {updates}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _buyer_day(lo, hi, first, last):
    placed = (
        Order.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(d=TruncDate("created_at"))
        .values("d", "buyer_id")
        .annotate(placed_orders=Count("id"))
    )
    _upsert(BuyerDay, placed, {"d": "day"}, ["day", "buyer_id"])
    paid = (
        sources.paid_orders(lo, hi)
        .annotate(d=TruncDate("paid_at"))
        .values("d", "buyer_id")
        .annotate(paid_orders=Count("id"), paid_amount=Sum("paid_amount"))
    )
    _upsert(BuyerDay, paid, {"d": "day"}, ["day", "buyer_id"])


def _daily_sales(lo, hi, first, last):
    through = Q(attribution__level1__isnull=False)
    orders = (
        sources.paid_orders(lo, hi)
        .annotate(d=TruncDate("paid_at"))
        .values("d")
        .annotate(
            paid_orders=Count("id"),
            gmv=Sum("paid_amount"),
            goods_amount=Sum("goods_amount"),
            shipping=Sum("shipping_fee"),
            distributor_orders=Count("id", filter=through),
            distributor_gmv=_zero(Sum("paid_amount", filter=through)),
        )
    )
    _upsert(DailySales, orders, {"d": "day"}, ["day"])
    units = (
        OrderLine.objects.filter(order__paid_at__gte=lo, order__paid_at__lt=hi)
        .annotate(d=TruncDate("order__paid_at"))
        .values("d")
        .annotate(units=Sum("quantity"))
    )
    _upsert(DailySales, units, {"d": "day"}, ["day"])
    by_kind = {f"discount_{kind}": _zero(Sum("amount", filter=Q(kind=kind))) for kind in DiscountKind.values}
    discounts = (
        OrderDiscount.objects.filter(order__paid_at__gte=lo, order__paid_at__lt=hi)
        .annotate(d=TruncDate("order__paid_at"))
        .values("d")
        .annotate(**by_kind)
    )
    _upsert(DailySales, discounts, {"d": "day"}, ["day"])
    refunds = (
        sources.granted_refunds(lo, hi)
        .annotate(d=TruncDate("decided_at"))
        .values("d")
        .annotate(refund_count=Count("id"), refunds=Sum("amount"))
    )
    _upsert(DailySales, refunds, {"d": "day"}, ["day"])


def _product_day(lo, hi, first, last):
    names = {"d": "day", "pid": "product_id", "cid": "category_id"}
    lines = (
        OrderLine.objects.filter(order__paid_at__gte=lo, order__paid_at__lt=hi)
        .annotate(d=TruncDate("order__paid_at"), pid=F("product_id"), cid=_zero(F("product__category_id")))
        .values("d", "pid", "cid")
        .annotate(orders=Count("order_id", distinct=True), units=Sum("quantity"), sales=Sum("paid_amount"))
    )
    _upsert(ProductDay, lines, names, ["day", "product_id"])
    refunds = (
        AfterSaleLine.objects.filter(
            after_sale__status__in=GRANTED, after_sale__decided_at__gte=lo, after_sale__decided_at__lt=hi
        )
        .annotate(
            d=TruncDate("after_sale__decided_at"),
            pid=F("order_line__product_id"),
            cid=_zero(F("order_line__product__category_id")),
        )
        .values("d", "pid", "cid")
        .annotate(refunded_units=Sum("quantity"), refunds=Sum("amount"))
    )
    _upsert(ProductDay, refunds, names, ["day", "product_id"])


def _category_day(lo, hi, first, last):
    # Distinct per category: one order buying two of its products counts once.
    paid = OrderLine.objects.filter(order__paid_at__gte=lo, order__paid_at__lt=hi).annotate(
        d=TruncDate("order__paid_at")
    )
    names, keys = {"d": "day", "cid": "category_id"}, ["day", "category_id"]
    own = paid.annotate(cid=_zero(F("product__category_id"))).values("d", "cid")
    _upsert(CategoryDay, own.annotate(orders=Count("order_id", distinct=True)), names, keys)
    # A parent's 小计 counts an order once across its whole subtree, so it is counted from
    # the lines, one query per parent (a shop has few); a category with nothing beneath it
    # counts as its own.
    subtrees = parent_subtrees()
    counted = Count("order_id", distinct=True)
    trees = [own.exclude(product__category_id__in=list(subtrees)).annotate(tree_orders=counted)]
    trees += [
        paid.filter(product__category_id__in=ids)
        .annotate(cid=Value(parent, output_field=BigIntegerField()))
        .values("d", "cid")
        .annotate(tree_orders=counted)
        for parent, ids in subtrees.items()
    ]
    _upsert(CategoryDay, trees, names, keys)


def _distributor_day(lo, hi, first, last):
    names = {"d": "day", "did": "distributor_id"}
    keys = ["day", "distributor_id"]
    online = (
        OrderAttribution.objects.filter(level1__isnull=False, order__paid_at__gte=lo, order__paid_at__lt=hi)
        .annotate(d=TruncDate("order__paid_at"), did=F("level1_id"))
        .values("d", "did")
        .annotate(orders=Count("id"), sales=Sum("order__paid_amount"))
    )
    # A sale at a store's till that earned commission (门店收银计佣) counts for its level-1
    # distributor like a paid order, as their own running totals count it, on the day the
    # till reported it (the day its commission was created).
    till = (
        OfflineAttribution.objects.filter(created_at__gte=lo, created_at__lt=hi)
        .annotate(d=TruncDate("created_at"), did=F("level1_id"))
        .values("d", "did")
        .annotate(orders=Count("id"), sales=Sum("total"))
    )
    _upsert(DistributorDay, [online, till], names, keys)
    # What went back of those sales, on the day it went back: an online refund when the
    # after-sale was granted (when the running totals take it off), a return at the till
    # when the till reported it, for a sale that counted for a distributor.
    refunded_online = (
        AfterSale.objects.filter(
            status__in=GRANTED,
            decided_at__gte=lo,
            decided_at__lt=hi,
            order__attribution__level1__isnull=False,
        )
        .annotate(d=TruncDate("decided_at"), did=F("order__attribution__level1_id"))
        .values("d", "did")
        .annotate(refunds=Sum("amount"))
    )
    till_sale = OfflineAttribution.objects.filter(sale_key=sale_key_of(OuterRef("sale_id"))).values(
        "level1_id"
    )[:1]
    refunded_till = (
        OfflineRefund.objects.filter(received_at__gte=lo, received_at__lt=hi)
        .annotate(did=Subquery(till_sale))
        .filter(did__isnull=False)
        .annotate(d=TruncDate("received_at"))
        .values("d", "did")
        .annotate(refunds=Sum("total"))
    )
    _upsert(DistributorDay, [refunded_online, refunded_till], names, keys)
    accrued = (
        sources.accrued_commissions(lo, hi)
        .annotate(d=TruncDate("created_at"), did=F("distributor_id"))
        .values("d", "did")
        .annotate(commission_accrued=Sum("amount"))
    )
    _upsert(DistributorDay, accrued, names, keys)
    settled = (
        LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION, created_at__gte=lo, created_at__lt=hi)
        .annotate(d=TruncDate("created_at"), did=F("distributor_id"))
        .values("d", "did")
        .annotate(commission_settled=Sum("amount"))
    )
    _upsert(DistributorDay, settled, names, keys)
    clawed = (
        CommissionAdjustment.objects.filter(
            kind=CommissionAdjustment.Kind.CLAWBACK, created_at__gte=lo, created_at__lt=hi
        )
        .annotate(d=TruncDate("created_at"), did=F("commission__distributor_id"))
        .values("d", "did")
        .annotate(commission_clawed_back=Sum("amount"))
    )
    _upsert(DistributorDay, clawed, names, keys)


def _commission_day(lo, hi, first, last):
    names = {"d": "day", "lv": "level", "grade": "grade_name"}
    keys = ["day", "level", "grade_name"]
    net = F("amount") - F("reversed_amount")
    accrued = (
        sources.accrued_commissions(lo, hi)
        .annotate(d=TruncDate("created_at"), lv=F("level"), grade=F("grade_name"))
        .values("d", "lv", "grade")
        .annotate(
            accrued_count=Count("id"),
            accrued=Sum("amount"),
            held_pending=_zero(Sum(net, filter=Q(status=Commission.Status.PENDING))),
            held_frozen=_zero(Sum(net, filter=Q(status=Commission.Status.FROZEN))),
        )
    )
    _upsert(CommissionDay, accrued, names, keys)
    via = {"lv": F("commission__level"), "grade": F("commission__grade_name")}
    for kinds, column in ((REDUCTIONS, "reduced"), ([CommissionAdjustment.Kind.CLAWBACK], "clawed_back")):
        adjustments = (
            CommissionAdjustment.objects.filter(kind__in=kinds, created_at__gte=lo, created_at__lt=hi)
            .annotate(d=TruncDate("created_at"), **via)
            .values("d", "lv", "grade")
            .annotate(**{column: Sum("amount")})
        )
        _upsert(CommissionDay, adjustments, names, keys)
    settled = (
        LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION, created_at__gte=lo, created_at__lt=hi)
        .annotate(d=TruncDate("created_at"), **via)
        .values("d", "lv", "grade")
        .annotate(settled=Sum("amount"))
    )
    _upsert(CommissionDay, settled, names, keys)


def _distribution_day(lo, hi, first, last):
    joined = (
        sources.new_distributors(lo, hi)
        .annotate(d=TruncDate("activated_at"))
        .values("d")
        .annotate(new_distributors=Count("id"))
    )
    _upsert(DistributionDay, joined, {"d": "day"}, ["day"])
    paid = (
        sources.paid_withdrawals(lo, hi)
        .annotate(d=TruncDate("paid_at"))
        .values("d")
        .annotate(withdrawals_paid=Count("id"), withdrawn_amount=Sum("amount"), withdrawal_fees=Sum("fee"))
    )
    _upsert(DistributionDay, paid, {"d": "day"}, ["day"])


def _traffic_day(lo, hi, first, last):
    """The funnel's order and paid steps join a visitor-day to the buyer's orders placed and
    paid that same day, through `BuyerDay` (rebuilt first). Each step counts visitor-days
    that reached it, whether or not they went through the steps before (a buyer may order
    from a shared link without adding to cart)."""
    same_day = BuyerDay.objects.filter(day=OuterRef("day"), buyer_id=OuterRef("buyer_id"))
    rows = (
        VisitorDay.objects.filter(day__gte=first, day__lte=last)
        .annotate(
            did=_zero(F("distributor_id")),
            ordered=Exists(same_day.filter(placed_orders__gt=0)),
            paid=Exists(same_day.filter(paid_orders__gt=0)),
        )
        .values("day", "source", "did")
        .annotate(
            visits=Count("id"),
            page_views=Sum("page_views"),
            product_visits=Count("id", filter=Q(product_views__gt=0)),
            cart_visits=Count("id", filter=Q(cart_adds__gt=0)),
            order_visits=Count("id", filter=Q(ordered=True)),
            paid_visits=Count("id", filter=Q(paid=True)),
        )
    )
    _upsert(TrafficDay, rows, {"did": "distributor_id"}, ["day", "source", "distributor_id"])


# In order: the traffic funnel reads BuyerDay.
BUILDERS = {
    BuyerDay: _buyer_day,
    DailySales: _daily_sales,
    ProductDay: _product_day,
    CategoryDay: _category_day,
    DistributorDay: _distributor_day,
    CommissionDay: _commission_day,
    DistributionDay: _distribution_day,
    TrafficDay: _traffic_day,
}


def rebuild(first: date, last: date, tables=None) -> int:
    """Recompute the aggregates of days `first`..`last` (shop time) from raw rows; returns
    the number of days. Idempotent: each chunk of days is replaced in one transaction."""
    tables = tables or TABLES
    day = first
    while day <= last:
        end = min(day + timedelta(days=CHUNK_DAYS - 1), last)
        lo, hi = day_bounds(day, end)
        with transaction.atomic():
            for model in tables:
                model.objects.filter(day__gte=day, day__lte=end).delete()
            if BuyerDay in tables or TrafficDay in tables:
                # Distinct counts kept for spans touching these days are counted again.
                DistinctCount.objects.filter(first__lte=end, last__gte=day).delete()
            for model in tables:
                BUILDERS[model](lo, hi, day, end)
        day = end + timedelta(days=1)
    return max((last - first).days + 1, 0)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    out = []
    for day in sorted(days):
        if out and day == out[-1][1] + timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _moved_commission_days(since, before: date) -> set[date]:
    """Creation days (before `before`) of commissions that settled, were reduced or clawed
    back, or whose order completed (pending → frozen) since `since`."""
    days = set()
    queries = [
        LedgerEntry.objects.filter(kind=LedgerKind.COMMISSION, created_at__gte=since)
        .annotate(d=TruncDate("commission__created_at"))
        .values_list("d", flat=True),
        CommissionAdjustment.objects.filter(created_at__gte=since)
        .annotate(d=TruncDate("commission__created_at"))
        .values_list("d", flat=True),
        # Pending → frozen happens when the order completes. Starting from the frozen
        # commissions (a partial index holds only those) keeps this off the orders table.
        Commission.objects.filter(status=Commission.Status.FROZEN, order__completed_at__gte=since)
        .annotate(d=TruncDate("created_at"))
        .values_list("d", flat=True),
    ]
    for query in queries:
        days.update(d for d in query.order_by().distinct() if d and d < before)
    return days


def _earliest_day() -> date | None:
    """The first day with an order or a visit (two index-backed MIN lookups)."""
    placed = Order.objects.order_by("created_at").values_list("created_at", flat=True).first()
    visited = VisitorDay.objects.order_by("day").values_list("day", flat=True).first()
    days = [d for d in (placed and timezone.localdate(placed), visited) if d]
    return min(days, default=None)


def refresh(now=None) -> dict:
    """Bring the aggregates up to date since the last run. Returns what was rebuilt.

    The first run (no watermark yet) builds the whole history, from the earliest day with
    an order or a visit, so a shop upgraded with orders shows them without `rebuild_reports`.
    Raw rows read by timestamp without an index of their own (after-sales by decision time,
    commission adjustments, distributor activations, withdrawals paid, till returns) are
    tables far smaller than the orders; orders, commissions, ledger entries and visits are
    read through their time indexes."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    mark = ReportWatermark.objects.filter(name=WATERMARK).first()
    since = (mark.refreshed_at if mark else now) - SAFETY_MARGIN
    first = min(timezone.localdate(since), today)
    if mark is None:
        first = min(first, _earliest_day() or today)
    moved = _moved_commission_days(since, first)
    for run_first, run_last in _runs(moved):
        rebuild(run_first, run_last, tables=[CommissionDay])
    rebuild(first, today)
    ReportWatermark.objects.update_or_create(name=WATERMARK, defaults={"refreshed_at": now})
    # The dashboard's presets count their distinct buyers and visitors here, not on the page.
    for key in ("7d", "30d"):
        dashboard.warm(periods.preset(key, today))
    return {"first": first, "last": today, "commission_days": sorted(moved)}
