"""Reports built by hand for the tests of the backend pages: what the report services hand
over (shapes.py), with figures whose rendering is known (¥, %, changes, a total row) and
text a spreadsheet would run as a formula."""

from fenxiao.analytics.admin import views
from fenxiao.analytics.services.shapes import BP, COUNT, FEN, Chart, Column, Dataset, Metric, Report, Table

NASTY = '=HYPERLINK("http://evil","点我")'


def sample_report(period, key="sales-by-day", rows=3) -> Report:
    columns = [
        Column("name", "商品", text=True),
        Column("orders", "订单数", COUNT),
        Column("gmv", "支付金额", FEN),
        Column("rate", "退款率", BP),
    ]
    names = ["连衣裙", NASTY, "-1 号袜子"] + [f"商品{n}" for n in range(max(0, rows - 3))]
    data = [
        {"name": names[n], "orders": n + 1, "gmv": 123450 * (n + 1), "rate": 1250 * (n + 1)}
        for n in range(rows)
    ]
    total = {"orders": sum(r["orders"] for r in data), "gmv": sum(r["gmv"] for r in data), "rate": 1250}
    return Report(
        key=key,
        title="按商品",
        period=period,
        metrics=[
            Metric("gmv", "支付金额", 370350, 296280, FEN),
            Metric("refunds", "退款金额", 5000, 2500, FEN),
            Metric("conversion_bp", "转化率", 1250, 0, BP),
        ],
        chart=Chart(
            labels=[label for label, _, _ in period.buckets()],
            datasets=[
                Dataset("支付金额", [123450] * len(period.buckets()), FEN),
                Dataset("支付订单数", [3] * len(period.buckets()), COUNT),
            ],
            kind="bar",
        ),
        table=Table(columns=columns, rows=data, totals=total),
        note="按支付时间统计",
    )


METRIC_REPORT = {
    "gmv": "sales",
    "paid_orders": "sales",
    "visitors": "traffic",
    "commission_accrued": "distribution",
}


def overview(period, until=None) -> list[Metric]:
    return [
        Metric("gmv", "支付金额", 123450, 100000, FEN, [100, 200]),
        Metric("paid_orders", "支付订单数", 12, 16, COUNT),
        Metric("visitors", "访客数", 300, 0, COUNT),
        Metric("commission_accrued", "新增佣金", 4560, 4560, FEN),
    ]


def trend(period, metrics) -> Chart:
    """Like the service: one series per figure passed, among those it charts."""
    labels = [label for label, _, _ in period.buckets()]
    series = {
        "gmv": Dataset("支付金额", [123450] * len(labels), FEN),
        "visitors": Dataset("访客数", [300] * len(labels)),
    }
    return Chart(labels=labels, datasets=[series[m.key] for m in metrics if m.key in series])


def install(monkeypatch, rows=3):
    """The backend pages read these instead of the report services."""

    def build(key, period, params):
        return [sample_report(period, rows=rows)]

    monkeypatch.setattr(views, "build_reports", build)
    monkeypatch.setattr(views, "dashboard_overview", overview)
    monkeypatch.setattr(views, "dashboard_trend", trend)
    monkeypatch.setattr(views, "metric_reports", lambda: METRIC_REPORT)
