"""定向推送 in the backend as 运营 uses it: write a push (the recipient count shows when a
segment is picked), start it, watch its progress, read its report, cancel one; refusals
come back as Chinese messages on the page, never a 500; 财务 may not send."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.customers.tests.crm import finance, operations
from fenxiao.notices.models import Message
from fenxiao.promotions.models import Push, PushStatus
from fenxiao.promotions.services import push as service
from fenxiao.testing import make_product

from .factories import make_coupon
from .push_helpers import make_push, make_segment

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:promotions_push_{name}", args=args)


def texts(reply):
    return [str(m) for m in get_messages(reply.wsgi_request)]


def form(segment, **fields):
    data = {"title": "双十二预告", "body": "新品抢先看", "segment": segment.pk, "carries": "product"}
    data.update(fields)
    return data


def test_operations_writes_starts_and_watches_a_push():
    client = operations()
    segment, members = make_segment(4, outsiders=2)
    product = make_product(name="羊毛围巾")

    blank = client.get(url("add")).content.decode()
    assert "预计接收人数" in blank and "选择客户分群后显示" in blank
    assert f'hx-get="{url("preview")}"' in blank  # picking a segment asks for its count
    preview = client.get(url("preview"), {"segment": segment.pk})
    assert preview.content.decode() == "当前 4 位客户"
    assert client.get(url("preview"), {"segment": "x"}).content.decode() == "选择客户分群后显示"

    reply = client.post(url("add"), form(segment, product=product.pk))
    assert reply.status_code == 302, reply.content.decode()[:2000]
    push = Push.objects.get()
    assert (push.status, push.product_id) == (PushStatus.DRAFT, product.pk)
    draft = client.get(url("change", push.pk)).content.decode()
    assert "当前 4 位客户" in draft and "开始发送" in draft

    confirm = client.get(url("start_push", push.pk)).content.decode()
    assert "4 位客户" in confirm
    # The test's Huey runs the job at once, after the start commits.
    reply = client.post(url("start_push", push.pk))
    assert reply.status_code == 302
    assert texts(reply) == ["推送“双十二预告”开始发送，共 4 位客户"]
    push.refresh_from_db()
    assert (push.status, push.processed, push.total) == (PushStatus.DONE, 4, 4)
    assert Message.objects.filter(subject_id=push.pk, subject_type="push").count() == 4

    page = client.get(url("change", push.pk)).content.decode()
    assert "已处理 4 / 4 人（100%）" in page and "已完成" in page
    assert "7 天内付款订单" in page
    assert 'hx-trigger="every 2s"' not in page  # done: no more polling
    listing = client.get(url("changelist")).content.decode()
    assert "双十二预告" in listing and "4 / 4" in listing


def test_a_sending_push_polls_its_progress(monkeypatch):
    client = operations()
    monkeypatch.setattr(service, "CHUNK", 2)
    monkeypatch.setattr(service, "_enqueue", lambda push_id: None)
    segment, _ = make_segment(5)
    push = make_push(segment)
    service.start(push, None)
    service.deliver(push.pk, max_chunks=1)

    page = client.get(url("change", push.pk)).content.decode()
    assert 'hx-trigger="every 2s"' in page and "已处理 2 / 5 人（40%）" in page
    service.deliver(push.pk, max_chunks=1)
    fragment = client.get(url("progress", push.pk)).content.decode()
    assert "已处理 4 / 5 人（80%）" in fragment and "every 2s" in fragment
    assert client.get(url("progress", "nope")).status_code == 404

    reply = client.post(url("cancel_push", push.pk))
    assert reply.status_code == 302 and texts(reply) == ["推送“新品上架”已取消"]
    fragment = client.get(url("progress", push.pk), headers={"HX-Request": "true"})
    # The poll that sees the end reloads the page, so the report and actions catch up.
    assert fragment["HX-Refresh"] == "true"
    text = fragment.content.decode()
    assert "已取消" in text and "every 2s" not in text and "人工取消" in text
    page = client.get(url("change", push.pk)).content.decode()
    assert "保存并继续编辑" not in page and "取消推送" not in page


def test_refusals_are_shown_in_chinese_never_a_500():
    client = operations()
    segment, _ = make_segment(2)
    unlisted = make_product(listed=False)
    reply = client.post(url("add"), form(segment, product=unlisted.pk))
    assert reply.status_code == 200 and "该商品未上架，不能推送" in reply.content.decode()
    assert Push.objects.count() == 0

    ended = make_coupon(amount=500, min_spend=1000, is_active=False)
    reply = client.post(url("add"), form(segment, carries="coupon", coupon=ended.pk))
    assert reply.status_code == 200 and "该优惠券已停用、已过期或已发完，不能推送" in reply.content.decode()

    reply = client.post(url("add"), form(segment, carries="coupon"))
    assert reply.status_code == 200 and "推送优惠券时请选择优惠券" in reply.content.decode()

    empty, _ = make_segment(0)
    push = make_push(empty)
    reply = client.post(url("start_push", push.pk))
    assert reply.status_code == 302 and texts(reply) == ["该客户分群当前没有客户，无法发送"]
    assert Push.objects.get(pk=push.pk).status == PushStatus.DRAFT

    assert client.get(url("start_push", 999999)).status_code == 404
    done = make_push(segment)
    Push.objects.filter(pk=done.pk).update(status=PushStatus.DONE)
    reply = client.post(url("cancel_push", done.pk))
    assert reply.status_code in (302, 403, 404)
    assert Push.objects.get(pk=done.pk).status == PushStatus.DONE


def test_finance_may_read_nothing_of_pushes():
    client = finance()
    segment, _ = make_segment(1)
    push = make_push(segment)
    assert client.get(url("changelist")).status_code == 403
    assert client.post(url("start_push", push.pk)).status_code in (302, 403)
    assert Push.objects.get(pk=push.pk).status == PushStatus.DRAFT


def test_the_push_page_costs_the_same_for_many_recipients():
    client = operations()
    counts = []
    for size in (3, 30):
        segment, _ = make_segment(size)
        push = make_push(segment)
        service.start(push, None)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("change", push.pk)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
