"""成为分销商 (/d/ for a buyer who is not a distributor yet): what the page promises about
withdrawals matches what the shop offers."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.services import config
from fenxiao.testing import in_english, make_buyer

pytestmark = pytest.mark.django_db


def apply_page(client: Client) -> str:
    reply = client.get("/d/")
    assert reply.status_code == 200
    return reply.content.decode()


def promise(page: str) -> str:
    """The sentence under 分享好物，赚取佣金, tags and spacing aside."""
    head = re.search(r'<section class="dist-head">(.*?)</section>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]*>", " ", head).split())


def signed_in(language: str = "") -> Client:
    client = Client()
    client.force_login(make_buyer())
    return in_english(client) if language == "en" else client


@pytest.mark.parametrize(
    ("methods", "chinese", "english"),
    [
        (["alipay"], "可提现到支付宝。", "withdraw it to Alipay."),
        (["bank", "wechat"], "可提现到微信或银行卡。", "withdraw it to WeChat or a bank card."),
        (
            [],  # none chosen: every method is offered, as the withdraw page offers them
            "可提现到微信、支付宝、银行卡或商城余额。",
            "withdraw it to WeChat, Alipay, a bank card or your mall balance.",
        ),
    ],
)
def test_the_apply_page_names_only_the_payout_methods_the_shop_offers(methods, chinese, english):
    """It promised 可提现到微信、支付宝或银行卡 whatever the shop had enabled: a shop paying
    only by Alipay promised WeChat and bank cards too."""
    config.update_settings(None, enable_mode="apply", withdraw_methods=methods)

    assert promise(apply_page(signed_in())).endswith("确认收货后你可获得佣金，" + chinese)
    assert promise(apply_page(signed_in("en"))).endswith(english)
