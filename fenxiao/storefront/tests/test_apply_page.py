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


def typed_name(page: str) -> str:
    return re.search(r'<input name="real_name"[^>]* value="([^"]*)"', page).group(1)


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


@pytest.mark.parametrize(
    ("real_name", "refusal"),
    [
        ("   ", "请填写真实姓名"),  # spaces pass the browser's required check, not the shop's
        ("张三123", "真实姓名须为 2-40 个汉字或英文字母"),
    ],
)
def test_a_refused_application_keeps_what_the_applicant_typed(real_name, refusal):
    """The form came back empty after a refusal: the applicant typed their note again."""
    config.update_settings(None, enable_mode="apply", review_mode="manual", require_real_name=True)
    client = signed_in()
    note = '我有 3 个微信群，常分享"好物" <推荐>'

    reply = client.post("/d/", {"real_name": real_name, "note": note})

    assert reply.status_code == 400
    page = reply.content.decode()
    assert refusal in page
    assert typed_name(page) == real_name
    assert "我有 3 个微信群，常分享&quot;好物&quot; &lt;推荐&gt;</textarea>" in page
    # A fresh visit starts empty.
    again = apply_page(client)
    assert typed_name(again) == "" and 'maxlength="200"></textarea>' in again


def test_an_accepted_application_leads_to_the_waiting_page():
    config.update_settings(None, enable_mode="apply", review_mode="manual", require_real_name=True)
    client = signed_in()

    reply = client.post("/d/", {"real_name": "张三", "note": "想试试"})

    assert reply.status_code == 302 and reply["Location"] == "/d/"
    assert "等待商家审核" in apply_page(client)
