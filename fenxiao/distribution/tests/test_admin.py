"""The merchant backend for distribution (分销), as staff use it: every page opens, the
lists show their figures, and the distribution settings are saved or refused with the reason."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.core.money import fen_to_yuan
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    CustomerBinding,
    DistributionSettings,
    Distributor,
    DistributorGrade,
    LedgerEntry,
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
    ledger,
)
from fenxiao.testing import make_buyer

from .backend import credit, designate, list_url, url
from .helpers import settings_data

pytestmark = pytest.mark.django_db


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
