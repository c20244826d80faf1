"""佣金模拟 (what-if): replaying real orders under the current settings gives back exactly
what was paid; a draft changes exactly what it should; the backend runs it as a job."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.core.models import Job
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, role_permissions
from fenxiao.distribution.models import (
    CommissionRule,
    DistributionSettings,
    DistributorGrade,
    RuleKind,
    SalesTier,
)
from fenxiao.distribution.services import config, settlement_cycle, simulation
from fenxiao.testing import login, make_category, make_product, make_staff

from .helpers import bound_buyer, buy, configure, make_distributor, sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs_in_memory(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


@pytest.fixture
def shop():
    """A three-deep team and orders decided by every kind of rule: default rates, a
    product rule, a fixed per-unit rule, a category rule, a grade's own rates and a tier."""
    top = make_distributor()
    middle = make_distributor(parent=top)
    seller = make_distributor(parent=middle)
    lamp = make_product("台灯", price=10000)
    ruled = make_product("保温杯", price=5000)
    fixed = make_product("数据线", price=3000)
    tea = make_product("绿茶", price=8000, category=make_category("茶叶"))
    config.save_rule(
        CommissionRule(name="保温杯高佣", product=ruled, kind=RuleKind.RATE, level1=2000, level2=800)
    )
    config.save_rule(
        CommissionRule(name="数据线固定", product=fixed, kind=RuleKind.FIXED, level1=300, level2=100)
    )
    config.save_rule(CommissionRule(name="茶叶", category=tea.category, kind=RuleKind.RATE, level1=1500))
    config.save_tier(SalesTier(threshold=1, bonus_bp=100))
    orders = [
        buy(bound_buyer(seller), (sku(lamp), 2), (sku(ruled), 1)),
        buy(bound_buyer(seller), (sku(fixed), 3), (sku(tea), 1)),
        buy(bound_buyer(middle), (sku(lamp), 1)),
        buy(bound_buyer(top), (sku(tea), 2)),
    ]
    return {"top": top, "middle": middle, "seller": seller, "lamp": lamp, "orders": orders}


def replay(**changes):
    draft, refusal = simulation.draft_settings(changes)
    grades = simulation.draft_grades(changes)
    rule = simulation.draft_rule(changes)
    now = timezone.now()
    return simulation.replay(
        draft, now - timedelta(days=30), now + timedelta(minutes=1), grades=grades, rule=rule
    ), refusal


def test_the_current_settings_replay_to_exactly_what_was_paid(shop):
    tally, refusal = replay()
    assert refusal == ""
    assert tally.orders == 4 and tally.actual > 0
    assert tally.draft == tally.actual
    assert dict(tally.draft_by_level) == dict(tally.actual_by_level)
    assert all(actual == draft for actual, draft in tally.by_distributor.values())


def test_a_higher_default_rate_costs_what_it_should(shop):
    before, _ = replay()
    after, refusal = replay(level1_bp=1200)
    assert refusal == ""
    # Only lines decided by the default level-1 rate move: the lamps (2 × ¥100 and 1 × ¥100)
    # pay 12 % instead of 10 %, plus the unchanged 1 % tier bonus.
    assert after.draft - before.draft == 30000 * 200 // 10000
    assert after.draft_by_level[2] == before.draft_by_level[2]


def test_paying_a_third_level_walks_up_the_team(shop):
    configure(level3_bp=200)
    tally, _ = replay(levels=3)
    top = shop["top"]
    assert tally.draft_by_level[3] > 0 and tally.actual_by_level.get(3, 0) == 0
    # The seller's orders now pay top at level 3 (2 % of the default-rated and ruled lines).
    assert tally.by_distributor[top.pk][1] > tally.by_distributor[top.pk][0]


def test_a_draft_over_the_cap_is_trimmed_and_said_to_be_refused(shop):
    tally, refusal = replay(level1_bp=6000)
    assert "单商品佣金上限" in refusal
    assert tally.draft <= tally.sales * 5000 // 10000  # the guard still caps each line


def test_a_freeze_draft_says_when_commission_settles_and_which_refunds_came_after_it(shop):
    """Commission held 7 days now (the after-sale window is shorter) and settled daily; the
    merchant refunded the 保温杯 line (20 % rule) of a two-line order 10 days after it
    completed: settled by then, that line's commission (and only that line's) had to be
    clawed back. With a 15-day freeze it would not have. A refund within the hold claws
    back nothing either way."""
    from fenxiao.orders.models import AfterSale, AfterSaleLine, OrderSettings

    settings = OrderSettings.current()
    settings.after_sale_days = 3
    settings.save()
    configure(freeze_days=7)
    completed = timezone.now() - timedelta(days=12)
    late, early = shop["orders"][0], shop["orders"][2]
    for order in (late, early):
        type(order).objects.filter(pk=order.pk).update(completed_at=completed)
    cup = late.lines.get(product_name="保温杯")
    cup_commission = sum(cup.commissions.values_list("amount", flat=True))
    assert cup_commission < sum(late.commissions.values_list("amount", flat=True))
    for number, order, days, line, amount in (
        ("AS-LATE", late, 10, cup, cup.paid_amount // 2),
        ("AS-EARLY", early, 2, early.lines.get(), 1000),
    ):
        refund = AfterSale.objects.create(
            number=number,
            order=order,
            kind="refund_only",
            status="refunded",
            amount=amount,
            reason="商家退款",
            requested_by="staff",
            refunded_at=completed + timedelta(days=days + 1),
        )
        AfterSaleLine.objects.create(after_sale=refund, order_line=line, amount=amount)
        AfterSale.objects.filter(pk=refund.pk).update(created_at=completed + timedelta(days=days))
    tally, refusal = replay(freeze_days=15)
    assert refusal == "" and tally.draft == tally.actual  # the freeze moves no amount
    assert (tally.hold_actual, tally.hold_draft) == (7, 15)
    assert tally.late_actual == [1, cup_commission * (cup.paid_amount // 2) // cup.paid_amount]
    assert tally.late_draft == [0, 0]
    figures = dict(simulation.figures(tally))
    assert figures["佣金可结算时间"] == "订单完成后 7 天 → 15 天（之后的首个结算日：每天 02:30）"
    assert figures["结算后才申请的退款（需追回佣金）"].endswith("→ 0 笔 ¥0.00")
    assert figures["期间实际追回的佣金"] == "¥0.00（0 条佣金记录）"
    # A freeze shorter than the after-sale window holds for the window.
    assert replay(freeze_days=0)[0].hold_draft == 3
    assert simulation.describe({"freeze_days": 15}, 3) == "佣金模拟（近 3 个月）：冻结期 7 → 15 天"


def test_a_grades_drafted_rate_moves_its_members_lines_only(shop):
    gold = DistributorGrade.objects.create(name="金牌", weight=9, level1_bp=1500)
    star = make_distributor(grade=gold)
    buy(bound_buyer(star), (sku(shop["lamp"]), 1))  # ¥100 at gold's 15 %
    before, _ = replay()
    assert before.draft == before.actual
    raised, _ = replay(
        grades={str(gold.pk): {"level1_bp": 2000, "level2_bp": None, "level3_bp": None, "team_bp": 0}}
    )
    assert raised.draft - before.draft == 10000 * 500 // 10000
    assert raised.by_distributor[star.pk][1] - raised.by_distributor[star.pk][0] == 500
    assert all(a == d for pk, (a, d) in raised.by_distributor.items() if pk != star.pk)
    # None: the grade follows the default rate (10 %).
    default, _ = replay(grades={gold.pk: {"level1_bp": None}})
    assert before.draft - default.draft == 500
    # Nothing was saved.
    gold.refresh_from_db()
    assert gold.level1_bp == 1500
    assert (
        simulation.describe({"grades": {str(gold.pk): {"level1_bp": 2000, "team_bp": 0}}}, 1)
        == "佣金模拟（近 1 个月）：金牌一级 15.00 % → 20.00 %"
    )


def test_bad_drafts_are_refused():
    for changes in (
        {"levels": 4},
        {"level1_bp": -1},
        {"level1_bp": 10001},
        {"version": 9},
        {"levels": "2"},
        {"freeze_days": 366},
    ):
        with pytest.raises(DomainError):
            simulation.draft_settings(changes)
    with pytest.raises(DomainError):
        simulation.start(make_staff("boss", superuser=True), {}, 13)
    grade = DistributorGrade.objects.create(name="银牌", weight=7)
    for rates in (
        {"level1_bp": 10001},
        {"level1_bp": -1},
        {"team_bp": None},
        {"min_own_sales": 1},
        {"level1_bp": True},
    ):
        with pytest.raises(DomainError):
            simulation.draft_grades({"grades": {str(grade.pk): rates}})
    for grades in ({"999999": {"level1_bp": 100}}, {"abc": {}}, "x"):
        with pytest.raises(DomainError):
            simulation.draft_grades({"grades": grades})


def test_replay_reads_a_fixed_number_of_queries_per_chunk(shop, monkeypatch):
    draft, _ = simulation.draft_settings({})
    now = timezone.now()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            simulation.replay(draft, now - timedelta(days=1), now + timedelta(minutes=1))
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(6):
        buy(bound_buyer(shop["seller"]), (sku(shop["lamp"]), 1))
    assert queries() == few


def test_the_backend_runs_it_as_a_job_with_figures_and_a_file(shop, jobs_in_memory):
    gold = DistributorGrade.objects.create(name="金牌", weight=9, level1_bp=1500, team_bp=100)
    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    client = login(operations)
    cfg = DistributionSettings.objects.get()
    url = reverse("admin:distribution_distributionsettings_simulate", args=[cfg.pk])
    page = client.get(url)
    assert page.status_code == 200 and "开始模拟" in page.content.decode()
    assert "金牌 · 一级佣金（%）" in page.content.decode()
    reply = client.post(
        url,
        {
            "months": "3",
            "levels": "2",
            "level1_bp": "12",
            "level2_bp": "5",
            "level3_bp": "0",
            "max_commission_bp": "50",
            "freeze_days": "7",
            f"grade_{gold.pk}_level1_bp": "15",
            f"grade_{gold.pk}_level2_bp": "",
            f"grade_{gold.pk}_level3_bp": "",
            f"grade_{gold.pk}_team_bp": "1",
        },
    )
    job = Job.objects.get()
    assert reply.status_code == 302 and reply["Location"] == reverse("admin:core_job_change", args=[job.pk])
    assert job.status == "succeeded", job.message
    assert job.title == "佣金模拟（近 3 个月）：默认一级佣金 10.00 % → 12.00 %"
    figures = dict(job.summary["figures"])
    assert figures["订单数"] == "4" and figures["佣金变化"] == "+¥6.00"
    assert figures["对毛利的影响"].startswith("-¥6.00")
    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    client.get(reverse("admin:core_job_download", args=[job.pk])).streaming_content
                ).decode("utf-8-sig")
            )
        )
    )
    assert rows[0][:2] == ["分销商ID", "推广码"]
    assert rows[1][0] == str(shop["seller"].pk) and rows[1][-1] == "4.00"  # the biggest change first
    assert DistributionSettings.objects.get().level1_bp == cfg.level1_bp  # nothing was changed

    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    assert login(finance).get(url).status_code == 403


def test_a_hold_ending_after_the_days_run_settles_at_the_next_run():
    tz = timezone.get_current_timezone()
    at = lambda *parts: timezone.make_aware(datetime(*parts), tz)  # noqa: E731
    first_run_after = settlement_cycle.first_run_after
    assert first_run_after(cycle("daily"), at(2026, 12, 3, 1, 0)) == at(2026, 12, 3, 2, 30)
    assert first_run_after(cycle("daily"), at(2026, 12, 3, 15, 0)) == at(2026, 12, 4, 2, 30)
    assert first_run_after(cycle("weekly"), at(2026, 12, 7, 9, 0)) == at(2026, 12, 14, 2, 30)
    assert first_run_after(cycle("monthly"), at(2026, 12, 1, 2, 30)) == at(2026, 12, 1, 2, 30)
    assert first_run_after(cycle("monthly"), at(2026, 12, 1, 3, 0)) == at(2027, 1, 1, 2, 30)


def cycle(name: str) -> DistributionSettings:
    """Unsaved settings of cycle `name` on the default days (周一, the 1st)."""
    return DistributionSettings(settlement_cycle=name)


def test_a_grade_draft_over_the_cap_is_said_to_be_refused(shop):
    gold = DistributorGrade.objects.create(name="金牌", weight=9, level1_bp=1500)
    _, refusal = simulation.draft_settings({"grades": {str(gold.pk): {"level1_bp": 6000}}})
    assert "金牌" in refusal and "上限" in refusal
    gold.refresh_from_db()
    assert gold.level1_bp == 1500  # the check's write was rolled back
    # Lowering the cap and the grade together is fine.
    _, refusal = simulation.draft_settings(
        {"max_commission_bp": 3000, "grades": {str(gold.pk): {"level1_bp": 1200}}}
    )
    assert refusal == ""


@pytest.mark.parametrize(
    ("name", "day", "settles"),
    [
        ("daily", date(2026, 12, 3), date(2026, 12, 3)),
        ("weekly", date(2026, 12, 3), date(2026, 12, 7)),  # a Thursday: the next Monday
        ("weekly", date(2026, 12, 7), date(2026, 12, 7)),
        ("monthly", date(2026, 12, 1), date(2026, 12, 1)),
        ("monthly", date(2026, 12, 31), date(2027, 1, 1)),
        ("monthly", date(2026, 2, 15), date(2026, 3, 1)),
    ],
)
def test_the_first_settlement_day_on_or_after_a_hold(name, day, settles):
    assert settlement_cycle.next_cycle_day(cycle(name), day) == settles


def rule_named(name: str) -> CommissionRule:
    return CommissionRule.objects.get(name=name)


def test_a_drafted_category_rate_moves_that_categorys_lines_only(shop):
    before, _ = replay()
    tea = rule_named("茶叶")
    after, refusal = replay(rule={"id": tea.pk, "level1": 2000})
    assert refusal == ""
    # Three tins of tea at ¥80 pay level 1 at 20 % instead of 15 %; nothing else moves.
    assert after.draft - before.draft == 3 * 8000 * 500 // 10000
    assert after.draft_by_level[2] == before.draft_by_level[2]
    assert after.actual == before.actual
    tea.refresh_from_db()
    assert tea.level1 == 1500  # nothing was saved


def test_a_rule_drafted_off_leaves_its_lines_to_the_rates_below_it(shop):
    before, _ = replay()
    cup = rule_named("保温杯高佣")
    after, _ = replay(rule={"id": cup.pk, "is_active": False})
    # One ¥50 cup: 20 % + 8 % under the rule, the default 10 % + 5 % without it.
    assert before.draft - after.draft == 5000 * (2000 - 1000) // 10000 + 5000 * (800 - 500) // 10000
    excluded, _ = replay(rule={"id": cup.pk, "kind": RuleKind.EXCLUDE})
    # 不计佣金: the cup pays nothing at all, not even the tier bonus.
    assert before.draft - excluded.draft == 5000 * (2000 + 100 + 800) // 10000


def test_a_saved_rule_switched_on_in_the_draft_pays_from_then(shop):
    lamp_rule = config.save_rule(
        CommissionRule(
            name="台灯新规", product=shop["lamp"], kind=RuleKind.RATE, level1=1800, is_active=False
        )
    )
    before, _ = replay()
    after, refusal = replay(rule={"id": lamp_rule.pk, "is_active": True})
    assert refusal == ""
    # Three lamps at ¥100: level 1 at 18 % instead of the default 10 %.
    assert after.draft - before.draft == 3 * 10000 * 800 // 10000


def test_a_rule_draft_over_the_cap_is_said_to_be_refused_and_bad_ones_are_refused(shop):
    cup = rule_named("保温杯高佣")
    tally, refusal = replay(rule={"id": cup.pk, "level1": 4500})
    assert "上限" in refusal
    assert tally.draft <= tally.sales * 5000 // 10000
    cup.refresh_from_db()
    assert (cup.level1, cup.version) == (2000, 1)  # the check's write was rolled back
    for rule in (
        {"id": 999999},
        {"id": "1"},
        {"id": cup.pk, "product": None},
        {"id": cup.pk, "level1": -1},
        {"id": cup.pk, "level1": 10001},
        {"id": cup.pk, "kind": "bonus"},
        {"id": cup.pk, "is_active": "yes"},
        [cup.pk],
    ):
        with pytest.raises(DomainError):
            simulation.draft_settings({"rule": rule})


def test_a_drafted_rule_keeps_the_replay_at_a_fixed_number_of_queries_per_chunk(shop):
    tea = rule_named("茶叶")
    draft, _ = simulation.draft_settings({})
    drafted = simulation.draft_rule({"rule": {"id": tea.pk, "level1": 1800}})
    now = timezone.now()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            simulation.replay(draft, now - timedelta(days=1), now + timedelta(minutes=1), rule=drafted)
        return len(ctx.captured_queries)

    few = queries()
    for _ in range(6):
        buy(bound_buyer(shop["seller"]), (sku(shop["lamp"]), 1))
    assert queries() == few


def test_the_rule_page_runs_its_what_if_as_a_job(shop, jobs_in_memory):
    tea = rule_named("茶叶")
    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    client = login(operations)
    url = reverse("admin:distribution_commissionrule_simulate", args=[tea.pk])
    assert (
        url in client.get(reverse("admin:distribution_commissionrule_change", args=[tea.pk])).content.decode()
    )
    page = client.get(url)
    assert page.status_code == 200 and "分类：茶叶" in page.content.decode()
    reply = client.post(
        url, {"months": "3", "is_active": "on", "kind": "rate", "rate1": "20", "rate2": "", "rate3": ""}
    )
    job = Job.objects.get()
    assert reply.status_code == 302 and reply["Location"] == reverse("admin:core_job_change", args=[job.pk])
    assert job.status == "succeeded", job.message
    assert job.title == "佣金模拟（近 3 个月）：规则“茶叶” 15.00 % / - / - → 20.00 % / - / -"
    assert dict(job.summary["figures"])["佣金变化"] == "+¥12.00"
    tea.refresh_from_db()
    assert tea.level1 == 1500
    # Finance may not change rules: no what-if either.
    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    assert login(finance).get(url).status_code == 403
