"""合规概览: the figures of a small shop with known answers, a warning for each thing that is
off, the same number of queries for more data, and the backend page with its permissions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.distribution.models import (
    Commission,
    CommissionStatus,
    DistributorGrade,
    SettingsChange,
)
from fenxiao.distribution.services import compliance, reconciliation
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .helpers import (
    bound_buyer,
    buy,
    configure,
    earn,
    full_refund,
    make_distributor,
    place,
    sku,
    till_sale,
)

pytestmark = pytest.mark.django_db

PAGE = "/backend/distribution/compliance/"


@pytest.fixture
def shop():
    """Two levels (the default: 10% and 5%): a settled sale, a sale refunded after
    settlement (clawed back), a pending sale and a till sale."""
    a = make_distributor()
    b = make_distributor(parent=a)
    earn(b, 100000)  # b 10,000 and a 5,000, settled
    full_refund(earn(b, 50000))  # b 5,000 and a 2,500 settled, then clawed back
    buy(bound_buyer(b), (sku(make_product(price=30000)), 1))  # b 3,000 and a 1,500 pending
    till_sale(b, "T1", 20000)  # b 2,000 and a 1,000 frozen
    reconciliation.run()
    return {"a": a, "b": b}


def sections(report=None) -> dict[str, compliance.Section]:
    report = report or compliance.summary()
    return {s.key: s for s in report.sections}


def figures(section: compliance.Section) -> dict[str, compliance.Figure]:
    return {f.label: f for f in section.figures}


def test_the_figures_of_a_small_shop(shop):
    report = compliance.summary()
    assert report.ok, [(s.title, s.explanation) for s in report.attention]
    found = sections(report)
    assert all(s.verdict == "符合" for s in found.values())

    levels = figures(found["levels"])
    assert levels["当前分销层级（设置）"].count == 2
    # Four lines each (two orders, the pending order, the till sale); net of the clawback.
    assert (levels["一级佣金"].count, levels["一级佣金"].amount) == (4, 10000 + 3000 + 2000)
    assert (levels["二级佣金"].count, levels["二级佣金"].amount) == (4, 5000 + 1500 + 1000)
    assert (levels["三级佣金"].count, levels["三级佣金"].amount) == (0, 0)
    assert levels["历史上产生过佣金的最深层级"].text == "2 级"
    assert levels["超过 3 级的佣金记录"].count == 0

    sales = figures(found["sales"])
    assert sales["来自线上订单商品的佣金"].count == 6
    assert sales["来自门店收银商品的佣金"].count == 2
    assert (sales["佣金状态：已结算"].count, sales["佣金状态：已结算"].amount) == (4, 15000)
    assert (sales["佣金状态：待结算（预估）"].count, sales["佣金状态：待结算（预估）"].amount) == (2, 4500)
    assert (sales["佣金状态：冻结中"].count, sales["佣金状态：冻结中"].amount) == (2, 3000)
    assert sales["佣金状态：已取消"].count == 0
    clawback = sales["佣金冲减：结算后退款追回"]
    assert (clawback.count, clawback.amount) == (2, 7500)
    assert sales["未付款订单上的有效佣金"].count == 0
    assert sales["已取消订单上仍有效的佣金"].count == 0
    assert sales["最近一次每日对账（订单 ↔ 佣金）"].text.endswith("一致")

    ledger = figures(found["recruiting"])
    settled = ledger["账户流水：佣金结算"]
    assert (settled.count, settled.amount) == (4, 22500)
    assert (ledger["账户流水：退款追回"].count, ledger["账户流水：退款追回"].amount) == (2, -7500)
    assert ledger["账户流水：提现冻结"].count == 0
    assert ledger["分销商余额合计（全部流水之和）"].amount == 15000
    assert ledger["其他类型的流水"].count == 0
    assert ledger["未关联佣金记录的佣金入账或追回"].count == 0

    ratios = figures(found["ratios"])
    # Paid 1,800 yuan, 500 refunded, 200 at the till: 1,500 net; commission 225 net.
    assert ratios["累计分销净销售额"].amount == 150000
    assert ratios["累计佣金（净额）"].amount == 22500
    assert ratios["累计佣金占分销净销售额"].rate == 1500
    assert ratios["近 30 天佣金占分销净销售额"].rate == 1500
    assert ratios["单商品佣金上限（设置）"].rate == 5000
    assert ratios["默认各级佣金比例合计（设置）"].rate == 1500

    team = figures(found["team"])
    assert team["分销商：正常"].count == 2
    assert team["有上级（推荐人）的分销商"].count == 1
    assert team["招募关系树最深层数"].count == 2
    assert team["无法追溯到顶层的分销商（疑似循环关系）"].count == 0

    history = figures(found["history"])
    assert history["当前分销设置版本"].text == "v1"
    assert history["设置变更记录"].count == 0


def test_a_deep_tree_is_not_a_deep_payment(shop):
    configure(levels=3, level3_bp=100)
    c = make_distributor(parent=shop["b"])
    d = make_distributor(parent=c)
    earn(d, 10000)  # d, c, b earn; a (4th level up) does not

    found = sections()
    team = figures(found["team"])
    assert team["招募关系树最深层数"].count == 4
    assert team["处于第 4 层及以下的分销商"].count == 1
    assert team["计佣层级（设置）"].count == 3
    assert found["team"].ok and "关系树的深度不是计佣深度" in found["team"].explanation
    levels = figures(found["levels"])
    assert (levels["三级佣金"].count, levels["三级佣金"].amount) == (1, 100)
    assert levels["历史上产生过佣金的最深层级"].text == "3 级"
    assert figures(found["history"])["设置变更记录"].count == 1


def test_a_commission_on_an_unpaid_order_needs_attention(shop):
    unpaid = place(bound_buyer(shop["b"]), (sku(make_product(price=8000)), 1))
    pending = Commission.objects.filter(status=CommissionStatus.PENDING, level=1).get()
    Commission.objects.filter(pk=pending.pk).update(order=unpaid, order_line=unpaid.lines.get())

    report = compliance.summary()
    found = sections(report)
    assert not report.ok and [s.key for s in report.attention] == ["sales"]
    assert found["sales"].verdict == "需关注"
    wrong = figures(found["sales"])["未付款订单上的有效佣金"]
    assert (wrong.count, wrong.amount, wrong.alert) == (1, 3000, True)
    assert "1 笔佣金挂在未付款订单上" in found["sales"].explanation
    # The daily reconciliation finds the same commission through the same predicate.
    row = reconciliation.run()
    orders = next(c for c in row.checks if c["key"] == "orders")
    assert [p["pk"] for p in orders["problems"]] == [pending.pk]
    assert "最近一次对账发现订单与佣金不一致" in sections()["sales"].explanation


def test_what_the_code_does_not_enforce_is_shown_as_attention(shop):
    DistributorGrade.objects.create(name="金牌", weight=3, min_direct_team=10)
    configure(enable_mode="condition", condition_kind="lifetime_spend", condition_amount=100000)
    SettingsChange.objects.all().delete()  # a change that left no record

    found = sections()
    recruiting = found["recruiting"]
    assert not recruiting.ok
    assert figures(recruiting)["以“直属团队人数”为升级条件的分销等级"].alert
    assert figures(recruiting)["成为分销商方式"].alert
    assert "直属团队人数" in recruiting.explanation and "消费满额" in recruiting.explanation
    history = found["history"]
    assert not history.ok and figures(history)["缺失的设置变更记录"].count == 1
    assert found["levels"].ok and found["sales"].ok


def test_the_summary_costs_the_same_queries_for_more_rows(shop):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            compliance.summary()
        return len(captured)

    before = queries()
    c = make_distributor(parent=shop["b"])
    for price in (20000, 30000, 40000):
        earn(c, price)
    full_refund(earn(shop["a"], 10000))
    buy(bound_buyer(c), (sku(make_product(price=5000)), 3))
    till_sale(c, "T2", 9000)
    DistributorGrade.objects.create(name="银牌", weight=2, team_bp=100)
    assert Commission.objects.count() > 16
    assert queries() == before


def role_client(role: str):
    from fenxiao.customers.services.staff import role_permissions

    user = make_staff(role)
    user.user_permissions.set(role_permissions(role))
    return login(user)


def test_the_page_renders_for_the_admin_finance_and_operations(shop):
    from fenxiao.customers.services.staff import FINANCE, OPERATIONS

    admin = login(make_staff("boss", superuser=True))
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert "合规概览" in html and "全部符合" in html and "打印" in html and "window.print()" in html
    assert "¥225.00" in html and "15.00 %" in html  # commission, and its share of net sales
    assert html.count('data-ok="1"') == 6
    assert reverse("distribution_compliance_export") in html
    assert reverse("admin:distribution_reconciliation_changelist") in html  # the evidence
    assert f'href="{PAGE}"' in admin.get("/backend/").content.decode()  # in the sidebar

    for role in (FINANCE, OPERATIONS):
        client = role_client(role)
        reply = client.get(PAGE)
        assert reply.status_code == 200, role
        assert f'href="{PAGE}"' in client.get("/backend/").content.decode(), role
    # Operations may not open 每日对账: no link to it.
    ops_page = role_client(OPERATIONS).get(PAGE).content.decode()
    assert reverse("admin:distribution_reconciliation_changelist") not in ops_page


def test_the_csv_has_every_figure_and_verdict(shop):
    reply = login(make_staff("boss", superuser=True)).get(reverse("distribution_compliance_export"))
    assert reply.status_code == 200 and reply["Content-Type"].startswith("text/csv")
    assert "attachment" in reply["Content-Disposition"]
    text = reply.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(",")[:4] == ["分区", "结论", "项目", "数量"]
    assert any(line.startswith("二、只对真实销售计佣,符合,佣金状态：已结算,4,150.00") for line in lines), (
        lines
    )
    assert any("累计佣金占分销净销售额" in line and ",15.00," in line for line in lines)


def test_staff_without_the_permissions_get_403_and_no_menu_entry(shop):
    clerk = login(make_staff("clerk", perms=["distribution.view_commission"]))
    assert clerk.get(PAGE).status_code == 403
    assert clerk.get(reverse("distribution_compliance_export")).status_code == 403
    assert f'href="{PAGE}"' not in clerk.get("/backend/").content.decode()
    # Not signed in: the backend's sign-in page, not the figures.
    from django.test import Client

    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_ratio_counts_only_the_sales_commission_is_paid_on():
    """Sales no distributor took part in, and shipping, would dilute the ratio: one order
    through a distributor at 10 %, nine without one, still reads 10 %."""
    seller = make_distributor()
    lamp = make_product(price=10000)
    buy(bound_buyer(seller), (sku(lamp), 1))
    for _ in range(9):
        buy(make_buyer(), (sku(lamp), 1))
    ratios = figures(next(s for s in compliance.summary().sections if s.key == "ratios"))
    assert ratios["累计分销净销售额"].amount == 10000
    assert ratios["累计佣金占分销净销售额"].rate == 1000
