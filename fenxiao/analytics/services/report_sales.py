"""销售报表: paid orders, units, GMV, discounts, refunds and net sales by bucket, product
and category, and the top products. An order counts on the day it was paid, a refund on the
day it was granted; net sales = paid amount - refunds."""

from collections import Counter

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.catalog.models import Product
from fenxiao.orders.models import DiscountKind

from ..models import BuyerDay, DailySales, ProductDay
from . import dashboard, readers
from .periods import Period
from .report_categories import by_category
from .shapes import COUNT, FEN, Chart, Column, Dataset, Metric, Report, Table

DISCOUNTS = [f"discount_{kind}" for kind in DiscountKind.values]
FIELDS = ["paid_orders", "units", "gmv", "refund_count", "refunds", *DISCOUNTS]
NOTE = gettext_lazy("订单按付款日统计，退款按同意退款日统计；净销售额 = 实付金额 − 退款金额；实付含运费。")


def _derive(row: dict) -> dict:
    row["discounts"] = sum(row[f] for f in DISCOUNTS)
    row["net_sales"] = row["gmv"] - row["refunds"]
    return row


def _trend(period: Period) -> Report:
    prev = period.previous()
    daily = readers.daily_sums(DailySales, prev.start, period.end, FIELDS)
    cur, old, buckets = readers.spans(period, daily, FIELDS)
    cur, old = _derive(cur), _derive(old)
    buyers = readers.distinct_counts(
        BuyerDay.objects.filter(paid_orders__gt=0), "buyer_id", period, dashboard.PAYING_BUYERS
    )
    metrics = [
        Metric("paid_orders", _("付款订单数"), cur["paid_orders"], old["paid_orders"]),
        Metric("paying_buyers", _("付款人数"), buyers[0], buyers[1]),
        Metric("units", _("付款件数"), cur["units"], old["units"]),
        Metric("gmv", _("实付金额"), cur["gmv"], old["gmv"], FEN),
        # The dashboard's 客单价 card opens this report: the same figure, computed the same way.
        Metric(
            "avg_order_value",
            _("客单价"),
            dashboard.average_order_value(cur["gmv"], cur["paid_orders"]),
            dashboard.average_order_value(old["gmv"], old["paid_orders"]),
            FEN,
        ),
        Metric("discounts", _("优惠金额"), cur["discounts"], old["discounts"], FEN),
        Metric("refunds", _("退款金额"), cur["refunds"], old["refunds"], FEN),
        Metric("net_sales", _("净销售额"), cur["net_sales"], old["net_sales"], FEN),
    ]
    rows = []
    for (label, first, _last), row, paying in zip(period.buckets(), buckets, buyers[2], strict=True):
        rows.append({"bucket": label, "start": first.isoformat(), "paying_buyers": paying, **_derive(row)})
    columns = [
        Column("bucket", _("时间"), text=True),
        Column("paid_orders", _("付款订单数")),
        Column("paying_buyers", _("付款人数")),
        Column("units", _("付款件数")),
        Column("gmv", _("实付金额"), FEN),
        *[Column(f"discount_{kind}", label, FEN) for kind, label in DiscountKind.choices],
        Column("discounts", _("优惠合计"), FEN),
        Column("refund_count", _("退款笔数")),
        Column("refunds", _("退款金额"), FEN),
        Column("net_sales", _("净销售额"), FEN),
    ]
    totals = {
        "bucket": _("合计"),
        "paying_buyers": buyers[0],
        **{k: cur[k] for k in [*FIELDS, "discounts", "net_sales"]},
    }
    chart = Chart(
        [r["bucket"] for r in rows],
        [
            Dataset(_("实付金额"), [r["gmv"] for r in rows], FEN),
            Dataset(_("净销售额"), [r["net_sales"] for r in rows], FEN),
        ],
    )
    return Report(
        "sales-by-period", _("销售趋势"), period, metrics, chart, Table(columns, rows, totals), NOTE
    )


PRODUCT_FIELDS = ["orders", "units", "sales", "refunded_units", "refunds"]


def _product_rows(period: Period, limit: int | None) -> list[dict]:
    """The best-selling products, each with its id and its backend page: two products may
    share a name (a relaunch, a colour sold as its own product)."""
    rows = readers.grouped(ProductDay, period, ["product_id"], PRODUCT_FIELDS, order="sales", limit=limit)
    names = dict(Product.objects.filter(pk__in=[r["product_id"] for r in rows]).values_list("pk", "name"))
    for row in rows:
        pk = row["product_id"]
        row["name"] = names.get(pk, _("商品#%(id)s") % {"id": pk})
        row["code"] = pk
        row["url"] = reverse("admin:catalog_product_change", args=[pk]) if pk in names else ""
        row["net_sales"] = row["sales"] - row["refunds"]
    return rows


def _chart_labels(rows: list[dict]) -> list[str]:
    """Bar labels: a name two bars share carries the product id, so the bars can be told apart."""
    seen = Counter(r["name"] for r in rows)
    return [
        r["name"]
        if seen[r["name"]] == 1
        else _("%(name)s（ID %(id)s）") % {"name": r["name"], "id": r["code"]}
        for r in rows
    ]


def _product_table_columns() -> list[Column]:
    return [
        Column("name", _("商品"), text=True, link="url", link_permission="catalog.view_product"),
        Column("code", _("商品ID"), text=True),
        *_figure_columns(),
    ]


def _figure_columns() -> list[Column]:
    return [
        Column("orders", _("订单数")),
        Column("units", _("件数")),
        Column("sales", _("实付金额"), FEN),
        Column("refunded_units", _("退款件数")),
        Column("refunds", _("退款金额"), FEN),
        Column("net_sales", _("净销售额"), FEN),
    ]


def _by_product(period: Period, limit: int | None) -> Report:
    rows = _product_rows(period, limit)
    table = Table(_product_table_columns(), rows)
    if limit:
        note = _("按实付金额排序，前 %(limit)s 个商品。") % {"limit": limit}
    else:
        note = _("按实付金额排序，期内有销售的全部商品。")
    return Report("sales-by-product", _("商品销售"), period, table=table, note=note)


def _top_products(period: Period) -> Report:
    rows = _product_rows(period, 10)
    chart = Chart(_chart_labels(rows), [Dataset(_("实付金额"), [r["sales"] for r in rows], FEN)], kind="bar")
    table = Table(_product_table_columns(), rows)
    return Report("top-products", _("热销商品 TOP 10"), period, chart=chart, table=table)


def build(period: Period, options: dict) -> list[Report]:
    return [
        _trend(period),
        _by_product(period, options["limit"]),
        by_category(period, _figure_columns()),
        _top_products(period),
    ]


__all__ = ["build", "COUNT"]
