"""Keeping the aggregates: incremental upkeep equals a rebuild from scratch, a rebuild is
idempotent, and the figures agree with the raw orders, commissions, ledger and visits."""

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from fenxiao.analytics import tasks
from fenxiao.analytics.models import VisitorDay
from fenxiao.analytics.services import aggregates, dashboard, reports
from fenxiao.analytics.services.periods import Period
from fenxiao.core.days import day_bounds
from fenxiao.distribution.models import Commission, CommissionAdjustment, Distributor, LedgerEntry, Withdrawal
from fenxiao.orders.models import AfterSale, Order, OrderLine
from fenxiao.orders.services import lifecycle

from .shop import build_shop, day

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    """Every aggregate row, without ids."""
    out = {}
    for model in aggregates.TABLES:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
        out[model.__name__] = sorted(tuple(row) for row in model.objects.values_list(*fields))
    return out


def test_a_rebuild_from_scratch_equals_the_incrementally_kept_aggregates():
    build_shop(refresh=True)
    kept = snapshot()
    assert kept["DailySales"] and kept["CommissionDay"] and kept["TrafficDay"]
    for model in aggregates.TABLES:
        model.objects.all().delete()
    aggregates.rebuild(day(-1), timezone.localdate())
    assert snapshot() == kept
    # Idempotent: once more changes nothing.
    aggregates.rebuild(day(-1), timezone.localdate())
    assert snapshot() == kept


def test_the_command_rebuilds_what_was_never_refreshed(capsys):
    build_shop(refresh=False)
    assert snapshot()["DailySales"] == []
    call_command("rebuild_reports", "--start", day(0).isoformat(), "--end", day(4).isoformat())
    assert "rebuilt 5 day(s)" in capsys.readouterr().out
    assert dashboard.overview(Period(day(0), day(4)))[0].value == 39000


@pytest.mark.parametrize(
    "args",
    [["--start", "2026-13-01", "--end", "2026-13-02"], ["--start", "2026-02-02", "--end", "2026-02-01"]],
)
def test_the_command_refuses_bad_dates(args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("rebuild_reports", *args)


def test_the_periodic_task_refreshes_from_its_watermark():
    build_shop(refresh=False)
    aggregates.rebuild(day(0), day(4))
    # A payment today: the next run (whose watermark is well before) picks it up.
    tasks.refresh_reports.call_local()
    today = Period(timezone.localdate(), timezone.localdate())
    before = dashboard.overview(today)[0].value
    from fenxiao.distribution.tests.helpers import buy, sku
    from fenxiao.testing import make_buyer, make_product

    buy(make_buyer(), (sku(make_product(price=3000)), 1))
    assert dashboard.overview(today)[0].value == before
    tasks.refresh_reports.call_local()
    assert dashboard.overview(today)[0].value == before + 3000


def test_the_figures_agree_with_the_raw_rows():
    """Recompute the dashboard and the sales/distribution totals straight from raw rows."""
    build_shop(refresh=True)
    period = Period(day(0), day(4))
    lo, hi = day_bounds(period.start, period.end)
    paid = Order.objects.filter(paid_at__gte=lo, paid_at__lt=hi)
    raw_paid = paid.aggregate(n=Count("id"), gmv=Sum("paid_amount"))
    granted = AfterSale.objects.filter(
        status__in=aggregates.GRANTED, decided_at__gte=lo, decided_at__lt=hi
    ).aggregate(s=Sum("amount"))["s"]
    # Every refund of the shop was granted in the period: it equals the orders' refunded sums.
    assert granted == Order.objects.aggregate(s=Sum("refunded_amount"))["s"]
    visitors = VisitorDay.objects.filter(day__gte=period.start, day__lte=period.end)
    raw = {
        "gmv": raw_paid["gmv"],
        "paid_orders": raw_paid["n"],
        "paying_buyers": paid.values("buyer").distinct().count(),
        "refunds": granted,
        "visitors": visitors.values("visitor").distinct().count(),
        "page_views": visitors.aggregate(s=Sum("page_views"))["s"],
        "new_distributors": Distributor.objects.filter(activated_at__gte=lo, activated_at__lt=hi).count(),
        "commission_accrued": Commission.objects.filter(created_at__gte=lo, created_at__lt=hi).aggregate(
            s=Sum("amount")
        )["s"],
        "commission_paid": Withdrawal.objects.filter(
            status="paid", paid_at__gte=lo, paid_at__lt=hi
        ).aggregate(s=Sum("amount"))["s"],
    }
    got = {m.key: m.value for m in dashboard.overview(period)}
    assert {k: got[k] for k in raw} == raw
    assert got["avg_order_value"] == raw["gmv"] // raw["paid_orders"]

    sales = {r.key: r for r in reports.build("sales", period, {})}
    units = OrderLine.objects.filter(order__in=paid).aggregate(s=Sum("quantity"))["s"]
    assert sales["sales-by-period"].table.totals["units"] == units
    per_product = {
        row["product_id"]: row["s"]
        for row in OrderLine.objects.filter(order__in=paid)
        .values("product_id")
        .annotate(s=Sum("paid_amount"))
    }
    assert {r["product_id"]: r["sales"] for r in sales["sales-by-product"].table.rows} == per_product

    dist = {m.key: m.value for m in reports.build("distribution", period, {})[0].metrics}
    ledger_settled = LedgerEntry.objects.filter(kind="commission").aggregate(s=Sum("amount"))["s"]
    clawed = CommissionAdjustment.objects.filter(kind="clawback").aggregate(s=Sum("amount"))["s"]
    assert (dist["commission_settled"], dist["commission_clawed_back"]) == (ledger_settled, clawed)
    assert -LedgerEntry.objects.filter(kind="clawback").aggregate(s=Sum("amount"))["s"] == clawed
    held = Commission.objects.filter(status__in=["pending", "frozen"])
    assert dist["commission_pending"] + dist["commission_frozen"] == sum(c.net_amount for c in held)
    through = paid.filter(attribution__level1__isnull=False).aggregate(s=Sum("paid_amount"))["s"]
    assert dist["distributor_sales"] == through


def test_refresh_keeps_what_is_still_held_of_an_old_day():
    """o5's commission, accrued on D2, is cancelled today (the buyer cancels the unshipped
    order): the next refresh rebuilds D2, far behind its window, and it is no longer held."""
    shop = build_shop(refresh=True)
    period = Period(day(0), day(4))

    def distribution():
        return {m.key: m.value for m in reports.build("distribution", period, {})[0].metrics}

    assert distribution()["commission_pending"] == 600
    lifecycle.cancel(shop["o5"], shop["buyer1"])
    assert day(2) in aggregates.refresh()["commission_days"]
    after = distribution()
    assert (after["commission_pending"], after["commission_accrued"]) == (0, 5100)
    # The reduction itself counts today, outside the period.
    today = Period(timezone.localdate(), timezone.localdate())
    assert {m.key: m.value for m in reports.build("distribution", today, {})[0].metrics}[
        "commission_reduced"
    ] == 600


def test_kept_distinct_counts_are_counted_again_after_a_rebuild_of_their_days():
    from fenxiao.analytics.models import DistinctCount

    from .shop import visit

    build_shop(refresh=True)
    period = Period(day(0), day(4))

    def visitors():
        return {m.key: m.value for m in dashboard.overview(period)}["visitors"]

    assert visitors() == 4
    assert DistinctCount.objects.filter(metric="visitors", first=day(0), last=day(4)).exists()
    visit(1, "v5", source="poster", pv=1)  # written late for D1
    assert visitors() == 4  # kept until D1 is rebuilt
    aggregates.rebuild(day(1), day(1))
    assert visitors() == 5
