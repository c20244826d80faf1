"""经营概况: the shop's headline figures for a period, each against the period before and
with its trend per bucket. Reads aggregate tables only (eight queries in all)."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import ratio_bp

from ..models import BuyerDay, CommissionDay, DailySales, DistributionDay, TrafficDay, VisitorDay
from . import readers, same_time
from .periods import Period
from .shapes import BP, COUNT, FEN, Chart, Dataset, Metric

# Which report permission a figure belongs to: a role sees a card only with that permission.
METRIC_REPORT = {
    "gmv": "sales",
    "paid_orders": "sales",
    "paying_buyers": "sales",
    "avg_order_value": "sales",
    "refunds": "sales",
    "visitors": "traffic",
    "page_views": "traffic",
    "conversion_bp": "traffic",
    "new_distributors": "distribution",
    "commission_accrued": "distribution",
    "commission_paid": "distribution",
}

LABELS = {
    "gmv": (gettext_lazy("实付金额"), FEN),
    "paid_orders": (gettext_lazy("付款订单数"), COUNT),
    "paying_buyers": (gettext_lazy("付款人数"), COUNT),
    "avg_order_value": (gettext_lazy("客单价"), FEN),
    "refunds": (gettext_lazy("退款金额"), FEN),
    "visitors": (gettext_lazy("访客数"), COUNT),
    "page_views": (gettext_lazy("浏览量"), COUNT),
    "conversion_bp": (gettext_lazy("转化率"), BP),
    "new_distributors": (gettext_lazy("新增分销商"), COUNT),
    "commission_accrued": (gettext_lazy("产生佣金"), FEN),
    "commission_paid": (gettext_lazy("佣金提现打款"), FEN),
}


PAYING_BUYERS, VISITORS = "paying_buyers", "visitors"  # their kept distinct counts


def average_order_value(gmv: int, orders: int) -> int:
    """客单价 in fen (rounded down), as the dashboard and the sales report show it."""
    return gmv // orders if orders else 0


def conversion_bp(paying_buyers: int, visitors: int) -> int:
    """转化率: paying buyers of visitors, as the dashboard and the traffic report show it."""
    return ratio_bp(paying_buyers, visitors)


def warm(period: Period) -> None:
    """Count the distinct figures of `period` (and the one before) ahead of the page."""
    readers.distinct_counts(BuyerDay.objects.filter(paid_orders__gt=0), "buyer_id", period, PAYING_BUYERS)
    readers.distinct_counts(VisitorDay.objects.all(), "visitor", period, VISITORS)


def _figures(period: Period, until=None) -> dict[str, tuple[int, int | None, list[int]]]:
    """key -> (value, previous value, trend). With `until` (today's figures run up to
    then), the previous values are yesterday's up to the same time of day."""
    prev = period.previous()
    out = {}

    def summed(model, mapping: dict[str, str]):
        daily = readers.daily_sums(model, prev.start, period.end, list(set(mapping.values())))
        cur, old, per = readers.spans(period, daily, list(set(mapping.values())))
        for key, field in mapping.items():
            out[key] = (cur[field], old[field], [b[field] for b in per])

    summed(DailySales, {"gmv": "gmv", "paid_orders": "paid_orders", "refunds": "refunds"})
    summed(TrafficDay, {"page_views": "page_views"})
    summed(DistributionDay, {"new_distributors": "new_distributors", "commission_paid": "withdrawn_amount"})
    summed(CommissionDay, {"commission_accrued": "accrued"})
    out["paying_buyers"] = readers.distinct_counts(
        BuyerDay.objects.filter(paid_orders__gt=0), "buyer_id", period, PAYING_BUYERS
    )
    out["visitors"] = readers.distinct_counts(VisitorDay.objects.all(), "visitor", period, VISITORS)

    if until is not None:
        for key, value in same_time.yesterday_until(until).items():
            out[key] = (out[key][0], value, out[key][2])

    def per(a: tuple, b: tuple, f) -> tuple:
        return f(a[0], b[0]), f(a[1], b[1]), [f(x, y) for x, y in zip(a[2], b[2], strict=True)]

    out["avg_order_value"] = per(out["gmv"], out["paid_orders"], average_order_value)
    out["conversion_bp"] = per(out["paying_buyers"], out["visitors"], conversion_bp)
    return out


def overview(period: Period, until=None) -> list[Metric]:
    """The cards; for 今日, against yesterday up to `until` (read here when not given)."""
    until = until or same_time.cutoff(period)
    figures = _figures(period, until)
    compared = _("昨日同时段") if until else ""
    return [
        Metric(
            key,
            LABELS[key][0],
            *figures[key][:2],
            unit=LABELS[key][1],
            trend=figures[key][2],
            compared=compared,
        )
        for key in METRIC_REPORT
    ]


def trend(period: Period, metrics: list[Metric] | None = None) -> Chart:
    """The dashboard chart: paid GMV, paid orders and visitors per bucket. Pass the
    `overview(period)` already read to build it without querying again."""
    by_key = {m.key: m.trend for m in metrics} if metrics else {k: v[2] for k, v in _figures(period).items()}
    keys = [key for key in ("gmv", "paid_orders", "visitors") if key in by_key]
    return Chart(
        labels=[label for label, _, _ in period.buckets()],
        datasets=[Dataset(LABELS[key][0], by_key[key], LABELS[key][1]) for key in keys],
    )
