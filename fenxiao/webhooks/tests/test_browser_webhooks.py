"""运营 in a real browser: registers an endpoint (events as checkboxes), copies the secret,
sends a test push to a receiver on 127.0.0.1, and reads the delivery's attempt log."""

import pytest

from fenxiao.webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.browser


def test_register_an_endpoint_test_push_and_read_the_log(operations_desk, receiver, transactional_db):
    operations_desk.name = "webhooks"
    page = operations_desk.page
    page.goto("/backend/")
    page.get_by_role("link", name="Webhooks").first.click()
    page.wait_for_url("**/backend/webhooks/endpoint/")
    page.goto("/backend/webhooks/endpoint/add/")
    page.get_by_label("推送地址").fill(receiver.url)
    page.get_by_label("订单已付款").check()
    page.get_by_label("提现已打款").check()
    operations_desk.shot("endpoint-add")
    page.get_by_role("button", name="保存").first.click()
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["order.paid", "withdrawal.paid"]

    page.goto(f"/backend/webhooks/endpoint/{endpoint.pk}/change/")
    page.get_by_text(endpoint.secret).wait_for()
    page.locator("#webhook-secret-copy").click()
    page.wait_for_function("document.getElementById('webhook-secret-copy').textContent !== '复制'")
    page.get_by_text("X-Fenxiao-Signature").first.wait_for()
    operations_desk.shot("endpoint-change")

    page.goto(f"/backend/webhooks/endpoint/{endpoint.pk}/ping/")
    page.get_by_role("button", name="发送测试推送").click()
    page.get_by_text("测试推送已送达").wait_for()
    assert [r["headers"]["X-Fenxiao-Event"] for r in receiver.requests] == ["ping"]

    row = Delivery.objects.get()
    page.goto("/backend/webhooks/delivery/")
    page.get_by_text("已送达").first.wait_for()
    operations_desk.shot("delivery-list")
    page.goto(f"/backend/webhooks/delivery/{row.pk}/change/")
    page.get_by_text("投递日志").first.wait_for()
    operations_desk.shot("delivery-detail")
