"""The buyer's order pages, read through the test client (what the server sends)."""

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from fenxiao.orders.models import OrderStatus
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.payments.gateways.base import TradeState
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.services.payments import start_payment
from fenxiao.storefront.views.checkout import RESULT_WAIT_SECONDS
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    user = make_buyer()
    make_address(user)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def place(buyer, **extra):
    sku = make_product("高山乌龙茶", price=12800).skus.get()
    return checkout.place_order(buyer, [(sku.pk, 1)], address_id=buyer.addresses.get().pk, **extra)


def test_confirm_receipt_asks_first_and_still_posts_without_javascript(buyer):
    order = place(buyer)
    pay_in_sandbox(order)
    lifecycle.ship(order, make_staff(), carrier="shunfeng", tracking_number="SF1400000001")
    client = signed_in(buyer)

    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-confirm="confirm-receipt"' in page
    assert '<div class="confirm-mask" id="confirm-receipt" hidden' in page
    assert "请确认已收到全部商品" in page

    done = client.post(f"/orders/{order.number}/confirm/", follow=True)
    assert "已确认收货" in done.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_the_pay_page_of_a_paid_order_says_it_is_paid(buyer):
    order = place(buyer)
    client = signed_in(buyer)
    unpaid = client.get(f"/orders/{order.number}/pay/").content.decode()
    assert "立即支付" in unpaid and "订单已支付" not in unpaid
    # The deadline with its day: past midnight a bare time would read as the wrong day.
    deadline = timezone.localtime(order.pay_deadline)
    assert f"请在 {deadline:%m-%d %H:%M} 前完成支付" in unpaid

    pay_in_sandbox(order)
    page = client.get(f"/orders/{order.number}/pay/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "订单已支付" in text and "¥128.00" in text
    # Nothing to pay any more: no deadline, no 立即支付.
    assert "立即支付" not in text and "前完成支付" not in text
    assert f'href="/orders/{order.number}/"' in text


def test_the_pay_page_of_a_cancelled_order_says_it_is_closed(buyer):
    order = place(buyer)
    lifecycle.cancel(order, buyer, reason="不想要了")
    text = signed_in(buyer).get(f"/orders/{order.number}/pay/").content.decode()
    assert "订单已关闭" in text and "不想要了" in text
    assert "立即支付" not in text and "前完成支付" not in text


def test_the_result_page_stops_polling_and_offers_to_query_again(buyer):
    order = place(buyer)
    client = signed_in(buyer)
    first = client.get(f"/orders/{order.number}/result/").content.decode()
    since = int(re.search(r'result/\?since=(\d+)" hx-trigger="every 1s"', first).group(1))
    assert "正在确认支付结果" in first

    # A poll within the wait keeps polling, with the same start.
    poll = client.get(f"/orders/{order.number}/result/?since={since}", HTTP_HX_REQUEST="true")
    assert f'?since={since}" hx-trigger="every 1s"' in poll.content.decode()

    # Past the wait: no more polling, a clear next step.
    late = client.get(
        f"/orders/{order.number}/result/?since={since - RESULT_WAIT_SECONDS}", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "hx-trigger" not in late
    assert "暂未收到支付结果" in late and "到订单页查看" in late
    assert f'action="/orders/{order.number}/result/"' in late and "重新查询" in late
    assert f'href="/orders/{order.number}/"' in late


def test_query_again_asks_the_gateway_when_its_notification_never_came(buyer):
    order = place(buyer)
    payment = start_payment(order, "sandbox")
    client = signed_in(buyer)
    # Nothing paid yet: the gateway says so, the page says so.
    nothing = client.post(f"/orders/{order.number}/result/", follow=True).content.decode()
    assert "暂未查到支付结果" in nothing
    # The buyer pays; the gateway's notification is lost.
    SandboxGateway().complete_trade(payment.out_trade_no, notify=False)
    cache.clear()  # past the few seconds between two questions about one payment
    done = client.post(f"/orders/{order.number}/result/", follow=True)
    assert done.redirect_chain == [(f"/orders/{order.number}/result/", 302)]
    assert "支付成功" in done.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING_SHIPMENT


def test_query_again_asks_a_payment_at_most_every_few_seconds(buyer, monkeypatch):
    order = place(buyer)
    start_payment(order, "sandbox")
    asked = []
    monkeypatch.setattr(
        SandboxGateway, "query", lambda self, no: asked.append(no) or TradeState(paid=False, closed=False)
    )
    client = signed_in(buyer)
    client.post(f"/orders/{order.number}/result/")
    client.post(f"/orders/{order.number}/result/")
    assert len(asked) == 1


def test_the_order_page_shows_the_buyers_note(buyer):
    order = place(buyer, note="请放门口快递柜，<b>谢谢</b>")
    text = signed_in(buyer).get(f"/orders/{order.number}/").content.decode()
    assert "买家留言" in text
    assert "请放门口快递柜，&lt;b&gt;谢谢&lt;/b&gt;" in text

    plain = place(buyer)
    assert "买家留言" not in signed_in(buyer).get(f"/orders/{plain.number}/").content.decode()


def order_total_label(html: str, number: str | None = None) -> str:
    """The words before an order's amount: in the list, the card of order `number`."""
    if number:
        html = html[html.index(f'href="/orders/{number}/"') :]
    match = re.search(r'data-testid="order-total">(?:<span>)?\s*([^<]+?)\s*<', html)
    return match.group(1)


def test_only_a_paid_order_reads_as_paid(buyer):
    """实付 is what the buyer paid: an order still to pay says 需付款, one closed before
    payment says 合计, in the list and on the order page."""
    unpaid, closed, paid = place(buyer), place(buyer), place(buyer)
    lifecycle.cancel(closed, buyer, reason="不想要了")
    pay_in_sandbox(paid)
    client = signed_in(buyer)
    listing = client.get("/orders/").content.decode()
    expected = {unpaid: "需付款", closed: "合计", paid: "实付"}
    for order, label in expected.items():
        assert order_total_label(listing, order.number) == label
        assert order_total_label(client.get(f"/orders/{order.number}/").content.decode()) == label
