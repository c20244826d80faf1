"""掉单申诉 on H5 (/d/claims/): an active distributor files a claim with the order number and
the buyer's phone tail and sees their claims, newest first; a refusal shows the service's
reason and keeps what was typed; the page's cost does not grow with the claims."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import ClaimStatus, OrderClaim
from fenxiao.distribution.services import claims
from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor, sku, superuser, suspend
from fenxiao.testing import make_buyer, make_product

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lamp():
    return make_product("台灯", price=10000)


@pytest.fixture
def sold(lamp):
    """An order a buyer bound to distributor `seller` paid for, and distributor `claimant`
    who says the buyer came through them."""
    seller = make_distributor()
    claimant = make_distributor()
    order = buy(bound_buyer(seller), (sku(lamp), 1))
    return order, claimant


def a_wrong_tail(order) -> str:
    phones = (order.buyer.phone, order.recipient_phone)
    return next(t for t in ("0000", "1111", "2222") if not any(p.endswith(t) for p in phones))


def claim_cards(html: str) -> list[str]:
    return html.split('data-testid="claim"')[1:]


def test_the_page_renders_for_an_active_distributor_and_the_center_links_to_it():
    distributor = make_distributor()
    client = signed_in(distributor.user)
    page = client.get("/d/claims/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "填写订单号和买家手机号后四位提交申诉" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert re.search(r'name="phone_tail"[^>]*inputmode="numeric"', html)
    assert re.search(r'<textarea name="reason" maxlength="200"', html)
    assert "暂无申诉记录" in html
    assert 'href="/d/claims/"' in client.get("/d/").content.decode()


def test_someone_who_is_not_a_distributor_is_sent_to_the_center(sold):
    order, _ = sold
    client = signed_in(make_buyer())
    assert client.get("/d/claims/")["Location"] == "/d/"
    reply = client.post(
        "/d/claims/", {"order_number": order.number, "phone_tail": order.buyer.phone[-4:], "reason": "我的"}
    )
    assert reply["Location"] == "/d/"
    assert OrderClaim.objects.count() == 0
    assert Client().get("/d/claims/")["Location"].startswith("/login/")


def test_a_claim_is_filed_and_listed_as_pending(sold):
    order, claimant = sold
    client = signed_in(claimant.user)
    typed = {
        "order_number": order.number,
        "phone_tail": order.buyer.phone[-4:],
        "reason": "客户扫了我的海报下单",
    }
    reply = client.post("/d/claims/", typed)
    assert (reply.status_code, reply["Location"]) == (302, "/d/claims/")
    filed = OrderClaim.objects.get()
    assert (filed.distributor, filed.order, filed.status) == (claimant, order, ClaimStatus.OPEN)
    assert filed.reason == "客户扫了我的海报下单"

    html = client.get("/d/claims/").content.decode()
    assert "申诉已提交" in html
    [card] = claim_cards(html)
    assert order.number in card and "待处理" in card and "客户扫了我的海报下单" in card


def test_a_wrong_phone_tail_is_refused_with_the_reason_and_keeps_what_was_typed(sold):
    order, claimant = sold
    typed = {"order_number": order.number, "phone_tail": a_wrong_tail(order), "reason": "客户点了我发的链接"}
    reply = signed_in(claimant.user).post("/d/claims/", typed)
    assert reply.status_code == 400
    html = reply.content.decode()
    shown = re.search(r'<ul class="messages"[^>]*>\s*<li class="error">([^<]*)</li>', html)
    assert shown and shown.group(1) == "订单号或买家手机号后四位不正确"
    for field in ("order_number", "phone_tail"):
        assert re.search(rf'name="{field}"[^>]*value="{typed[field]}"', html), field
    assert ">客户点了我发的链接</textarea>" in html
    assert OrderClaim.objects.count() == 0


def test_a_decided_claim_shows_its_outcome_and_the_staff_note(sold):
    order, claimant = sold
    filed = claims.file(claimant, order_number=order.number, phone_tail=order.buyer.phone[-4:], reason="海报")
    claims.reject(filed, superuser(), note="客户首次访问来自其他分销商的链接")
    [card] = claim_cards(signed_in(claimant.user).get("/d/claims/").content.decode())
    assert "已驳回" in card and "驳回原因：客户首次访问来自其他分销商的链接" in card


def test_a_suspended_distributor_reads_their_claims_but_files_none(sold, lamp):
    order, claimant = sold
    claims.file(claimant, order_number=order.number, phone_tail=order.buyer.phone[-4:], reason="海报")
    other = buy(bound_buyer(make_distributor()), (sku(lamp), 1))
    suspend(claimant)
    client = signed_in(claimant.user)
    html = client.get("/d/claims/").content.decode()
    assert len(claim_cards(html)) == 1
    assert 'data-testid="claim-form"' not in html and 'data-testid="claims-paused"' in html
    reply = client.post(
        "/d/claims/", {"order_number": other.number, "phone_tail": other.buyer.phone[-4:], "reason": "链接"}
    )
    assert reply["Location"] == "/d/claims/"
    assert OrderClaim.objects.count() == 1


def test_the_page_costs_the_same_queries_for_one_claim_as_for_ten(lamp):
    claimant = make_distributor()
    seller = make_distributor()
    buyer = bound_buyer(seller)
    orders = [buy(buyer, (sku(lamp), 1)) for _ in range(10)]
    tail = buyer.phone[-4:]
    client = signed_in(claimant.user)

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            reply = client.get("/d/claims/")
        assert reply.status_code == 200
        return len(claim_cards(reply.content.decode())), len(captured.captured_queries)

    claims.file(claimant, order_number=orders[0].number, phone_tail=tail, reason="链接")
    shown, one = queries()
    assert shown == 1
    for order in orders[1:]:
        claims.file(claimant, order_number=order.number, phone_tail=tail, reason="链接")
    shown, ten = queries()
    assert shown == 10
    assert ten == one
