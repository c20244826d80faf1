"""The merchant opens 经营概况 and the report pages on a laptop (1280 px) in a real browser:
the charts are drawn, nothing logs an error, the period picker and the exports work.
Screenshots land in test-artifacts/ (console-*.png)."""

import pytest
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import FINANCE, ensure_staff_groups
from fenxiao.testing import make_staff

from .shop import build_shop, day

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A canvas Chart.js drew on: its chart object has points, and some pixel is not blank.
DRAWN = """(canvas) => {
    const chart = Chart.getChart(canvas);
    if (!chart || !chart.data.datasets.length) return false;
    const ctx = canvas.getContext("2d");
    const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) return true; }
    return false;
}"""


def sign_in(page, user):
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/backend/")


def test_the_dashboard_and_reports_in_a_browser(phones):
    build_shop()
    boss = make_staff("boss", superuser=True)
    merchant = phones("console", desktop=True)
    page = merchant.page
    sign_in(page, boss)

    page.goto("/backend/?range=30d")
    page.get_by_role("heading", name="核心指标").wait_for()
    canvas = page.locator("#trend canvas.chart")
    assert canvas.evaluate(DRAWN)
    assert canvas.bounding_box()["width"] > 600
    assert page.locator("[data-metric]").count() == 11
    assert "¥" in page.locator('[data-metric="gmv"]').inner_text()
    assert "%" in page.locator('[data-metric="conversion_bp"]').inner_text()
    page.get_by_role("heading", name="待办事项").wait_for()
    merchant.shot("dashboard-30d")
    page.goto("/backend/")
    merchant.shot("dashboard-today")

    # A card opens its report; every section's chart is drawn.
    page.goto("/backend/?range=30d")
    page.locator('[data-metric="gmv"]').click()
    page.wait_for_url("**/backend/data/sales/?range=30d")
    for chart in page.locator("canvas.chart").all():
        assert chart.evaluate(DRAWN)
    merchant.shot("sales-30d")

    # A custom range by week, from the picker.
    page.get_by_label("开始日期").fill(day(0).isoformat())
    page.get_by_label("结束日期").fill(day(4).isoformat())
    page.get_by_label("统计粒度").select_option("week")
    page.get_by_role("button", name="查询").click()
    page.get_by_text(f"统计时间：{day(0):%Y-%m-%d} 至 {day(4):%Y-%m-%d}（5 天）").wait_for()
    with page.expect_download() as download:
        page.locator("[data-export=xlsx]").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")

    for key in ("distribution", "traffic"):
        page.goto(f"/backend/data/{key}/?range=30d")
        for chart in page.locator("canvas.chart").all():
            assert chart.evaluate(DRAWN)
        merchant.shot(f"{key}-30d")

    # A reversed range: the message, in Chinese, on the page (answered 400, which the
    # browser logs as a failed load: that one line is expected, nothing else).
    before = list(merchant.errors)
    reply = page.goto(f"/backend/data/sales/?start={day(4)}&end={day(0)}")
    assert reply.status == 400
    assert page.locator("#period-error").inner_text() == "结束日期不能早于开始日期"
    merchant.shot("sales-bad-period")
    new = merchant.errors[len(before) :]
    assert all("status of 400" in e for e in new), new
    del merchant.errors[len(before) :]


def test_finance_sees_its_own_dashboard(phones):
    build_shop()
    ensure_staff_groups()
    clerk = make_staff("finance")
    clerk.groups.add(Group.objects.get(name=FINANCE))
    merchant = phones("console-finance", desktop=True)
    page = merchant.page
    sign_in(page, clerk)
    page.goto("/backend/?range=30d")
    assert page.locator("#trend canvas.chart").evaluate(DRAWN)
    assert page.locator('[data-metric="visitors"]').count() == 0
    assert page.locator('[data-todo="withdrawals"]').count() == 1
    assert page.locator('[data-todo="shipment"]').count() == 0
    merchant.shot("dashboard-finance")


# Where a cell is drawn inside its table's scrolling box, after the box scrolled to (x, y).
SEEN = """(cell, [x, y]) => {
    const box = cell.closest(".fx-table-wrap");
    box.scrollIntoView({block: "center"});
    box.scrollTo(x, y);
    const b = box.getBoundingClientRect(), c = cell.getBoundingClientRect();
    return {
        inside: c.top >= b.top - 1 && c.bottom <= b.bottom + 1
            && c.left >= b.left - 1 && c.right <= b.right + 1,
        covered: document.elementFromPoint(c.left + 4, c.top + c.height / 2) !== cell,
        scrolls: box.scrollHeight > box.clientHeight && box.scrollWidth > box.clientWidth,
    };
}"""


def test_a_long_wide_table_keeps_its_total_and_first_column_in_sight(phones):
    """30 days by day of 销售趋势: more rows than its box shows, more columns than fit at
    1280 px. The 合计 row and the date column stay in sight wherever the box is scrolled."""
    build_shop()
    boss = make_staff("boss", superuser=True)
    merchant = phones("console-table", desktop=True)
    page = merchant.page
    sign_in(page, boss)
    page.goto("/backend/data/sales/?range=30d")
    table = page.locator('[data-report="sales-by-period"] table')
    total = table.locator("tfoot td").first
    assert total.inner_text() == "合计"
    assert total.evaluate(SEEN, [0, 0]) == {"inside": True, "covered": False, "scrolls": True}
    day = table.locator("tbody tr").nth(20).locator("td").first
    assert day.evaluate(SEEN, [10000, 10000]) == {"inside": True, "covered": False, "scrolls": True}
    merchant.shot("sales-table-scrolled")


# Whether a card's figure and comparison line stay inside the card's padding.
FITS = """(card) => {
    const box = card.getBoundingClientRect();
    const right = box.right - parseFloat(getComputedStyle(card).paddingRight) + 0.5;
    return [...card.querySelectorAll(".fx-value, .fx-compare > span")].every(
        (el) => el.scrollWidth <= el.clientWidth + 0.5 && el.getBoundingClientRect().right <= right
    );
}"""


def test_nine_digit_amounts_fit_their_cards_at_laptop_widths(phones, monkeypatch):
    """¥123,456,789.01 on a card of a four-column row, at 1280 and 1440 px: the figure and
    its comparison stay inside the card (they ran past its right edge at 1280)."""
    from fenxiao.analytics.admin import views
    from fenxiao.analytics.services.shapes import COUNT, FEN, Metric

    from . import console_fakes

    console_fakes.install(monkeypatch)
    big = [
        Metric("gmv", "支付金额", 12345678901, 9876543210, FEN),
        Metric("paid_orders", "支付订单数", 1234567, 987654, COUNT),
        Metric("visitors", "访客数", 12345678, 9876543, COUNT),
        Metric("commission_accrued", "新增佣金", 9999999999, 8888888888, FEN),
    ]
    monkeypatch.setattr(views, "dashboard_overview", lambda period, until=None: big)

    def report(key, period, params):
        built = console_fakes.sample_report(period)
        built.metrics = big
        return [built]

    monkeypatch.setattr(views, "build_reports", report)
    boss = make_staff("boss", superuser=True)
    merchant = phones("console-big", desktop=True)
    page = merchant.page
    sign_in(page, boss)
    for width in (1280, 1440):
        page.set_viewport_size({"width": width, "height": 860})
        for url in ("/backend/?range=30d", "/backend/data/sales/?range=30d"):
            page.goto(url)
            assert "¥123,456,789.01" in page.locator('[data-metric="gmv"]').inner_text()
            cards = page.locator("[data-metric]")
            assert cards.count() == 4
            for card in cards.all():
                assert card.evaluate(FITS), (width, url, card.inner_text())
        merchant.shot(f"cards-{width}")


def test_chart_tooltips_read_figures_as_the_page_does(phones, monkeypatch):
    """Hovering a bar shows 支付金额: ¥1,234.50 as the table does (Chart.js showed the float it
    draws, 1,234.5, without ¥), and a count as 3."""
    from . import console_fakes

    console_fakes.install(monkeypatch)
    boss = make_staff("boss", superuser=True)
    merchant = phones("console-tooltip", desktop=True)
    page = merchant.page
    sign_in(page, boss)
    page.goto("/backend/data/sales/?range=7d")
    canvas = page.locator("canvas.chart").first
    canvas.scroll_into_view_if_needed()
    assert canvas.evaluate(DRAWN)
    point = canvas.evaluate(
        "(c) => { const p = Chart.getChart(c).getDatasetMeta(0).data[0]; return [p.x, p.y]; }"
    )
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + point[0], box["y"] + point[1] + 2)
    lines = canvas.evaluate(
        "(c) => { const t = Chart.getChart(c).tooltip; return (t.body || []).flatMap((b) => b.lines); }"
    )
    assert lines == ["支付金额: ¥1,234.50", "支付订单数: 3"]
    merchant.shot("tooltip")
