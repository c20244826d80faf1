"""The 快速开店 wizard: superusers choose a template, read the plan and confirm; 运营 are
refused; the backend home invites a superuser of a fresh shop to it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.distribution.models import DistributorGrade
from fenxiao.distribution.services import config
from fenxiao.shopsetup.models import SetupRecord
from fenxiao.testing import in_english, login, make_staff

pytestmark = pytest.mark.django_db

WIZARD = "/backend/setup/"


@pytest.fixture
def boss():
    return make_staff("boss", superuser=True)


@pytest.fixture
def operations():
    ensure_staff_groups()
    user = make_staff("ops")
    user.groups.add(Group.objects.get(name=OPERATIONS))
    return user


def test_wizard_shows_the_three_templates_and_the_plan(boss):
    client = login(boss)
    page = client.get(WIZARD)
    assert page.status_code == 200
    body = page.content.decode()
    for text in ("初创", "中小企业", "线下连锁", "人人分销", "还没有应用过模板"):
        assert text in body
    plan = client.get(reverse("shopsetup_plan", args=["smb"]))
    assert plan.status_code == 200
    body = plan.content.decode()
    assert "结算周期" in body and "日结" in body and "周结" in body and "将修改" in body
    assert "分销等级“金牌”" in body and "将新建" in body
    assert not SetupRecord.objects.exists()  # GET never writes


def test_wizard_applies_and_logs_who(boss):
    client = login(boss)
    reply = client.post(reverse("shopsetup_plan", args=["smb"]), {"demo": "0"})
    assert reply.status_code == 302 and reply["Location"] == WIZARD
    cfg = config.current()
    assert cfg.settlement_cycle == "weekly" and cfg.levels == 2
    assert DistributorGrade.objects.count() == 3
    record = SetupRecord.objects.get()
    assert record.applied_by == boss and record.template == "smb"
    page = client.get(WIZARD).content.decode()
    assert "已应用“中小企业”模板：写入 18 项" in page
    assert "结算周期：日结 → 周结" in page and boss.username in page


def test_wizard_conflict_kept_until_confirmed_per_item(boss):
    config.update_settings(boss, level1_bp=1500, settlement_cycle="monthly")
    client = login(boss)
    body = client.get(reverse("shopsetup_plan", args=["starter"])).content.decode()
    assert 'name="confirm" value="distribution.DistributionSettings.level1_bp"' in body
    assert 'value="distribution.DistributionSettings.settlement_cycle"' in body
    client.post(
        reverse("shopsetup_plan", args=["starter"]),
        {"confirm": ["distribution.DistributionSettings.settlement_cycle"]},
    )
    cfg = config.current()
    assert cfg.settlement_cycle == "daily"  # confirmed: overridden
    assert cfg.level1_bp == 1500  # not confirmed: kept
    page = client.get(WIZARD).content.decode()
    assert "保留 15%" in page


def test_wizard_refusal_is_shown_and_writes_nothing(boss):
    config.update_settings(boss, max_commission_bp=2000)
    reply = login(boss).post(reverse("shopsetup_plan", args=["smb"]))
    assert reply.status_code == 400
    assert "超过单商品佣金上限" in reply.content.decode()
    assert not SetupRecord.objects.exists() and not DistributorGrade.objects.exists()


def test_unknown_template_is_404(boss):
    assert login(boss).get(reverse("shopsetup_plan", args=["mall"])).status_code == 404


def test_operations_staff_are_refused(operations):
    client = login(operations)
    assert client.get(WIZARD).status_code == 403
    assert client.get(reverse("shopsetup_plan", args=["starter"])).status_code == 403
    assert client.post(reverse("shopsetup_plan", args=["starter"])).status_code == 403
    assert not SetupRecord.objects.exists()
    home = client.get("/backend/").content.decode()
    assert "快速开店" not in home


def test_home_invites_to_the_wizard_while_fresh(boss):
    client = login(boss)
    home = client.get("/backend/").content.decode()
    assert "打开快速开店向导" in home and WIZARD in home
    client.post(reverse("shopsetup_plan", args=["starter"]))
    assert "打开快速开店向导" not in client.get("/backend/").content.decode()
    assert "快速开店" in client.get("/backend/").content.decode()  # still in the sidebar under 设置


def test_the_plan_speaks_one_language_and_names_the_sidebar_entry(boss):
    """Each row's 结果 is in the page's language (it read 将修改 / will change on the Chinese
    page), and the chain template's POS note points at the sidebar entry that exists."""
    client = login(boss)
    body = client.get(reverse("shopsetup_plan", args=["chain"])).content.decode()
    assert "将修改" in body and "提示" in body
    for english in ("will change", "will create", "kept", "/ note", "forced", "unavailable"):
        assert english not in body
    assert "门店 → 收银系统密钥" in body and "POS 接口密钥" not in body
    body = in_english(login(boss)).get(reverse("shopsetup_plan", args=["chain"])).content.decode()
    assert "Will change" in body and "将修改" not in body
