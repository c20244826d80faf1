"""流量报表: page views and visitors by bucket, by source and by distributor, and the funnel
visit → product view → add to cart → order → paid, overall and per source.

Visitors (UV) are distinct over the span shown, counted on the per-visitor-per-day
`VisitorDay` rows. Funnel steps count visits (a visitor's day) that reached the step: a
visit "ordered" or "paid" when its signed-in buyer placed or paid an order that same day."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import ratio_bp
from fenxiao.distribution.models import Distributor

from ..models import BuyerDay, TrafficDay, VisitorDay, VisitSource
from . import dashboard, readers
from .periods import Period
from .shapes import BP, Chart, Column, Dataset, Metric, Report, Table

STEPS = [
    ("visits", gettext_lazy("访问")),
    ("product_visits", gettext_lazy("浏览商品")),
    ("cart_visits", gettext_lazy("加入购物车")),
    ("order_visits", gettext_lazy("下单")),
    ("paid_visits", gettext_lazy("付款")),
]
STEP_RATES = {
    "product_visits": gettext_lazy("浏览商品率"),
    "cart_visits": gettext_lazy("加入购物车率"),
    "order_visits": gettext_lazy("下单率"),
    "paid_visits": gettext_lazy("付款率"),
}
FIELDS = ["page_views", *[k for k, _label in STEPS]]
SOURCES = dict(VisitSource.choices)


def _trend(period: Period) -> Report:
    prev = period.previous()
    cur, old, per = readers.spans(
        period, readers.daily_sums(TrafficDay, prev.start, period.end, FIELDS), FIELDS
    )
    uv, uv_old, uv_per = readers.distinct_counts(
        VisitorDay.objects.all(), "visitor", period, dashboard.VISITORS
    )
    # The dashboard's 转化率 card opens this report: paying buyers of visitors, as there.
    paying, paying_old, paying_per = readers.distinct_counts(
        BuyerDay.objects.filter(paid_orders__gt=0), "buyer_id", period, dashboard.PAYING_BUYERS
    )
    metrics = [
        Metric("page_views", _("浏览量（PV）"), cur["page_views"], old["page_views"]),
        Metric("visitors", _("访客数（UV）"), uv, uv_old),
        Metric("visits", _("访问次数（访客日）"), cur["visits"], old["visits"]),
        Metric("paid_visits", _("付款访问"), cur["paid_visits"], old["paid_visits"]),
        Metric(
            "conversion_bp",
            _("转化率"),
            dashboard.conversion_bp(paying, uv),
            dashboard.conversion_bp(paying_old, uv_old),
            BP,
        ),
    ]
    rows = [
        {
            "bucket": label,
            "start": first.isoformat(),
            "page_views": row["page_views"],
            "visitors": n,
            "visits": row["visits"],
            "conversion_bp": dashboard.conversion_bp(buyers, n),
        }
        for (label, first, _last), row, n, buyers in zip(
            period.buckets(), per, uv_per, paying_per, strict=True
        )
    ]
    columns = [
        Column("bucket", _("时间"), text=True),
        Column("page_views", _("浏览量（PV）")),
        Column("visitors", _("访客数（UV）")),
        Column("visits", _("访问次数")),
        Column("conversion_bp", _("转化率"), BP),
    ]
    chart = Chart(
        [r["bucket"] for r in rows],
        [
            Dataset(_("浏览量"), [r["page_views"] for r in rows]),
            Dataset(_("访客数"), [r["visitors"] for r in rows]),
        ],
    )
    totals = {
        "bucket": _("合计"),
        "page_views": cur["page_views"],
        "visitors": uv,
        "visits": cur["visits"],
        "conversion_bp": metrics[-1].value,
    }
    return Report(
        "traffic-by-period",
        _("流量趋势"),
        period,
        metrics,
        chart,
        Table(columns, rows, totals),
        _(
            "访客数按访客去重：整段时间的访客数不是各日访客数之和。"
            "转化率 = 付款人数 ÷ 访客数，与经营概况相同；付款访问指访客登录的账号在访问当天付款。"
        ),
    )


def _funnel_row(row: dict) -> dict:
    for key, _label in STEPS[1:]:
        row[f"{key}_bp"] = ratio_bp(row[key], row["visits"])
    return row


def funnel_columns() -> list[Column]:
    return [
        *[Column(k, label) for k, label in STEPS],
        *[Column(f"{k}_bp", STEP_RATES[k], BP) for k, _label in STEPS[1:]],
    ]


def _by_source(period: Period) -> Report:
    rows = readers.grouped(TrafficDay, period, ["source"], FIELDS, order="visits")
    uv = readers.grouped_distinct(VisitorDay.objects.all(), period, "source", "visitor", "visitors_by_source")
    for row in rows:
        row["label"] = str(SOURCES.get(row["source"], row["source"]))
        row["visitors"] = uv.get(row["source"], 0)
    columns = [
        Column("label", _("来源"), text=True),
        Column("page_views", _("浏览量（PV）")),
        Column("visitors", _("访客数（UV）")),
        Column("visits", _("访问次数")),
    ]
    chart = Chart(
        [r["label"] for r in rows], [Dataset(_("访客数"), [r["visitors"] for r in rows])], kind="bar"
    )
    return Report(
        "traffic-by-source",
        _("访问来源"),
        period,
        chart=chart,
        table=Table(columns, rows),
        note=_("来源取访客当天第一次访问的来源。"),
    )


def _by_distributor(period: Period, limit: int | None) -> Report:
    rows = readers.grouped(
        TrafficDay, period, ["distributor_id"], FIELDS, order="visits", limit=limit, distributor_id__gt=0
    )
    people = Distributor.objects.select_related("user").filter(pk__in=[r["distributor_id"] for r in rows])
    names = {
        d.pk: _("%(name)s（%(code)s）") % {"name": d.user.display_name, "code": d.referral_code}
        for d in people
    }
    for row in rows:
        pk = row["distributor_id"]
        _funnel_row(row)
        row["name"] = names.get(pk, _("分销商#%(id)s") % {"id": pk})
        row["url"] = reverse("admin:distribution_distributor_change", args=[pk]) if pk in names else ""
    columns = [
        Column("name", _("分销商"), text=True, link="url", link_permission="distribution.view_distributor"),
        Column("page_views", _("浏览量（PV）")),
        *funnel_columns(),
    ]
    return Report(
        "traffic-by-distributor",
        _("分销商带来的访问"),
        period,
        table=Table(columns, rows),
        note=_("按访问次数排序，前 %(limit)s 名。") % {"limit": limit}
        if limit
        else _("按访问次数排序，全部分销商。"),
    )


def _funnel(period: Period) -> Report:
    rows = readers.grouped(TrafficDay, period, [], FIELDS)
    total = _funnel_row(rows[0])
    steps = [
        {"step": str(label), "visits": total[key], "rate_bp": ratio_bp(total[key], total["visits"])}
        for key, label in STEPS
    ]
    chart = Chart([s["step"] for s in steps], [Dataset(_("访问"), [s["visits"] for s in steps])], kind="bar")
    columns = [
        Column("step", _("环节"), text=True),
        Column("visits", _("访问次数")),
        Column("rate_bp", _("占访问"), BP),
    ]
    return Report(
        "traffic-funnel",
        _("转化漏斗"),
        period,
        chart=chart,
        table=Table(columns, steps),
        note=_("每个环节计当天到达该环节的访问（访客日）；下单、付款指访客登录的账号当天下单、付款。"),
    )


def _funnel_by_source(period: Period) -> Report:
    rows = readers.grouped(TrafficDay, period, ["source"], FIELDS, order="visits")
    for row in rows:
        _funnel_row(row)
        row["label"] = str(SOURCES.get(row["source"], row["source"]))
    return Report(
        "traffic-funnel-by-source",
        _("各来源转化漏斗"),
        period,
        table=Table([Column("label", _("来源"), text=True), *funnel_columns()], rows),
    )


def build(period: Period, options: dict) -> list[Report]:
    return [
        _trend(period),
        _by_source(period),
        _by_distributor(period, options["limit"]),
        _funnel(period),
        _funnel_by_source(period),
    ]
