"""Sign-up with an SMS code on a 375 px phone, the sandbox message shown on the page."""

import re

import pytest

from fenxiao.customers.models import User
from fenxiao.testing import make_buyer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_with_the_sms_code_by_tapping(phones):
    make_buyer("13600000021")
    phone = phones("register-sms")
    page = phone.page

    # A registered number: the same "sent" answer; only the SMS (shown in demo) tells.
    page.goto("/register/")
    page.get_by_label("手机号").fill("13600000021")
    page.get_by_role("button", name="获取验证码").click()
    page.get_by_test_id("sandbox-sms").wait_for()
    assert "验证码已发送" in page.locator("#sms-notice").inner_text()
    assert "已注册" in page.get_by_test_id("sandbox-sms").inner_text()

    # A new number: a code, a countdown on the button, a wrong code keeps what was typed.
    page.goto("/register/")
    page.get_by_label("手机号").fill("13600000022")
    page.get_by_label("昵称（选填）").fill("小李")
    page.get_by_role("button", name="获取验证码").click()
    sms = page.get_by_test_id("sandbox-sms")
    sms.wait_for()
    assert "演示短信（沙箱，未真实发送）" in sms.inner_text()
    code = re.search(r"\d{6}", sms.inner_text()).group()
    button = page.locator("[data-sms-send]")
    assert button.is_disabled() and "秒后重发" in button.inner_text()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    phone.shot("code-sent")

    wrong = "000000" if code != "000000" else "111111"
    page.get_by_label("验证码", exact=True).fill(wrong)
    page.get_by_label("密码", exact=True).fill("Secret#2026")
    page.get_by_label("确认密码").fill("Secret#2026")
    page.get_by_role("button", name="注册").click()
    page.get_by_text("验证码错误或已过期").wait_for()
    assert page.get_by_label("手机号").input_value() == "13600000022"
    assert page.get_by_label("昵称（选填）").input_value() == "小李"
    assert not User.objects.filter(phone="13600000022").exists()

    page.get_by_label("验证码", exact=True).fill(code)
    page.get_by_label("密码", exact=True).fill("Secret#2026")
    page.get_by_label("确认密码").fill("Secret#2026")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url("**/me/")
    assert User.objects.get(phone="13600000022").nickname == "小李"
    assert phone.errors == []
