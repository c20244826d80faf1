"""销售报表: paid orders, units, GMV, discounts, refunds and net sales by bucket, product
and category, and the top products. An order counts on the day it was paid, a refund on the
day it was granted; net sales = paid amount - refunds."""

from fenxiao.catalog.models import Category, Product
from fenxiao.orders.models import DiscountKind

from ..models import BuyerDay, DailySales, ProductDay
from . import dashboard, readers
from .periods import Period
from .shapes import COUNT, FEN, Chart, Column, Dataset, Metric, Report, Table

DISCOUNTS = [f"discount_{kind}" for kind in DiscountKind.values]
FIELDS = ["paid_orders", "units", "gmv", "refund_count", "refunds", *DISCOUNTS]
NOTE = "订单按付款日统计，退款按同意退款日统计；净销售额 = 实付金额 − 退款金额；实付含运费。"


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
        Metric("paid_orders", "付款订单数", cur["paid_orders"], old["paid_orders"]),
        Metric("paying_buyers", "付款人数", buyers[0], buyers[1]),
        Metric("units", "付款件数", cur["units"], old["units"]),
        Metric("gmv", "实付金额", cur["gmv"], old["gmv"], FEN),
        Metric("discounts", "优惠金额", cur["discounts"], old["discounts"], FEN),
        Metric("refunds", "退款金额", cur["refunds"], old["refunds"], FEN),
        Metric("net_sales", "净销售额", cur["net_sales"], old["net_sales"], FEN),
    ]
    rows = []
    for (label, first, _), row, paying in zip(period.buckets(), buckets, buyers[2], strict=True):
        rows.append({"bucket": label, "start": first.isoformat(), "paying_buyers": paying, **_derive(row)})
    columns = [
        Column("bucket", "时间", text=True),
        Column("paid_orders", "付款订单数"),
        Column("paying_buyers", "付款人数"),
        Column("units", "付款件数"),
        Column("gmv", "实付金额", FEN),
        *[Column(f"discount_{kind}", label, FEN) for kind, label in DiscountKind.choices],
        Column("discounts", "优惠合计", FEN),
        Column("refund_count", "退款笔数"),
        Column("refunds", "退款金额", FEN),
        Column("net_sales", "净销售额", FEN),
    ]
    totals = {
        "bucket": "合计",
        "paying_buyers": buyers[0],
        **{k: cur[k] for k in [*FIELDS, "discounts", "net_sales"]},
    }
    chart = Chart(
        [r["bucket"] for r in rows],
        [
            Dataset("实付金额", [r["gmv"] for r in rows], FEN),
            Dataset("净销售额", [r["net_sales"] for r in rows], FEN),
        ],
    )
    return Report("sales-by-period", "销售趋势", period, metrics, chart, Table(columns, rows, totals), NOTE)


PRODUCT_FIELDS = ["orders", "units", "sales", "refunded_units", "refunds"]


def _product_rows(period: Period, limit: int | None) -> list[dict]:
    rows = readers.grouped(ProductDay, period, ["product_id"], PRODUCT_FIELDS, order="sales", limit=limit)
    names = dict(Product.objects.filter(pk__in=[r["product_id"] for r in rows]).values_list("pk", "name"))
    for row in rows:
        row["name"] = names.get(row["product_id"], f"商品#{row['product_id']}")
        row["net_sales"] = row["sales"] - row["refunds"]
    return rows


def _product_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("orders", "订单数"),
        Column("units", "件数"),
        Column("sales", "实付金额", FEN),
        Column("refunded_units", "退款件数"),
        Column("refunds", "退款金额", FEN),
        Column("net_sales", "净销售额", FEN),
    ]


def _by_product(period: Period, limit: int) -> Report:
    rows = _product_rows(period, limit)
    table = Table(_product_columns(Column("name", "商品", text=True)), rows)
    return Report(
        "sales-by-product", "商品销售", period, table=table, note=f"按实付金额排序，前 {limit} 个商品。"
    )


def _top_products(period: Period) -> Report:
    rows = _product_rows(period, 10)
    chart = Chart(
        [r["name"] for r in rows], [Dataset("实付金额", [r["sales"] for r in rows], FEN)], kind="bar"
    )
    table = Table(_product_columns(Column("name", "商品", text=True)), rows)
    return Report("top-products", "热销商品 TOP 10", period, chart=chart, table=table)


def _by_category(period: Period) -> Report:
    rows = readers.grouped(ProductDay, period, ["category_id"], PRODUCT_FIELDS, order="sales")
    names = dict(Category.objects.filter(pk__in=[r["category_id"] for r in rows]).values_list("pk", "name"))
    for row in rows:
        row["name"] = names.get(row["category_id"], "未分类")
        row["net_sales"] = row["sales"] - row["refunds"]
    chart = Chart(
        [r["name"] for r in rows], [Dataset("实付金额", [r["sales"] for r in rows], FEN)], kind="bar"
    )
    table = Table(_product_columns(Column("name", "分类", text=True)), rows)
    return Report(
        "sales-by-category",
        "分类销售",
        period,
        chart=chart,
        table=table,
        note="商品实付金额不含运费，因此各分类合计可能小于订单实付金额。",
    )


def build(period: Period, options: dict) -> list[Report]:
    return [
        _trend(period),
        _by_product(period, options["limit"]),
        _by_category(period),
        _top_products(period),
    ]


__all__ = ["build", "COUNT"]
