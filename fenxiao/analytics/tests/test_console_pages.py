"""The report pages and 经营概况 render any report the services hand over: cards with ¥, %
and the change, a chart, a table with its total, CSV/Excel files equal to the table, and
bad period parameters answered in Chinese with a 400. Reports here are built by hand
(`console_fakes`); `test_console_real.py` runs the same pages on the real services."""

import csv
import io
import json
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from fenxiao.analytics.services import periods
from fenxiao.analytics.services.shapes import FEN, Column, Metric, Table
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.testing import login, make_staff

from . import console_fakes
from .console_fakes import NASTY, sample_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fakes(monkeypatch):
    console_fakes.install(monkeypatch)


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def member(role):
    ensure_staff_groups()
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return login(user)


def text(reply) -> str:
    return re.sub(r"\s+", " ", reply.content.decode())


def test_a_report_page_shows_cards_chart_and_table(boss):
    reply = boss.get("/backend/data/sales/?range=7d")
    assert reply.status_code == 200
    html = text(reply)
    assert "销售报表" in html and "按商品" in html
    # Cards: amounts in ¥, rates in %, the change with its arrow; "—" with nothing to compare.
    assert "¥3,703.50" in html and "上期 ¥2,962.80" in html and "↑ 25.00 %" in html
    assert re.search(r'data-metric="conversion_bp".*?12.50 %.*?>—</span> <span[^>]*>上期 0.00 %', html)
    # The refund card went up: bad news, shown in red.
    refunds = re.search(r'data-metric="refunds".*?</div> </div>', html).group(0)
    assert "fx-bad" in refunds and "↑ 100.00 %" in refunds
    # The table: names as typed (escaped), amounts and rates formatted, a total row.
    assert "连衣裙" in html and "¥1,234.50" in html and "¥2,469.00" in html and "37.50 %" in html
    assert "=HYPERLINK(&quot;http://evil&quot;,&quot;点我&quot;)" in html
    assert re.search(r"<tfoot>.*合计.*¥7,407.00", html)
    assert "按支付时间统计" in html
    assert "报表数据尚未更新：后台任务每 5 分钟更新一次" in html  # no refresh has run here
    # The chart: bar, amounts in yuan on the left axis, counts on the right.
    canvas = re.search(r'class="chart" data-type="bar" data-value="([^"]+)" data-options="([^"]+)"', html)
    data = json.loads(canvas.group(1).replace("&quot;", '"'))
    options = json.loads(canvas.group(2).replace("&quot;", '"'))
    assert data["datasets"][0]["data"][0] == 1234.5 and data["datasets"][0]["yAxisID"] == "y"
    assert data["datasets"][1]["yAxisID"] == "y1"
    assert len(data["labels"]) == 7
    assert options["scales"]["y"]["title"]["text"] == "金额（元）"
    # Export buttons carry the period and the section.
    today = timezone.localdate()
    start = (today - timezone.timedelta(days=7)).isoformat()
    assert f"/backend/data/sales/export/csv/?start={start}" in html
    assert "report=sales-by-day" in html


def test_the_period_picker_offers_presets_custom_range_and_grain(boss):
    html = text(boss.get("/backend/data/sales/?range=30d&grain=week"))
    for label in ["今日", "昨日", "近7天", "近30天", "按日", "按周", "按月", "查询", 'type="date"']:
        assert label in html
    assert '<option value="week" selected>按周</option>' in html
    assert "?range=7d&amp;grain=week" in html  # presets keep the chosen grain
    assert '<option value="20" selected>前 20 名</option>' in html
    html = text(boss.get("/backend/data/sales/?range=30d&limit=50"))
    assert '<option value="50" selected>前 50 名</option>' in html
    assert "?range=7d&amp;grain=day&amp;limit=50" in html
    export = re.search(r'<a href="([^"]+)"[^>]*data-export="csv"', html).group(1)
    assert "limit=50" in export  # the file has the rows the page shows
    today = timezone.localdate()
    first, last = today - timezone.timedelta(days=40), today - timezone.timedelta(days=1)
    reply = boss.get(f"/backend/data/sales/?start={first}&end={last}&grain=month")
    assert reply.status_code == 200
    html = text(reply)
    assert f"统计时间：{first:%Y-%m-%d} 至 {last:%Y-%m-%d}（40 天）" in html
    assert f'value="{first}"' in html and f'value="{last}"' in html


def test_the_date_inputs_offer_only_days_a_period_may_take(boss):
    """No day after today nor before the shop's calendar starts: the browser's calendar greys
    them out instead of the page refusing them after 查询."""
    html = text(boss.get("/backend/data/sales/?range=7d"))
    bounds = f'min="{periods.EARLIEST}" max="{timezone.localdate()}"'
    for name in ("start", "end"):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*{bounds}', html), name


@pytest.mark.parametrize(
    "query, message",
    [
        ("start=2026-13-01&end=2026-13-02", "没有 2026-13-01 这一天"),
        ("start=2026/12/01", "日期格式应为 YYYY-MM-DD"),
        ("start=abc", "日期格式应为 YYYY-MM-DD"),
        ("start=2026-01-10&end=2026-01-01", "结束日期不能早于开始日期"),
        ("start=2000-01-01&end=2000-01-02&grain=hour", "统计粒度只能是按日、按周或按月"),
        ("start=2000-01-01&end=2026-01-01", "时间范围最长"),
        ("range=forever", "未知的时间范围"),
        ("start=2999-01-01&end=2999-01-02", "开始日期不能晚于今天"),
        ("start=2026-01-01&end=2999-01-02", "结束日期不能晚于今天"),
    ],
)
def test_bad_periods_get_a_chinese_message_not_a_500(boss, query, message):
    for url in ["/backend/data/sales/", "/backend/data/sales/export/csv/"]:
        reply = boss.get(f"{url}?{query}")
        assert reply.status_code == 400, (url, query)
        html = text(reply)
        assert message in html
        assert 'id="period-picker"' in html  # the merchant can correct it right there


def test_a_bad_report_option_is_a_400_too(boss, monkeypatch):
    monkeypatch.undo()  # the real report service checks `limit`
    reply = boss.get("/backend/data/sales/?range=7d&limit=abc")
    assert reply.status_code == 400
    assert "排行条数应为 1 至 200" in text(reply)


def test_unknown_pages_and_formats_are_404(boss):
    assert boss.get("/backend/data/nonsense/").status_code == 404
    assert boss.get("/backend/data/sales/export/pdf/").status_code == 404
    assert boss.get("/backend/data/sales/export/csv/?report=nope").status_code == 404


def rows_of(report):
    """The table as the export should carry it: yuan and percent as Decimals, names as text."""
    out = []
    for row in report.table.rows + [{**report.table.totals, "name": "合计"}]:
        out.append(
            [row["name"], Decimal(row["orders"]), Decimal(row["gmv"]) / 100, Decimal(row["rate"]) / 100]
        )
    return out


def test_the_csv_export_equals_the_table(boss):
    reply = boss.get("/backend/data/sales/export/csv/?range=7d&report=sales-by-day")
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/csv")
    # Named by the page, the report and the period, as merchants file them (UTF-8, with an
    # ASCII fallback); a table of products has no grain to name.
    period = periods.preset("7d")
    name = f"销售报表_按商品_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}.csv"
    assert reply["Content-Disposition"].endswith(f"filename*=UTF-8''{quote(name)}")
    body = reply.content.decode("utf-8")
    assert body.startswith("\ufeff")  # Excel opens UTF-8 Chinese with the BOM
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert lines[0] == ["商品", "订单数", "支付金额（元）", "退款率（%）"]
    parsed = [[r[0], Decimal(r[1]), Decimal(r[2]), Decimal(r[3])] for r in lines[1:]]
    report = sample_report(periods.preset("7d"))
    expected = rows_of(report)
    # A name a spreadsheet would run as a formula (or read as a number) is made inert.
    expected[1][0] = "'" + NASTY
    expected[2][0] = "'-1 号袜子"
    assert parsed == expected


def test_the_excel_export_equals_the_table(boss):
    from openpyxl import load_workbook

    reply = boss.get("/backend/data/sales/export/xlsx/?range=7d&report=sales-by-day")
    assert reply.status_code == 200
    book = load_workbook(io.BytesIO(reply.content))
    sheet = book.active
    assert sheet.title == "按商品"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("商品", "订单数", "支付金额（元）", "退款率（%）")
    got = [[r[0], Decimal(r[1]), Decimal(str(r[2])), Decimal(str(r[3])) * 100] for r in values[1:]]
    expected = rows_of(sample_report(periods.preset("7d")))
    expected[1][0] = "'" + NASTY
    expected[2][0] = "'-1 号袜子"
    assert got == expected
    assert sheet["C2"].number_format == "0.00" and sheet["D2"].number_format == "0.00%"


def test_the_dashboard_shows_figures_trend_and_shortcuts(boss):
    reply = boss.get("/backend/")
    assert reply.status_code == 200
    html = text(reply)
    assert "经营概况" in html and "核心指标" in html
    # Today is still running: its figures are so far, against yesterday up to the same time.
    today = timezone.localdate()
    assert re.search(rf"{today:%Y-%m-%d} 截至 \d\d:\d\d · 对比昨日同时段", html)
    assert "¥1,234.50" in html and "↑ 23.45 %" in html  # 1234.50 against 1000.00
    assert "↓ 25.00 %" in html  # 12 paid orders against 16
    assert re.search(r'data-metric="visitors".*?300.*?>—</span> <span[^>]*>上期 0<', html)
    assert re.search(r'data-metric="commission_accrued".*?¥45.60.*?>持平</span>', html)
    assert html.count('class="chart"') == 1
    for label in ["今日", "昨日", "近7天", "近30天", "数据报表", "常用功能", "销售报表", "流量报表"]:
        assert label in html
    # A card opens the report it comes from, for the same range.
    assert re.search(r'<a href="/backend/data/sales/\?range=today"[^>]*data-metric="gmv"', html)
    reply = boss.get("/backend/?range=30d")
    assert "近30天" in text(reply)
    assert 'href="/backend/data/traffic/?range=30d"' in text(reply)


def test_a_bad_dashboard_range_falls_back_to_today_with_a_message(boss):
    reply = boss.get("/backend/?range=ever")
    assert reply.status_code == 200
    assert "未知的时间范围，已显示今日" in text(reply)


def test_each_role_sees_its_reports_and_figures_only():
    operations, finance = member(OPERATIONS), member(FINANCE)
    for key in ["sales", "distribution", "traffic"]:
        assert operations.get(f"/backend/data/{key}/").status_code == 200
        assert operations.get(f"/backend/data/{key}/export/csv/").status_code == 200
    assert finance.get("/backend/data/sales/").status_code == 200
    assert finance.get("/backend/data/distribution/").status_code == 200
    assert finance.get("/backend/data/traffic/").status_code == 403
    assert finance.get("/backend/data/traffic/export/xlsx/").status_code == 403

    shown = set(re.findall(r'data-metric="(\w+)"', text(operations.get("/backend/"))))
    assert shown == {"gmv", "paid_orders", "visitors", "commission_accrued"}
    html = text(finance.get("/backend/"))
    assert set(re.findall(r'data-metric="(\w+)"', html)) == {"gmv", "paid_orders", "commission_accrued"}
    # No visitor figure anywhere for finance: not in a card, not in the chart, not in the menu.
    assert "访客数" not in html and "流量报表" not in html
    assert "支付金额" in html


def test_staff_without_report_permissions_get_403_and_no_figures():
    client = login(make_staff("clerk", perms=["orders.view_order"]))
    for key in ["sales", "distribution", "traffic"]:
        assert client.get(f"/backend/data/{key}/?range=7d").status_code == 403
        assert client.get(f"/backend/data/{key}/export/csv/").status_code == 403
    reply = client.get("/backend/")
    assert reply.status_code == 200
    html = text(reply)
    assert "data-metric" not in html and 'class="chart"' not in html and "¥" not in html
    assert "订单管理" in html  # the shortcut to what they may open


def test_signed_out_visitors_are_sent_to_the_login_page():
    from django.test import Client

    reply = Client().get("/backend/data/sales/")
    assert reply.status_code == 302 and "/backend/login/" in reply["Location"]


def test_a_metric_no_report_claims_shows_to_superusers_only(monkeypatch):
    from fenxiao.analytics.admin import views

    mystery = [Metric("mystery", "神秘指标", 1, 1)]
    monkeypatch.setattr(views, "dashboard_overview", lambda p, until=None: mystery)
    assert "神秘指标" not in text(member(OPERATIONS).get("/backend/"))
    assert "神秘指标" in text(login(make_staff("boss", superuser=True)).get("/backend/"))


def test_an_empty_table_says_so(boss, monkeypatch):
    from fenxiao.analytics.admin import views

    def empty(key, period, params):
        report = sample_report(period)
        report.table = Table(columns=[Column("name", "商品", text=True)], rows=[])
        report.chart = None
        return [report]

    monkeypatch.setattr(views, "build_reports", empty)
    html = text(boss.get("/backend/data/sales/"))
    assert "所选时间范围内没有数据" in html and 'class="chart"' not in html


def wider_link(html: str) -> tuple[str, str] | None:
    found = re.search(r'<a href="([^"]*)"[^>]*data-wider>([^<]*)</a>', html)
    return (found.group(1).replace("&amp;", "&"), found.group(2)) if found else None


def test_an_empty_table_offers_a_longer_range_and_no_empty_export(boss, monkeypatch):
    """An empty table is not a dead end: it links to a longer range (keeping the grain and
    ranking length), and offers no export of a file with nothing in it."""
    from fenxiao.analytics.admin import views

    def empty(key, period, params):
        report = sample_report(period)
        report.table = Table(columns=[Column("name", "商品", text=True)], rows=[])
        return [report]

    monkeypatch.setattr(views, "build_reports", empty)
    html = text(boss.get("/backend/data/sales/?range=7d&grain=week&limit=50"))
    assert wider_link(html) == ("?range=30d&grain=week&limit=50", "查看近30天")
    assert "data-export" not in html
    end = timezone.localdate() - timezone.timedelta(days=1)
    start = end - timezone.timedelta(days=364)
    html = text(boss.get("/backend/data/sales/?range=30d"))
    assert wider_link(html) == (f"?start={start}&end={end}&grain=month", "查看近一年（按月）")
    # A year or more shown already: nothing longer to offer.
    html = text(boss.get(f"/backend/data/sales/?start={start}&end={end}"))
    assert "所选时间范围内没有数据" in html and wider_link(html) is None
    # A table with rows is exported as before.
    monkeypatch.setattr(views, "build_reports", lambda key, period, params: [sample_report(period)])
    html = text(boss.get("/backend/data/sales/?range=7d"))
    assert "data-export" in html and wider_link(html) is None


def test_large_figures_are_grouped_on_the_page_and_plain_in_the_files(boss, monkeypatch):
    """¥739,098.89 and 12,345 on the page and the dashboard; the CSV/Excel files keep
    739098.89 and 12345, numbers a spreadsheet sums."""
    from fenxiao.analytics.admin import views
    from fenxiao.analytics.services.todo import Todo

    def big(key, period, params):
        report = sample_report(period)
        report.metrics[0] = Metric("gmv", "支付金额", 73909889, 12345678901, FEN)
        report.table.rows[0].update(orders=12345, gmv=73909889)
        report.table.totals.update(orders=12345 + 5, gmv=-73909889)
        return [report]

    monkeypatch.setattr(views, "build_reports", big)
    html = text(boss.get("/backend/data/sales/?range=7d"))
    assert "¥739,098.89" in html and "上期 ¥123,456,789.01" in html
    assert re.search(r"<td[^>]*>12,345</td>\s*<td[^>]*>¥739,098.89</td>", html)
    assert re.search(r"<tfoot>.*12,350.*-¥739,098.89", html)
    assert "739098.89" not in html and "12345<" not in html

    body = boss.get("/backend/data/sales/export/csv/?range=7d").content.decode("utf-8")
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert lines[1][:3] == ["连衣裙", "12345", "739098.89"] and lines[-1][2] == "-739098.89"
    assert "," not in "".join(lines[1][1:3])

    monkeypatch.setattr(
        views,
        "dashboard_overview",
        lambda period, until=None: [
            Metric("gmv", "支付金额", 73909889, 100000, FEN),
            Metric("paid_orders", "支付订单数", 12345, 9999),
        ],
    )
    monkeypatch.setattr(
        views.todo_service, "for_user", lambda user: [Todo("ship", "待发货", 12345, "/backend/orders/")]
    )
    html = text(boss.get("/backend/"))
    assert "¥739,098.89" in html and "上期 ¥1,000.00" in html
    assert re.search(r'data-metric="paid_orders".*?12,345.*?上期 9,999', html)
    assert re.search(r'data-todo="ship".*?data-count>12,345<', html)
