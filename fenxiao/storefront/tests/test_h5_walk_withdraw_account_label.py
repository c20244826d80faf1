"""佣金提现: once a method is chosen, 收款账号 names its account alone (收款账号（银行卡号）), and a
card number gets the digit keypad. It read 收款账号（微信号/支付宝账号/银行卡号） whichever was
chosen, with the letter keyboard for a card number. The page as sent (no script) still names
every account the shop's methods take."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.tests.helpers import configure, earn, make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_account_label_follows_the_chosen_method(phones, live_server):
    configure(withdraw_methods=["bank", "alipay", "store_credit"])
    distributor = make_distributor()
    earn(distributor, 100000)
    client = Client()
    client.force_login(distributor.user)
    html = client.get("/d/withdraw/").content.decode()
    assert re.search(r"<span data-account-labels=[^>]*>收款账号（支付宝账号/银行卡号）</span>", html)

    for language, bank, alipay in [
        (None, "收款账号（银行卡号）", "收款账号（支付宝账号）"),
        ("en", "Account (bank card number)", "Account (Alipay account)"),
    ]:
        page = signed_in_phone(phones, live_server, distributor.user, "withdraw-label", language).page
        assert page.goto("/d/withdraw/").status == 200
        label = page.locator("[data-account-labels]")
        account = page.locator("input[name=account]")
        page.select_option("select[name=method]", "bank")
        assert (label.inner_text(), account.get_attribute("inputmode")) == (bank, "numeric")
        page.select_option("select[name=method]", "alipay")
        assert (label.inner_text(), account.get_attribute("inputmode")) == (alipay, "text")
