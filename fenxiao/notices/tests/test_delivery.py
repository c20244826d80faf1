"""The outbox: a failed send is tried again by the sweeper, a sent row is never sent again,
a claimed row is not sent by a second worker, and staff can send a failed row again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.notices.channels import SendFailed
from fenxiao.notices.channels.sandbox import SandboxSms, SandboxWechat
from fenxiao.notices.models import Delivery, Message
from fenxiao.notices.services import delivery, inbox
from fenxiao.testing import make_buyer, make_staff

pytestmark = pytest.mark.django_db


class Flaky:
    """Every sandbox send, counted; the first `failures` are refused like an outage."""

    def __init__(self, monkeypatch, failures: int = 0):
        self.sent: list[tuple[str, str]] = []
        self.failures = failures
        for adapter in (SandboxSms, SandboxWechat):
            monkeypatch.setattr(adapter, "send", self._send(adapter))

    def _send(self, adapter):
        def send(_self, *, address, notice, reference):
            if self.failures:
                self.failures -= 1
                raise SendFailed("通道繁忙")
            self.sent.append((adapter.__name__, reference))

        return send


def shipped_notice(buyer):
    inbox.notify(
        buyer, "order_shipped", "订单已发货", "您的订单已发货。", "/orders/X1/", source_key=f"t:{buyer.pk}"
    )
    return Message.objects.get(user=buyer)


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_notice_goes_out_once_on_each_channel_and_a_sent_row_is_never_sent_again(monkeypatch):
    sandbox = Flaky(monkeypatch)
    buyer = make_buyer("13912345678")
    message = shipped_notice(buyer)
    rows = {row.channel: row for row in Delivery.objects.filter(message=message)}
    assert {c: r.status for c, r in rows.items()} == {"sms": "sent", "wechat": "sent"}
    assert rows["sms"].recipient == "13912345678"
    assert rows["sms"].content == "【分销商城】订单已发货：您的订单已发货。"
    assert len(sandbox.sent) == 2
    # Calling again, the sweeper long after, the same fact notified again: nothing more.
    for row in rows.values():
        delivery.deliver(row.pk)
    assert delivery.sweep(later(60)) == 0
    inbox.notify(buyer, "order_shipped", "订单已发货", "again", source_key=f"t:{buyer.pk}")
    assert Message.objects.filter(user=buyer).count() == 1
    assert len(sandbox.sent) == 2


def test_a_failed_send_is_retried_by_the_sweeper_until_it_goes_through(monkeypatch):
    sandbox = Flaky(monkeypatch, failures=2)
    buyer = make_buyer()
    message = shipped_notice(buyer)
    # Both channels failed on the first try: back to pending, with a backoff and the error.
    rows = Delivery.objects.filter(message=message)
    assert set(rows.values_list("status", "attempts", "last_error")) == {("pending", 1, "通道繁忙")}
    assert delivery.sweep(timezone.now()) == 0  # not due yet
    assert delivery.sweep(later(5)) == 2
    assert set(rows.values_list("status", "attempts")) == {("sent", 2)}
    assert len(sandbox.sent) == 2


def test_a_row_held_by_a_worker_is_not_sent_by_another_until_its_claim_expires(monkeypatch):
    sandbox = Flaky(monkeypatch)
    monkeypatch.setattr(inbox, "schedule", lambda ids: None)  # the task was lost
    buyer = make_buyer()
    message = shipped_notice(buyer)
    row = Delivery.objects.get(message=message, channel="sms")
    # A worker claims it, then dies before answering.
    assert delivery._claim(row.pk, timezone.now()) is not None
    delivery.deliver(row.pk)  # a second worker: the row is held, nothing sent
    assert sandbox.sent == []
    # The sweeper hands back only what is due: the wechat row (never handed over) after its
    # grace, the held row after its claim ran out.
    assert delivery.sweep(later(1)) == 0
    assert delivery.sweep(later(3)) == 2
    assert Delivery.objects.get(pk=row.pk).status == "sent"
    assert sorted(r for r, _ in sandbox.sent) == ["SandboxSms", "SandboxWechat"]
    assert delivery.sweep(later(30)) == 0


def test_attempts_run_out_then_staff_send_it_again_from_the_backend(monkeypatch, client):
    sandbox = Flaky(monkeypatch, failures=delivery.MAX_ATTEMPTS * 2)
    buyer = make_buyer()
    message = shipped_notice(buyer)
    for minutes in range(1, delivery.MAX_ATTEMPTS + 2):
        delivery.sweep(later(minutes * 120))
    rows = Delivery.objects.filter(message=message)
    assert set(rows.values_list("status", "attempts")) == {("failed", delivery.MAX_ATTEMPTS)}
    assert sandbox.sent == []

    sandbox.failures = 0
    staff = make_staff(perms=["notices.view_delivery", "notices.change_delivery"])
    client.force_login(staff)
    sms = rows.get(channel="sms")
    page = client.get("/backend/notices/delivery/")
    assert page.status_code == 200
    assert "沙箱" in page.content.decode()
    reply = client.post(
        "/backend/notices/delivery/", {"action": "retry_selected", "_selected_action": [sms.pk]}, follow=True
    )
    assert "已重新发送 1 条通知" in reply.content.decode()
    assert rows.get(channel="sms").status == "sent"
    assert rows.get(channel="wechat").status == "failed"  # not selected
    # A sent row is final: asking again is refused.
    again = client.post(
        "/backend/notices/delivery/", {"action": "retry_selected", "_selected_action": [sms.pk]}, follow=True
    )
    assert "该通知已发送或正在发送，无需重试" in again.content.decode()
    assert len(sandbox.sent) == 1


def test_the_backend_masks_phone_numbers(monkeypatch, client):
    Flaky(monkeypatch)
    buyer = make_buyer("13912345678")
    shipped_notice(buyer)
    client.force_login(make_staff(superuser=True))
    for url in ("/backend/notices/delivery/", "/backend/notices/message/"):
        page = client.get(url).content.decode()
        assert "139****5678" in page
        assert "13912345678" not in page


def test_a_channel_without_an_adapter_is_not_queued(settings, monkeypatch):
    Flaky(monkeypatch)
    settings.NOTICE_CHANNEL_ADAPTERS = {"sms": "", "wechat": "sandbox"}
    buyer = make_buyer()
    message = shipped_notice(buyer)
    assert list(Delivery.objects.filter(message=message).values_list("channel", flat=True)) == ["wechat"]


def test_the_minute_sweeper_is_a_periodic_task_that_re_drives_the_outbox(monkeypatch):
    from fenxiao.notices.tasks import sweep_notice_outbox

    sandbox = Flaky(monkeypatch, failures=2)
    message = shipped_notice(make_buyer())
    sweep_notice_outbox.call_local()  # nothing is due yet
    assert sandbox.sent == []
    with monkeypatch.context() as patched:
        moment = later(10)
        patched.setattr(timezone, "now", lambda: moment)
        sweep_notice_outbox.call_local()
    assert set(Delivery.objects.filter(message=message).values_list("status", flat=True)) == {"sent"}


def test_outside_demo_mode_the_sandbox_sends_nothing_and_only_the_in_site_message_is_written(settings):
    settings.DEMO_MODE = False
    settings.DEBUG = False
    buyer = make_buyer()
    message = shipped_notice(buyer)
    assert message.title == "订单已发货"
    assert not Delivery.objects.exists()


def test_many_notices_some_written_before_each_get_their_outbox_rows_once(monkeypatch):
    Flaky(monkeypatch)
    buyers = [make_buyer(f"1390000000{i}") for i in range(3)]
    drafts = [
        inbox.Draft(buyer.pk, "订单已发货", f"内容{i}", f"many:{buyer.pk}", "/orders/", "order", i)
        for i, buyer in enumerate(buyers)
    ]
    inbox.notify_many("order_shipped", drafts[:1])
    # An outbox row lost since: the repeated call queues it again, and only it.
    Delivery.objects.filter(message__source_key=drafts[0].source_key, channel="sms").delete()
    offsite = inbox.Draft(buyers[2].pk, "标题", "内容", "many:offsite", "https://example.com/x")
    assert inbox.notify_many("order_shipped", [*drafts, offsite]) == 4
    messages = Message.objects.filter(source_key__startswith="many:").order_by("pk")
    assert [(m.user_id, m.kind, m.body, m.link, m.subject_type, m.subject_id) for m in messages] == [
        (buyers[0].pk, "order_shipped", "内容0", "/orders/", "order", 0),
        (buyers[1].pk, "order_shipped", "内容1", "/orders/", "order", 1),
        (buyers[2].pk, "order_shipped", "内容2", "/orders/", "order", 2),
        (buyers[2].pk, "order_shipped", "内容", "", "", None),  # only links into the mall
    ]
    assert all(m.created_at and m.read_at is None for m in messages)
    rows = Delivery.objects.filter(message__in=messages)
    assert sorted(rows.values_list("message__source_key", "channel")) == sorted(
        (m.source_key, channel) for m in messages for channel in ("sms", "wechat")
    )
    assert all(row.created_at and row.attempts <= 1 for row in rows)


def test_the_outbox_names_whom_each_row_is_for_even_before_a_send_got_through(
    monkeypatch, client, django_assert_max_num_queries
):
    """A failed row has no 接收方 (the address is written by a send that worked): the list
    still says which buyer it was for, phone masked, in the same queries for any number of
    rows; and it filters by the message's kind."""
    Flaky(monkeypatch, failures=100)
    buyers = [make_buyer(f"1391234567{i}") for i in range(3)]
    for buyer in buyers:
        buyer.nickname = f"买家{buyer.pk}"
        buyer.save(update_fields=["nickname"])
        shipped_notice(buyer)
    inbox.notify(buyers[0], "refund_done", "退款到账", "已退回。", source_key="t:refund")
    assert not Delivery.objects.exclude(recipient="").exists()
    client.force_login(make_staff(superuser=True))
    client.get("/backend/notices/delivery/")
    with django_assert_max_num_queries(8):
        page = client.get("/backend/notices/delivery/").content.decode()
    for buyer in buyers:
        assert f"买家{buyer.pk}（139****567{buyer.phone[-1]}）" in page
    assert buyers[0].phone not in page
    refunds = client.get("/backend/notices/delivery/", {"message__kind__exact": "refund_done"})
    assert {row.message.kind for row in refunds.context["cl"].result_list} == {"refund_done"}
    detail = client.get(f"/backend/notices/delivery/{Delivery.objects.first().pk}/change/").content.decode()
    assert "接收人" in detail


def test_a_message_names_what_it_is_about_and_opens_it(client):
    """关联对象 reads 售后单 #7 and opens that after-sale's page for staff who may see it; it
    printed the stored key and id (after_sale, 7) as two bare fields."""
    buyer = make_buyer()
    inbox.notify(
        buyer,
        "refund_done",
        "退款成功",
        "已退回。",
        source_key="t:as",
        subject_type="after_sale",
        subject_id=7,
    )
    inbox.notify(
        buyer, "push", "上新", "看看。", source_key="t:odd", subject_type="coupon_batch", subject_id=3
    )
    refund, odd = Message.objects.get(source_key="t:as"), Message.objects.get(source_key="t:odd")
    client.force_login(make_staff("boss", superuser=True))
    page = client.get(f"/backend/notices/message/{refund.pk}/change/").content.decode()
    assert '<a class="text-primary-600" href="/backend/orders/aftersale/7/change/">售后单 #7</a>' in page
    assert "after_sale" not in page
    assert "其他 #3" in client.get(f"/backend/notices/message/{odd.pk}/change/").content.decode()
    client.force_login(make_staff("reader", perms=["notices.view_message"]))
    page = client.get(f"/backend/notices/message/{refund.pk}/change/").content.decode()
    assert "售后单 #7" in page and "/backend/orders/aftersale/7/change/" not in page
