"""A new merchant's superuser follows the home page's invitation into the wizard, picks
中小企业, reads the plan and applies it, in a real browser. Screenshots: /tmp/setup-*.png."""

import pytest

from fenxiao.distribution.models import DistributorGrade
from fenxiao.distribution.services import config
from fenxiao.testing import make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_fresh_shop_set_up_from_the_wizard(phones):
    boss = make_staff("boss", superuser=True)
    page = phones("setup", desktop=True).page
    page.goto("/backend/login/")
    page.get_by_label("用户名").fill(boss.username)
    page.get_by_label("密码").fill("Staff#2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/backend/")
    page.get_by_role("link", name="打开快速开店向导").click()
    page.wait_for_url("**/backend/setup/")
    page.screenshot(path="/tmp/setup-wizard.png", full_page=True)
    page.locator("[data-template=smb]").get_by_role("link", name="查看配置计划").click()
    page.wait_for_url("**/backend/setup/smb/")
    assert page.locator("[data-status=create]").count() == 16
    page.screenshot(path="/tmp/setup-plan.png", full_page=True)
    page.get_by_role("button", name="确认应用").click()
    page.wait_for_url("**/backend/setup/")
    assert "已应用“中小企业”模板：写入 18 项" in page.locator("body").inner_text()
    page.screenshot(path="/tmp/setup-applied.png", full_page=True)
    assert config.current().settlement_cycle == "weekly"
    assert DistributorGrade.objects.count() == 3
