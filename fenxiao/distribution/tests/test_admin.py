"""The merchant backend for distribution (分销), as staff use it: every page opens, every
action goes through a service, refusals are shown and change nothing."""

import csv
import io
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.catalog.models import Category
from fenxiao.core.money import fen_to_yuan
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    CustomerBinding,
    DistributionSettings,
    Distributor,
    DistributorGrade,
    LedgerEntry,
    LedgerKind,
    SalesTier,
    SettingsChange,
    SettlementBatch,
    Touch,
    TouchSource,
    Withdrawal,
)
from fenxiao.distribution.services import (
    binding,
    config,
    dashboard,
    distributors,
    ledger,
    settlement,
    totals,
    withdrawals,
)
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

from .helpers import settings_data

pytestmark = pytest.mark.django_db

_credit = itertools.count(1)


# --- helpers ------------------------------------------------------------------------------


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff():
    return make_staff("boss", superuser=True)


@pytest.fixture
def boss(staff):
    return login(staff)


def url(obj, action=None):
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{action or 'change'}"
    return reverse(name, args=[obj.pk])


def list_url(model, action="changelist"):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}")


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def designate(parent=None, grade=None, phone=None) -> Distributor:
    return distributors.designate(make_buyer(phone), None, parent=parent, grade=grade)


def credit(distributor, amount: int) -> LedgerEntry:
    """Settled commission on the ledger, for withdrawal tests (with the running balance
    moved as settlement moves it)."""
    entry = LedgerEntry.objects.create(
        distributor=distributor,
        kind=LedgerKind.COMMISSION,
        amount=amount,
        source_key=f"test-credit:{next(_credit)}",
        note="测试入账",
    )
    totals.add({distributor.pk: {"balance": amount}})
    return entry


def paid_order(buyer, sku, quantity=1) -> Order:
    address = buyer.addresses.first() or make_address(buyer)
    order = place_order(buyer, [(sku.pk, quantity)], address_id=address.pk)
    payment = start_payment(order, "sandbox")
    SandboxGateway().complete_trade(payment.out_trade_no)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT
    return order


def completed_order(buyer, sku, staff_user, quantity=1) -> Order:
    order = paid_order(buyer, sku, quantity)
    lifecycle.ship(order, staff_user, carrier="顺丰速运", tracking_number=f"SF{order.pk}")
    return lifecycle.complete(order, actor=buyer)


def request_withdrawal(distributor, amount=2000, method="alipay", account=None) -> Withdrawal:
    account = account if account is not None else {"name": "王五", "account": "b@alipay"}
    return withdrawals.request(distributor, amount=amount, method=method, account=account)


@pytest.fixture
def world(staff):
    """At least one record of every distribution model, in interesting states."""
    config.update_settings(staff, withdraw_fee_bp=100, freeze_days=7)
    # No after-sale window: the freeze alone decides when commission settles here.
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=0)
    normal = DistributorGrade.objects.create(name="普通", weight=1, is_default=True)
    gold = DistributorGrade.objects.create(name="金牌", weight=3, level1_bp=1500, min_own_sales=100000)
    a = designate(grade=normal, phone="13900000001")
    b = designate(parent=a, phone="13900000002")
    pending = distributors.apply(make_buyer("13900000003"), real_name="张三", note="想推广")
    buyer = make_buyer("13900000004")
    binding.record_touch(buyer, b, TouchSource.LINK)
    binding.record_touch(None, a, TouchSource.QR)
    product = make_product("T恤", category=Category.objects.create(name="服装"), price=9900)
    sku = product.skus.get()
    rule = config.save_rule(
        CommissionRule(name="T恤固定佣金", product=product, kind="fixed", level1=500, level2=200)
    )
    tier = config.save_tier(SalesTier(threshold=1000000, bonus_bp=100))
    done = completed_order(buyer, sku, staff)
    settled = settlement.settle_due(timezone.now() + timedelta(days=8))
    second = completed_order(buyer, sku, staff)
    Commission.objects.filter(order=second).update(
        frozen_until=timezone.now() - timedelta(minutes=1)
    )  # its freeze has ended
    batch = settlement.create_batch(staff=staff)
    paid_order(buyer, sku)  # pending commission
    withdrawal = request_withdrawal(b, amount=300)
    return {
        "a": a,
        "b": b,
        "pending": pending,
        "buyer": buyer,
        "normal": normal,
        "gold": gold,
        "rule": rule,
        "tier": tier,
        "order": done,
        "settled_batch": settled,
        "batch": batch,
        "withdrawal": withdrawal,
        "sku": sku,
    }


# --- every page opens ---------------------------------------------------------------------


def distribution_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "distribution"
    ]


def test_the_sidebar_models_are_registered():
    registered = {model._meta.model_name for model, _ in distribution_admins()}
    assert {
        "distributor",
        "commission",
        "settlementbatch",
        "withdrawal",
        "customerbinding",
        "distributorgrade",
        "commissionrule",
        "distributionsettings",
        "salestier",
        "touch",
        "settingschange",
    } <= registered


def test_every_changelist_and_change_page_opens(world, boss):
    for model, model_admin in distribution_admins():
        reply = boss.get(list_url(model), follow=True)
        assert reply.status_code == 200, model
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"no {model.__name__} in the fixture"
        assert boss.get(url(obj)).status_code == 200, model
        for action in model_admin.get_actions_detail(reply.wsgi_request, str(obj.pk)):
            page = boss.get(reverse(f"admin:{action.action_name}", args=[obj.pk]))
            assert page.status_code == 200, action.action_name
        for action in model_admin.get_actions_list(reply.wsgi_request):
            page = boss.get(reverse(f"admin:{action.action_name}"), follow=True)
            assert page.status_code == 200, action.action_name


@pytest.mark.parametrize(
    "model, query",
    [
        (Distributor, {"status__exact": "pending"}),
        (Distributor, {"status__exact": "active", "q": "13900000002"}),
        (Distributor, {"grade__id__exact": "1", "source__exact": "designated"}),
        (Distributor, {"q": "张三"}),
        (Distributor, {"parent__id__exact": "1"}),
        (Commission, {"status__exact": "settled", "level": "1"}),
        (Commission, {"status__exact": "frozen", "rule_source__exact": "product"}),
        (Commission, {"q": "T恤"}),
        (Commission, {"distributor__id__exact": "1"}),
        (SettlementBatch, {"status__exact": "pending_review", "mode__exact": "manual"}),
        (Withdrawal, {"status__exact": "requested", "method__exact": "alipay"}),
        (Withdrawal, {"created_at_from": "2020-01-01", "created_at_to": "2099-12-31"}),
        (Withdrawal, {"created_at_from": "not-a-date"}),
        (Withdrawal, {"q": "13900000002"}),
        (CustomerBinding, {"source__exact": "link", "q": "13900000004"}),
        (Touch, {"decision__exact": "bound", "source__exact": "link"}),
        (Touch, {"decision__exact": "pending_login", "q": "13900000001"}),
        (CommissionRule, {"kind__exact": "fixed", "is_active__exact": "1", "q": "T恤"}),
        (DistributorGrade, {"q": "金"}),
        (SettingsChange, {"q": "2"}),
    ],
)
def test_filters_and_search_open(world, boss, model, query):
    reply = boss.get(list_url(model), query)
    assert reply.status_code == 200
    assert "?e=1" not in reply.get("Location", "")


def test_distributor_list_shows_figures_and_the_review_queue(world, boss):
    reply = boss.get(list_url(Distributor))
    page = reply.content.decode()
    b = world["b"]
    figures = dashboard.figures(b)
    assert figures["commission_available"] > 0
    assert b.referral_code in page
    assert "¥" + fen_to_yuan(figures["commission_available"]) in page
    queue = boss.get(reverse("admin:distribution_distributor_review_queue"), follow=True)
    rows = list(queue.context["cl"].result_list)
    assert [d.pk for d in rows] == [world["pending"].pk]


def test_figures_for_page_match_the_dashboard(world):
    everyone = list(Distributor.objects.all())
    page = dashboard.figures_for_page([d.pk for d in everyone])
    for distributor in everyone:
        assert page[distributor.pk] == dashboard.figures(distributor)


def test_distributor_changelist_query_count_does_not_grow(staff, boss, django_assert_max_num_queries):
    grade = DistributorGrade.objects.create(name="普通", weight=1, is_default=True)
    root = designate(grade=grade)

    def add(n):
        for i in range(n):
            d = designate(parent=root if i % 2 else None, grade=grade)
            binding.record_touch(make_buyer(), d, TouchSource.LINK)
            credit(d, 1000 + i)

    add(2)  # 3 distributors
    with CaptureQueriesContext(connection) as small:
        assert boss.get(list_url(Distributor)).status_code == 200
    add(27)  # 30 distributors
    assert Distributor.objects.count() == 30
    with django_assert_max_num_queries(len(small)):
        reply = boss.get(list_url(Distributor))
    assert reply.status_code == 200
    assert len(reply.context["cl"].result_list) == 30


def test_ledger_page_shows_running_balance(world, boss):
    b = world["b"]
    reply = boss.get(reverse("admin:distribution_distributor_ledger", args=[b.pk]))
    assert reply.status_code == 200
    balance = ledger.balance(b.pk)
    assert reply.context["balance"] == balance
    rows = reply.context["entries"]
    assert rows[0]["running"] == "¥" + fen_to_yuan(balance)  # newest first, after it the sum
    assert len(rows) == LedgerEntry.objects.filter(distributor=b).count()


# --- 分销设置 -------------------------------------------------------------------------------


def test_settings_changelist_goes_to_the_one_record(boss):
    reply = boss.get(list_url(DistributionSettings))
    assert reply.status_code == 302
    assert reply["Location"] == url(config.current())
    assert DistributionSettings.objects.count() == 1
    assert boss.get(list_url(DistributionSettings, "add")).status_code == 403


def test_saving_settings_logs_the_change_with_a_diff(staff, boss):
    cfg = config.current()
    before = cfg.version
    reply = boss.post(
        url(cfg),
        settings_data(cfg, levels=3, level3_bp="2", withdraw_min="5.00", withdraw_methods=["alipay"]),
    )
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    cfg.refresh_from_db()
    assert (cfg.levels, cfg.level3_bp, cfg.withdraw_min) == (3, 200, 500)
    assert cfg.withdraw_methods == ["alipay"]
    assert cfg.version == before + 1
    change = SettingsChange.objects.get()
    assert change.changed_by == staff
    assert change.version == cfg.version
    assert change.changes == {
        "levels": [2, 3],
        "level3_bp": [0, 200],
        "withdraw_min": [100, 500],
        "withdraw_methods": [[], ["alipay"]],
    }
    page = boss.get(url(cfg)).content.decode()
    assert "分销层级：2 → 3" in page
    assert "最低提现：¥1.00 → ¥5.00" in page

    # Saving without a change logs nothing.
    boss.post(url(cfg), settings_data(cfg))
    assert SettingsChange.objects.count() == 1


def test_four_levels_are_refused_with_the_reason_and_nothing_changes(boss):
    cfg = config.current()
    reply = boss.post(url(cfg), settings_data(cfg, levels=4, level1_bp="5"))
    assert reply.status_code == 200
    assert "分销层级最多 3 级" in reply.content.decode()
    assert reply.context["adminform"].form.errors["levels"]
    cfg.refresh_from_db()
    assert (cfg.levels, cfg.level1_bp, cfg.version) == (2, 1000, 1)
    assert SettingsChange.objects.count() == 0


def test_settings_that_break_the_guard_are_refused(boss):
    cfg = config.current()
    reply = boss.post(url(cfg), settings_data(cfg, level1_bp="48"))
    assert reply.status_code == 200
    assert "超过单商品佣金上限" in reply.content.decode()
    cfg.refresh_from_db()
    assert cfg.level1_bp == 1000
    assert SettingsChange.objects.count() == 0


# --- 分销等级 / 佣金规则 / 阶梯 -------------------------------------------------------------


def rule_data(**overrides) -> dict:
    data = {
        "name": "数码类",
        "kind": "rate",
        "is_active": "on",
        "rate1": "",
        "rate2": "",
        "rate3": "",
        "fixed1": "",
        "fixed2": "",
        "fixed3": "",
    }
    data.update(overrides)
    return data


def test_a_rule_over_the_guard_is_refused_and_not_saved(boss):
    category = Category.objects.create(name="数码")
    reply = boss.post(
        list_url(CommissionRule, "add"), rule_data(category=category.pk, rate1="40", rate2="20")
    )
    assert reply.status_code == 200
    assert "超过上限" in reply.content.decode()
    assert CommissionRule.objects.count() == 0

    reply = boss.post(list_url(CommissionRule, "add"), rule_data(rate1="10"))
    assert "规则必须且只能指定商品、SKU 或分类之一" in reply.content.decode()
    assert CommissionRule.objects.count() == 0

    reply = boss.post(list_url(CommissionRule, "add"), rule_data(category=category.pk, rate1="15", rate2="3"))
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.level1, rule.level2, rule.level3, rule.version) == (1500, 300, None, 1)

    reply = boss.post(url(rule), rule_data(category=category.pk, rate1="16", rate2="3"))
    assert reply.status_code == 302
    rule.refresh_from_db()
    assert (rule.level1, rule.version) == (1600, 2)


def test_a_fixed_rule_takes_yuan_per_unit(boss):
    product = make_product("耳机", price=10000)
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="耳机", product=product.pk, kind="fixed", fixed1="5.50", fixed2="2"),
    )
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.kind, rule.level1, rule.level2) == ("fixed", 550, 200)
    assert "¥5.50/件" in boss.get(list_url(CommissionRule)).content.decode()

    reply = boss.post(url(rule), rule_data(name="耳机", product=product.pk, kind="fixed", fixed1="60.00"))
    assert "超过最低售价的上限" in reply.content.decode()
    rule.refresh_from_db()
    assert rule.level1 == 550


def test_a_rule_can_exclude_a_product_from_commission(boss):
    product = make_product("特价机", price=10000)
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="特价不计佣", product=product.pk, kind="exclude", rate1="5"),
    )
    assert reply.status_code == 302
    rule = CommissionRule.objects.get()
    assert (rule.kind, rule.level1, rule.level2, rule.level3) == ("exclude", None, None, None)
    assert "不计佣金" in boss.get(list_url(CommissionRule)).content.decode()
    page = boss.get(url(rule)).content.decode()
    assert "v1 · 特价不计佣 · 所有等级 · 不计佣金" in page


def test_rules_that_pass_alone_but_not_together_are_refused_in_the_form(boss):
    # 35% level 1 for every grade and 12% level 2 for 银牌 on one product: 47% plus the
    # 2% tier bonus and 银牌's 2% team commission = 51% > 50%.
    silver = DistributorGrade.objects.create(name="银牌", weight=3, team_bp=200)
    config.save_tier(SalesTier(threshold=100000, bonus_bp=200))
    product = make_product("耳机", price=10000)
    reply = boss.post(list_url(CommissionRule, "add"), rule_data(name="高佣", product=product.pk, rate1="35"))
    assert reply.status_code == 302
    reply = boss.post(
        list_url(CommissionRule, "add"),
        rule_data(name="银牌二级", product=product.pk, grade=silver.pk, rate2="12"),
    )
    assert reply.status_code == 200
    assert reply.context["adminform"].form.non_field_errors() == [
        "商品“耳机”：不同等级的分销商组合后，一级 35%（任意等级） + 二级 12%（银牌） + 阶梯奖励 2% "
        "+ 团队佣金 2% = 51%，超过单商品佣金上限 50%"
    ]
    assert CommissionRule.objects.count() == 1


def test_a_grade_fine_alone_but_over_the_guard_beside_another_is_refused_in_the_form(boss):
    # 金牌 35% level 1 (+5% default level 2 = 40%) and 银牌 12% level 2 with a 3% team
    # commission (+10% default level 1 = 25%) each pass; a 金牌 level 1 above a 银牌 level 2
    # earns 35% + 12% + 3% = 50%, a 银牌 at 13% would make 51% > 50%.
    DistributorGrade.objects.create(name="金牌", weight=5, level1_bp=3500)
    data = {"name": "银牌", "weight": "3", "level2_bp": "13", "team_bp": "3", "logic": "all"}
    reply = boss.post(list_url(DistributorGrade, "add"), data)
    assert reply.status_code == 200
    assert reply.context["adminform"].form.non_field_errors() == [
        "默认比例与等级比例：不同等级的分销商组合后，一级 35%（金牌） + 二级 13%（银牌） "
        "+ 团队佣金 3% = 51%，超过单商品佣金上限 50%"
    ]
    assert not DistributorGrade.objects.filter(name="银牌").exists()
    reply = boss.post(list_url(DistributorGrade, "add"), {**data, "level2_bp": "12"})
    assert reply.status_code == 302
    assert DistributorGrade.objects.filter(name="银牌").exists()


def test_grades_go_through_the_guard_and_upgrade_on_demand(world, boss):
    reply = boss.post(
        list_url(DistributorGrade, "add"),
        {"name": "钻石", "weight": "9", "level1_bp": "49", "team_bp": "0", "logic": "all"},
    )
    assert reply.status_code == 200
    assert "超过单商品佣金上限" in reply.content.decode()
    assert not DistributorGrade.objects.filter(name="钻石").exists()

    # A new default grade takes the flag from the old one (save_grade).
    reply = boss.post(
        list_url(DistributorGrade, "add"),
        {
            "name": "高级",
            "weight": "2",
            "is_default": "on",
            "team_bp": "0",
            "logic": "any",
            "min_own_sales": "500.00",
        },
    )
    assert reply.status_code == 302
    senior = DistributorGrade.objects.get(name="高级")
    assert senior.is_default and senior.min_own_sales == 50000
    assert not DistributorGrade.objects.get(name="普通").is_default

    gold = world["gold"]
    gold.min_own_sales = 1
    gold.save()
    reply = boss.post(reverse("admin:distribution_distributorgrade_evaluate_upgrades"), {"_confirm": "1"})
    assert reply.status_code == 302
    world["b"].refresh_from_db()
    assert world["b"].grade == gold
    assert any("已升级" in t for t in texts(reply))


def test_a_tier_that_breaks_the_guard_is_refused(boss):
    reply = boss.post(list_url(SalesTier, "add"), {"threshold": "10000.00", "bonus_bp": "40"})
    assert reply.status_code == 200
    assert "超过单商品佣金上限" in reply.content.decode()
    assert SalesTier.objects.count() == 0
    reply = boss.post(list_url(SalesTier, "add"), {"threshold": "10000.00", "bonus_bp": "2"})
    assert reply.status_code == 302
    assert SalesTier.objects.get().threshold == 1000000


# --- 分销商 ---------------------------------------------------------------------------------


def test_approve_and_reject_pending_distributors(staff, boss):
    first = distributors.apply(make_buyer(), real_name="张三")
    second = distributors.apply(make_buyer(), real_name="李四")
    assert first.status == second.status == "pending"

    reply = boss.post(url(first, "approve"), {"_confirm": "1"})
    assert reply.status_code == 302
    first.refresh_from_db()
    assert first.status == "active" and first.reviewed_by == staff

    reply = boss.post(url(second, "reject"), {"reason": ""})
    assert reply.status_code == 200  # the reason is required
    second.refresh_from_db()
    assert second.status == "pending"
    reply = boss.post(url(second, "reject"), {"reason": "资料不全"})
    assert reply.status_code == 302
    second.refresh_from_db()
    assert (second.status, second.reject_reason) == ("rejected", "资料不全")

    # Approving one already active is refused with the service's message.
    reply = boss.post(url(first, "approve"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "当前状态“正常”不能变为“正常”" in texts(reply)


def test_bulk_reject_asks_for_a_reason_first(boss):
    people = [distributors.apply(make_buyer(), real_name=f"申请人{i}") for i in range(2)]
    ids = [str(d.pk) for d in people]
    reply = boss.post(
        list_url(Distributor), {"action": "reject_selected", "index": "0", "_selected_action": ids}
    )
    assert reply.status_code == 200
    assert "拒绝分销商申请" in reply.content.decode()
    assert set(Distributor.objects.values_list("status", flat=True)) == {"pending"}
    reply = boss.post(
        list_url(Distributor),
        {
            "action": "reject_selected",
            "_confirm": "1",
            "select_across": "0",
            "_selected_action": ids,
            "reason": "不符合条件",
        },
    )
    assert reply.status_code == 302
    assert set(Distributor.objects.values_list("reject_reason", flat=True)) == {"不符合条件"}

    reply = boss.post(
        list_url(Distributor), {"action": "approve_selected", "index": "0", "_selected_action": ids}
    )
    assert reply.status_code == 302
    assert set(Distributor.objects.values_list("status", flat=True)) == {"active"}


def test_status_grade_and_parent_changes(world, boss):
    a, b = world["a"], world["b"]
    assert boss.post(url(b, "suspend"), {"reason": "违规推广"}).status_code == 302
    b.refresh_from_db()
    assert (b.status, b.status_reason) == ("suspended", "违规推广")
    assert boss.post(url(b, "reactivate"), {"reason": ""}).status_code == 302
    b.refresh_from_db()
    assert b.status == "active"

    assert boss.post(url(b, "change_grade"), {"grade": world["gold"].pk}).status_code == 302
    b.refresh_from_db()
    assert b.grade == world["gold"]

    # a is b's parent: making b a's parent would close a loop.
    reply = boss.post(url(a, "change_parent"), {"parent": b.referral_code})
    assert reply.status_code == 200
    assert "不能形成循环的上下级关系" in reply.content.decode()
    a.refresh_from_db()
    assert a.parent_id is None
    assert boss.post(url(b, "change_parent"), {"parent": ""}).status_code == 302
    b.refresh_from_db()
    assert b.parent_id is None

    assert boss.post(url(b, "ban"), {"reason": "刷单", "decision": "void"}).status_code == 302
    b.refresh_from_db()
    assert b.status == "banned"


def test_designate_a_user_from_the_add_button(world, boss):
    assert boss.get(list_url(Distributor, "add"))["Location"] == reverse(
        "admin:distribution_distributor_designate"
    )
    user = make_buyer("13700000009")
    reply = boss.post(
        reverse("admin:distribution_distributor_designate"),
        {"user": "13700000009", "parent": world["a"].referral_code, "grade": world["gold"].pk},
    )
    assert reply.status_code == 302
    made = Distributor.objects.get(user=user)
    assert (made.status, made.source, made.parent, made.grade) == (
        "active",
        "designated",
        world["a"],
        world["gold"],
    )
    reply = boss.post(reverse("admin:distribution_distributor_designate"), {"user": "1000"})
    assert "找不到该用户" in reply.content.decode()


# --- 客户关系 -------------------------------------------------------------------------------


def test_reassign_binding_with_reason_records_a_manual_touch(world, staff, boss):
    current = CustomerBinding.objects.get(buyer=world["buyer"])
    reply = boss.post(url(current, "reassign"), {"distributor": world["a"].referral_code, "reason": ""})
    assert reply.status_code == 200
    current.refresh_from_db()
    assert current.distributor == world["b"]

    reply = boss.post(
        url(current, "reassign"), {"distributor": world["a"].referral_code, "reason": "客户要求更换专属顾问"}
    )
    assert reply.status_code == 302
    current.refresh_from_db()
    assert current.distributor == world["a"] and current.source == "manual"
    touch = Touch.objects.filter(buyer=world["buyer"]).latest("pk")
    assert (touch.rule, touch.reason, touch.staff, touch.decision) == (
        "manual",
        "客户要求更换专属顾问",
        staff,
        "rebound",
    )

    # A distributor cannot be bound to themselves: refused, shown, nothing changes.
    a_user_binding = CustomerBinding.objects.filter(buyer=world["a"].user).count()
    reply = boss.post(
        reverse("admin:distribution_customerbinding_bind_buyer"),
        {"buyer": "13900000001", "distributor": world["a"].referral_code, "reason": "测试"},
    )
    assert reply.status_code == 200
    assert "分销商不能绑定自己" in reply.content.decode()
    assert CustomerBinding.objects.filter(buyer=world["a"].user).count() == a_user_binding


# --- 结算 ------------------------------------------------------------------------------------


def test_batches_are_created_approved_and_cancelled_in_the_backend(world, staff, boss):
    batch = world["batch"]
    assert batch.status == "pending_review" and batch.commission_count == 2
    b = world["b"]
    before = ledger.balance(b.pk)
    reply = boss.post(url(batch, "approve_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "settled" and batch.approved_by == staff
    assert ledger.balance(b.pk) == before + 500  # the fixed ¥5.00 level-1 commission

    # Approving it again is refused and changes nothing.
    reply = boss.post(url(batch, "approve_batch"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "该结算批次不是待审核状态" in texts(reply)
    assert ledger.balance(b.pk) == before + 500

    # Nothing due: the list action says so.
    reply = boss.post(reverse("admin:distribution_settlementbatch_create_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert any("没有可结算的佣金" in t for t in texts(reply))


def test_settle_now_and_cancel_a_batch(world, staff, boss):
    buyer, sku = world["buyer"], world["sku"]
    order = completed_order(buyer, sku, staff)
    Commission.objects.filter(order=order).update(frozen_until=timezone.now())
    batch = settlement.create_batch(staff=staff)
    reply = boss.post(url(batch, "cancel_batch"), {"_confirm": "1"})
    assert reply.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "cancelled"
    assert set(Commission.objects.filter(order=order).values_list("status", "batch")) == {("frozen", None)}

    reply = boss.post(reverse("admin:distribution_settlementbatch_settle_now"), {"_confirm": "1"})
    assert reply.status_code == 302
    assert set(Commission.objects.filter(order=order).values_list("status", flat=True)) == {"settled"}


def test_commission_detail_explains_the_amount(world, boss):
    commission = Commission.objects.filter(distributor=world["b"], level=1).first()
    page = boss.get(url(commission)).content.decode()
    assert "¥5.00/件 × 1件" in page
    assert world["order"].number in boss.get(list_url(Commission)).content.decode()
    assert boss.get(list_url(Commission, "add")).status_code == 403


# --- 提现 ------------------------------------------------------------------------------------


@pytest.fixture
def earner(staff):
    config.update_settings(staff, withdraw_fee_bp=100)
    distributor = designate()
    credit(distributor, 10000)
    return distributor


def test_approving_an_alipay_withdrawal_pays_it_and_the_balance_drops(earner, staff, boss):
    withdrawal = request_withdrawal(earner, amount=2000)
    assert ledger.balance(earner.pk) == 8000  # held on request
    reply = boss.post(url(withdrawal, "approve"), {"_confirm": "1"})
    assert reply.status_code == 302
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid" and withdrawal.decided_by == staff
    assert withdrawal.payout_reference.startswith("ALIPAY-SBX-")
    assert ledger.balance(earner.pk) == 8000
    assert dashboard.figures(earner)["commission_withdrawn"] == 2000
    assert any("已审核通过并打款 ¥19.80" in t for t in texts(reply))

    # Approving a paid one again: an error, and nothing changes.
    entries = LedgerEntry.objects.count()
    reply = boss.post(url(withdrawal, "approve"), {"_confirm": "1"})
    assert reply.status_code == 200
    assert "当前状态“已打款”不能变为“已审核，打款中”" in texts(reply)
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid"
    assert LedgerEntry.objects.count() == entries
    assert ledger.balance(earner.pk) == 8000

    # The bulk action says the same for it.
    reply = boss.post(
        list_url(Withdrawal),
        {"action": "approve_selected", "index": "0", "_selected_action": [str(withdrawal.pk)]},
    )
    assert reply.status_code == 302
    assert any(withdrawal.number in t for t in texts(reply))
    assert LedgerEntry.objects.count() == entries


def test_rejecting_a_withdrawal_releases_the_hold(earner, boss):
    withdrawal = request_withdrawal(earner, amount=3000)
    assert ledger.balance(earner.pk) == 7000
    reply = boss.post(url(withdrawal, "reject"), {"reason": ""})
    assert reply.status_code == 200
    assert ledger.balance(earner.pk) == 7000
    reply = boss.post(url(withdrawal, "reject"), {"reason": "账户信息有误"})
    assert reply.status_code == 302
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.reject_reason) == ("rejected", "账户信息有误")
    assert ledger.balance(earner.pk) == 10000


def test_bank_transfers_are_marked_paid_or_failed_by_hand(earner, boss):
    account = {"name": "王五", "bank": "招商银行", "account": "6225000000000001"}
    paid = request_withdrawal(earner, amount=1000, method="bank", account=account)
    failed = request_withdrawal(earner, amount=1000, method="bank", account=account)
    for withdrawal in (paid, failed):
        assert boss.post(url(withdrawal, "approve"), {"_confirm": "1"}).status_code == 302
        withdrawal.refresh_from_db()
        assert withdrawal.status == "approved"
    assert boss.post(url(paid, "mark_paid"), {"reference": "CMB20260101"}).status_code == 302
    assert boss.post(url(failed, "mark_failed"), {"reason": "户名不符"}).status_code == 302
    paid.refresh_from_db()
    failed.refresh_from_db()
    assert (paid.status, paid.payout_reference) == ("paid", "CMB20260101")
    assert (failed.status, failed.failure_reason) == ("failed", "户名不符")
    assert ledger.balance(earner.pk) == 9000


def test_without_change_permission_staff_cannot_approve(earner):
    withdrawal = request_withdrawal(earner)
    viewer = login(make_staff("finance", perms=["distribution.view_withdrawal"]))
    assert viewer.get(list_url(Withdrawal)).status_code == 200
    assert viewer.get(url(withdrawal)).status_code == 200
    assert viewer.post(url(withdrawal, "approve"), {"_confirm": "1"}).status_code == 403
    viewer.post(
        list_url(Withdrawal),
        {"action": "approve_selected", "index": "0", "_selected_action": [str(withdrawal.pk)]},
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == "requested"
    # Nor can anyone without distribution permissions see the pages.
    stranger = login(make_staff("clerk"))
    assert stranger.get(list_url(Withdrawal)).status_code == 403
    assert stranger.get(list_url(Distributor)).status_code == 403


# --- the payout file ------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Chinese
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_and_xlsx_export_the_selected_withdrawals(earner, boss):
    earner.real_name = "王五"
    earner.save()
    first = request_withdrawal(earner, amount=2000)
    second = request_withdrawal(
        earner,
        amount=1234,
        method="bank",
        account={"name": '=HYPERLINK("x")', "bank": "招商银行", "account": "6225000000000001"},
    )
    selected = {"index": "0", "_selected_action": [str(first.pk), str(second.pk)]}

    reply = boss.post(list_url(Withdrawal), {"action": "export_csv", **selected})
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("text/csv")
    assert "attachment" in reply["Content-Disposition"]
    rows = read_csv(reply)
    assert rows[0][:3] == ["提现单号", "分销商", "手机号"]
    assert [r[0] for r in rows[1:]] == [first.number, second.number]
    assert rows[1][1] == "王五" and rows[1][2] == earner.user.phone
    assert rows[1][4] == "支付宝" and rows[1][7] == "b@alipay"
    assert rows[1][8:11] == ["20.00", "0.20", "19.80"]
    assert rows[2][8:11] == ["12.34", "0.12", "12.22"]
    assert rows[2][5] == '\'=HYPERLINK("x")'  # never a formula in a spreadsheet
    assert rows[1][11] == "待审核"

    reply = boss.post(list_url(Withdrawal), {"action": "export_xlsx", **selected})
    assert reply.status_code == 200
    assert reply["Content-Type"].startswith("application/vnd.openxmlformats")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(reply.content)).active
    values = list(sheet.values)
    assert values[0][0] == "提现单号"
    assert [v[0] for v in values[1:]] == [first.number, second.number]
    assert [Decimal(str(v)) for v in values[1][8:11]] == [Decimal("20.00"), Decimal("0.20"), Decimal("19.80")]
    assert sheet.cell(row=2, column=9).number_format == "0.00"
    assert values[2][5] == '\'=HYPERLINK("x")'
    assert sheet.cell(row=3, column=6).data_type == "s"


def test_export_of_the_filtered_list(earner, boss):
    kept = request_withdrawal(earner, amount=2000)
    dropped = request_withdrawal(earner, amount=1000)
    withdrawals.reject(dropped, None, reason="测试")
    listing = boss.get(list_url(Withdrawal), {"status__exact": "requested"})
    assert (
        reverse("admin:distribution_withdrawal_export", args=["csv"]) + "?status__exact=requested"
        in listing.content.decode()
    )
    reply = boss.get(
        reverse("admin:distribution_withdrawal_export", args=["csv"]), {"status__exact": "requested"}
    )
    assert [r[0] for r in read_csv(reply)[1:]] == [kept.number]
    reply = boss.get(reverse("admin:distribution_withdrawal_export", args=["xlsx"]))
    assert reply.status_code == 200
    assert boss.get(reverse("admin:distribution_withdrawal_export", args=["pdf"])).status_code == 404
    stranger = login(make_staff("clerk"))
    assert stranger.get(reverse("admin:distribution_withdrawal_export", args=["csv"])).status_code == 403


def test_view_only_staff_see_distributors_but_cannot_change_them(world):
    viewer = login(make_staff("ops", perms=["distribution.view_distributor"]))
    b = world["b"]
    assert viewer.get(list_url(Distributor)).status_code == 200
    page = viewer.get(url(b))
    assert page.status_code == 200
    assert "暂停" not in [a["title"] for a in page.context["actions_detail"]]
    assert viewer.get(reverse("admin:distribution_distributor_ledger", args=[b.pk])).status_code == 200
    assert viewer.post(url(b, "suspend"), {"reason": "违规"}).status_code == 403
    assert viewer.post(url(world["pending"], "approve"), {"_confirm": "1"}).status_code == 403
    assert viewer.get(reverse("admin:distribution_distributor_designate")).status_code == 403
    b.refresh_from_db()
    world["pending"].refresh_from_db()
    assert (b.status, world["pending"].status) == ("active", "pending")
    # Settings: a viewer sees them read only and cannot save.
    settings_viewer = login(make_staff("ops", perms=["distribution.view_distributionsettings"]))
    cfg = config.current()
    assert settings_viewer.get(url(cfg)).status_code == 200
    assert settings_viewer.post(url(cfg), settings_data(cfg, levels=3)).status_code == 403
    cfg.refresh_from_db()
    assert cfg.levels == 2
