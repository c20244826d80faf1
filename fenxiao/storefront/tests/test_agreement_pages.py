"""分销商协议 on the H5 pages: /d/agreement/ shows the terms in force; the apply page asks for
the tick (the service refuses without it, and the page keeps what was typed); a distributor
who joined without a form sees a prompt on the 分销中心 until they agree, at a fixed cost."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.services import agreement, config, distributors
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.testing import chinese_left, in_english, login, make_buyer

pytestmark = pytest.mark.django_db

TERMS = "一、佣金只来自真实销售。\n\n二、不收取任何费用。"
NEWER = TERMS + "\n\n三、依法缴纳个人所得税。"


def terms(text=TERMS, **changes):
    config.update_settings(None, agreement_text=text, **changes)


def test_the_agreement_page_shows_the_version_in_force_to_anyone():
    assert Client().get("/d/agreement/").status_code == 404
    terms()
    terms(NEWER)
    reply = Client().get("/d/agreement/")
    html = reply.content.decode()
    assert reply.status_code == 200
    assert "第 2 版" in html and "<p>一、佣金只来自真实销售。</p>" in html
    assert "三、依法缴纳个人所得税。" in html
    assert 'data-testid="agree-button"' not in html  # nobody to agree


def test_applying_needs_the_tick_and_keeps_what_was_typed():
    terms(enable_mode="apply", require_real_name=True)
    buyer = make_buyer()
    client = login(buyer)
    page = client.get("/d/").content.decode()
    assert "我已阅读并同意" in page and 'href="/d/agreement/"' in page
    assert 'name="agreed_version" value="1"' in page

    refused = client.post("/d/", {"real_name": "张三", "note": "宝妈一枚", "agreed_version": "1"})
    html = refused.content.decode()
    assert refused.status_code == 400
    assert "请阅读并同意《分销商协议》后再申请" in html
    assert 'value="张三"' in html and "宝妈一枚" in html
    assert distributors.for_user(buyer) is None

    done = client.post("/d/", {"real_name": "张三", "agree": "1", "agreed_version": "1"})
    assert done.status_code == 302
    assert distributors.for_user(buyer).agreement.version == 1


def test_terms_changed_since_the_page_was_shown_are_refused_and_shown_anew():
    terms(enable_mode="apply", require_real_name=False)
    buyer = make_buyer()
    client = login(buyer)
    terms(NEWER)  # published while the applicant read version 1
    refused = client.post("/d/", {"note": "想试试", "agree": "1", "agreed_version": "1"})
    html = refused.content.decode()
    assert refused.status_code == 400 and "分销商协议已更新" in html
    assert 'name="agreed_version" value="2"' in html and "想试试" in html
    ticked = re.search(r'<input type="checkbox" name="agree"[^>]*>', html).group(0)
    assert "checked" not in ticked  # the new version is read before it is agreed
    assert distributors.for_user(buyer) is None


def test_without_the_switch_the_page_only_links_the_terms():
    terms(enable_mode="apply", require_real_name=False, agreement_required=False)
    client = login(make_buyer())
    page = client.get("/d/").content.decode()
    assert 'name="agree"' not in page and "查看《分销商协议》" in page
    assert client.post("/d/", {}).status_code == 302


def test_a_designated_distributor_is_prompted_once_and_agrees():
    terms()
    distributor = make_distributor()
    client = login(distributor.user)
    page = client.get("/d/").content.decode()
    assert "请阅读并同意分销商协议" in page and 'data-testid="agreement-agree"' in page
    assert 'data-testid="available"' in page  # the center itself is open

    reading = client.get("/d/agreement/").content.decode()
    assert 'data-testid="agree-button"' in reading
    agreed = client.post("/d/agreement/", {"version": "1"}, follow=True)
    assert "已同意分销商协议" in agreed.content.decode()
    assert "请阅读并同意分销商协议" not in client.get("/d/").content.decode()
    distributor.refresh_from_db()
    assert distributor.agreement.version == 1 and distributor.agreed_at

    terms(NEWER)  # a new version asks again
    assert "第 2 版" in client.get("/d/").content.decode()
    stale = client.post("/d/agreement/", {"version": "1"})
    assert stale.status_code == 409 and "分销商协议已更新" in stale.content.decode()


def test_a_buyer_cannot_agree_for_an_account_they_do_not_have():
    terms()
    reply = login(make_buyer()).post("/d/agreement/", {"version": "1"})
    assert reply.status_code == 302


def test_the_center_with_the_prompt_costs_the_same_however_many_customers():
    terms()
    distributor = make_distributor()
    client = login(distributor.user)
    client.get("/d/")

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert "请阅读并同意分销商协议" in client.get("/d/").content.decode()
        return len(queries)

    few = cost()
    for _ in range(5):
        bound_buyer(distributor)
    assert cost() == few


def test_the_pages_read_in_english():
    terms(enable_mode="apply", require_real_name=False)
    applicant = in_english(login(make_buyer()))
    page = applicant.get("/d/").content.decode()
    assert "I have read and agree to the" in page and chinese_left(page) == []
    reading = applicant.get("/d/agreement/").content.decode()
    assert "Version 1" in reading and chinese_left(reading, *agreement.current().text.split("\n\n")) == []
    member = in_english(login(make_distributor().user))
    center = member.get("/d/").content.decode()
    assert "Please read and agree to the distributor terms" in center
    assert chinese_left(center) == []
