"""佣金提现's form asks for what the shop's payout methods need: 收款账号 names only the
accounts they take (it read 微信号/支付宝账号/银行卡号 whatever was on), a field no method
asks for is left out, and each field says which methods it is for (the page shows it only
while one of them is chosen)."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.tests.helpers import configure, earn, make_distributor

pytestmark = pytest.mark.django_db


@pytest.fixture
def distributor():
    distributor = make_distributor()
    earn(distributor, 100000)
    return distributor


def fields(distributor) -> dict[str, tuple[str, str]]:
    """{input name: (its label, the methods it is for)} on the withdraw form."""
    client = Client()
    client.force_login(distributor.user)
    html = client.get("/d/withdraw/").content.decode()
    form = html[html.index("data-payout-form") : html.index("</form>")]
    found = re.findall(
        r'<label class="field" data-methods="([^"]*)"><span[^>]*>([^<]*)</span><input name="(\w+)"', form
    )
    return {name: (label, methods) for methods, label, name in found}


def test_a_shop_paying_by_alipay_asks_for_an_alipay_account(distributor):
    configure(withdraw_methods=["alipay"])
    assert fields(distributor) == {
        "name": ("收款人姓名", "alipay"),
        "account": ("收款账号（支付宝账号）", "alipay"),
    }


def test_each_field_is_for_the_methods_that_ask_for_it(distributor):
    configure(withdraw_methods=["bank", "alipay", "store_credit"])
    assert fields(distributor) == {
        "name": ("收款人姓名", "bank alipay"),
        "account": ("收款账号（支付宝账号/银行卡号）", "bank alipay"),
        "bank": ("开户银行（银行卡提现时填写）", "bank"),
    }


def test_the_mall_balance_alone_asks_for_nothing(distributor):
    configure(withdraw_methods=["store_credit"])
    assert fields(distributor) == {}


def test_every_method_on_names_every_account(distributor):
    assert fields(distributor)["account"] == ("收款账号（微信号/支付宝账号/银行卡号）", "bank wechat alipay")
