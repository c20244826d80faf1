"""The distribution backend and the distributor API in English (the shop's default stays
Chinese): every page here is built from English data, so any Chinese left is the app's own."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.catalog.models import Category
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    DistributionSettings,
    Distributor,
    DistributorGrade,
    LedgerEntry,
    SettlementBatch,
    Withdrawal,
)
from fenxiao.distribution.services import config, distributors, settlement
from fenxiao.orders.models import OrderSettings
from fenxiao.testing import (
    api_for,
    backend_content,
    chinese_left,
    in_english,
    login,
    make_buyer,
    make_product,
    make_staff,
)

from .backend import completed_order, designate, list_url, request_withdrawal, url
from .helpers import configure, earn, make_distributor

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    """A shop with English data: grades, a product, a chain of two distributors with a
    settled and a batched commission, a pending application and a withdrawal."""
    staff = make_staff("boss", superuser=True)
    config.update_settings(staff, withdraw_fee_bp=100, freeze_days=7)
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=0)
    standard = DistributorGrade.objects.create(name="Standard", weight=1, is_default=True)
    DistributorGrade.objects.create(name="Gold", weight=3, level1_bp=1500, min_own_sales=100000)
    a = designate(grade=standard, phone="13900000101")
    b = designate(parent=a, phone="13900000102")
    pending = distributors.apply(make_buyer("13900000103"), real_name="Zhang San", note="Keen to share")
    buyer = make_buyer("13900000104")
    from fenxiao.distribution.services import binding

    binding.record_touch(buyer, b, "link")
    product = make_product("Desk lamp", category=Category.objects.create(name="Home"), price=9900)
    sku = product.skus.get()
    completed_order(buyer, sku, staff)
    settled = settlement.settle_due(timezone.now() + timedelta(days=8))
    second = completed_order(buyer, sku, staff)
    Commission.objects.filter(order=second).update(frozen_until=timezone.now() - timedelta(minutes=1))
    batch = settlement.create_batch(staff=staff)
    withdrawal = request_withdrawal(b, amount=300, account={"name": "Wang Wu", "account": "b@alipay.com"})
    rule = config.save_rule(
        CommissionRule(name="Lamp fixed commission", product=product, kind="fixed", level1=500, level2=200)
    )
    return {
        "client": login(staff),
        "a": a,
        "b": b,
        "pending": pending,
        "settled": settled,
        "batch": batch,
        "withdrawal": withdrawal,
        "rule": rule,
    }


def english_page(client, path) -> str:
    page = in_english(client).get(path)
    assert page.status_code == 200, path
    return page.content.decode()


def test_the_distributor_pages_are_in_english(shop):
    client = shop["client"]
    changelist = english_page(client, list_url(Distributor))
    assert "Referral code" in changelist and "Pending review" in changelist
    assert chinese_left(backend_content(changelist)) == []

    change = english_page(client, url(shop["b"]))
    assert "Live figures" in change and "Direct team" in change
    assert chinese_left(backend_content(change)) == []

    review = english_page(client, url(shop["pending"], "approve"))
    assert "Confirm approval" in review
    assert chinese_left(backend_content(review)) == []


def test_a_suspended_distributor_reads_suspended_and_the_button_suspend(shop):
    """暂停 names both the status and the action that sets it; English tells them apart."""
    client = shop["client"]
    Distributor.objects.filter(pk=shop["a"].pk).update(status="suspended")
    listing = english_page(client, list_url(Distributor) + "?status__exact=suspended")
    assert re.search(r">\s*Suspended\s*</span>", listing)
    assert re.search(r">\s*Suspend\s*<", english_page(client, url(shop["b"])))
    chinese = login(make_staff("ops", superuser=True)).get(list_url(Distributor)).content.decode()
    assert re.search(r">\s*暂停\s*</span>", chinese)


def test_the_commission_withdrawal_and_settlement_pages_are_in_english(shop):
    client = shop["client"]
    commissions = english_page(client, list_url(Commission))
    assert "Settled" in commissions
    assert chinese_left(backend_content(commissions)) == []

    withdrawals = english_page(client, list_url(Withdrawal))
    assert "Withdrawal amount" in withdrawals or "Amount" in withdrawals
    assert chinese_left(backend_content(withdrawals)) == []
    withdrawal = english_page(client, url(shop["withdrawal"]))
    # The ledger's memo is the system's sentence: shown in English, stored in Chinese.
    assert f"Withdrawal request {shop['withdrawal'].number}" in withdrawal
    assert chinese_left(backend_content(withdrawal)) == []
    assert LedgerEntry.objects.filter(note=f"提现申请 {shop['withdrawal'].number}").exists()

    batches = english_page(client, list_url(SettlementBatch))
    assert chinese_left(backend_content(batches)) == []
    for batch in (shop["batch"], shop["settled"]):
        page = english_page(client, url(batch))
        assert f"Settlement batch #{batch.pk}" in page
        assert chinese_left(backend_content(page)) == []


def test_the_compliance_page_and_the_simulation_form_are_in_english(shop):
    client = shop["client"]
    compliance = english_page(client, reverse("distribution_compliance"))
    assert "Compliance overview" in compliance and "No more than three distribution levels" in compliance
    assert chinese_left(backend_content(compliance)) == []

    cfg = DistributionSettings.objects.get()
    simulation = english_page(
        client, reverse("admin:distribution_distributionsettings_simulate", args=[cfg.pk])
    )
    assert "Start simulation" in simulation and "Gold · Level 1 commission (%)" in simulation
    assert chinese_left(backend_content(simulation)) == []


def test_the_settings_grades_rules_and_ledger_pages_are_in_english(shop):
    client = shop["client"]
    cfg = DistributionSettings.objects.get()
    settings_page = english_page(client, url(cfg))
    assert "Levels and commission" in settings_page and "Effective at" in settings_page
    # Rates are typed in %: the column's "100 bp = 1%" note would mislead there.
    assert "Default level-1 commission (%)" in settings_page and "100 bp = 1%" not in settings_page
    assert chinese_left(backend_content(settings_page)) == []
    for model in (DistributorGrade, CommissionRule):
        page = english_page(client, list_url(model))
        assert chinese_left(backend_content(page)) == []
    for path in (list_url(CommissionRule, "add"), url(shop["rule"])):
        rule_page = english_page(client, path)
        assert chinese_left(backend_content(rule_page)) == []

    b = shop["b"]
    ledger = english_page(client, reverse("admin:distribution_distributor_ledger", args=[b.pk]))
    assert "Account ledger" in ledger and "Recent commissions" in ledger
    # The memos settlement and withdrawals wrote read in English too.
    assert "Level-1 commission settled for order" in ledger and "Withdrawal request W" in ledger
    assert chinese_left(backend_content(ledger)) == []

    export = in_english(client).get(reverse("distribution_compliance_export"))
    assert export.status_code == 200
    assert "Section" in export.content.decode("utf-8-sig").splitlines()[0]


def test_the_default_stays_chinese(shop):
    page = shop["client"].get(list_url(Distributor)).content.decode()
    assert "推广码" in page and "待审核" in page
    compliance = shop["client"].get(reverse("distribution_compliance")).content.decode()
    assert "合规概览" in compliance and "一、分销层级不超过三级" in compliance


def _withdraw(distributor, amount, language=None):
    api = api_for(distributor.user)
    extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    return api.client.post(
        "/api/v1/distribution/withdrawals",
        json.dumps(
            {"amount": amount, "method": "alipay", "account": {"name": "Wang Wu", "account": "a@x.cn"}}
        ),
        content_type="application/json",
        **api._headers(),
        **extra,
    )


def test_an_api_refusal_speaks_the_callers_language():
    configure(withdraw_min=1000, withdraw_max=5000)
    rich = make_distributor()
    earn(rich, 100000)

    english = _withdraw(rich, 999, "en")
    assert (english.status_code, english.json()["code"]) == (400, "WITHDRAWAL_BELOW_MINIMUM")
    assert english.json()["message"] == "Minimum withdrawal is ¥10.00"
    chinese = _withdraw(rich, 999)
    assert (chinese.status_code, chinese.json()["code"]) == (400, "WITHDRAWAL_BELOW_MINIMUM")
    assert chinese.json()["message"] == "最低提现 ¥10.00"

    # Applying when already a distributor: the class message of the refusal, in English.
    applied = api_for(rich.user).client.post(
        "/api/v1/distribution/apply",
        json.dumps({"real_name": "Li Si"}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **api_for(rich.user)._headers(),
    )
    assert applied.status_code == 409, applied.content
    assert applied.json()["code"] == "DISTRIBUTOR_APPLICATION_NOT_ALLOWED"
    assert applied.json()["message"] == "You have already applied or are already a distributor"
