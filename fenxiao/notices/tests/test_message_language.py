"""The message center shows each notice in its reader's language — the H5 pages, the
messages API (by Accept-Language) and the backend: the system's titles and texts come from
the catalogs with their figures filled in, a carrier is named in that language, and what a
person wrote (a rejection's reason, a push) reads as written. The row keeps the Chinese
text, which is also what SMS and WeChat carried."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from fenxiao.notices.models import Kind, Message
from fenxiao.notices.services import events
from fenxiao.notices.services.inbox import Draft, notify_many
from fenxiao.testing import api_for, in_english, login, make_buyer, make_staff

pytestmark = pytest.mark.django_db


def read(message: Message, language: str) -> tuple[str, str]:
    with translation.override(language):
        return message.title_text, message.body_text


def shipped(buyer, parcel_id=0) -> Message:
    events.order_shipped(
        buyer_id=buyer.pk,
        order_id=7,
        number="20261205131310486797",
        carrier="京东物流",
        tracking_number="JDVA925812570277",
        parcel_id=parcel_id,
    )
    return Message.objects.filter(user=buyer).latest("id")


def test_a_shipped_notice_reads_in_english_and_keeps_its_chinese_text():
    message = shipped(make_buyer())
    assert message.body == (
        "您的订单 20261205131310486797 已发货，京东物流 运单号 JDVA925812570277，请留意查收。"
    )
    assert read(message, "en") == (
        "Order shipped",
        "Your order 20261205131310486797 has shipped with JD Logistics, tracking number JDVA925812570277.",
    )
    assert read(message, "zh-hans") == ("订单已发货", message.body)


def test_what_a_person_wrote_reads_as_written():
    distributor = make_buyer()
    events.withdrawal_rejected(
        user_id=distributor.pk, withdrawal_id=3, number="W1", amount=4428, reason="收款账户与实名不符"
    )
    events.distributor_approved(user_id=distributor.pk, distributor_id=5)
    rejected, approved = Message.objects.filter(user=distributor).order_by("id")
    assert read(rejected, "en") == (
        "Withdrawal rejected",
        "Your withdrawal W1 was rejected: 收款账户与实名不符. ¥44.28 is back in your withdrawable balance.",
    )
    assert read(approved, "en")[1].startswith("Congratulations, you are now a distributor!")
    notify_many(
        Kind.PUSH, [Draft(distributor.pk, "老客专享：新品上架", "新品已上架，老客户优先选购。", "push:1:x")]
    )
    push = Message.objects.get(kind=Kind.PUSH)
    assert read(push, "en") == ("老客专享：新品上架", "新品已上架，老客户优先选购。")


def test_a_batch_keeps_each_messages_template_on_either_database():
    """notify_many writes a chunk in one statement on PostgreSQL: the templates go with it."""
    buyers = [make_buyer() for _ in range(3)]
    events.commission_settled(batch_id=9, totals=[(b.pk, 1000 * (i + 1)) for i, b in enumerate(buyers)])
    texts = [read(m, "en")[1] for m in Message.objects.filter(kind=Kind.COMMISSION_SETTLED).order_by("id")]
    assert texts == [f"Commission of ¥{n}0.00 settled to your withdrawable balance." for n in (1, 2, 3)]


def test_the_h5_pages_the_api_and_the_backend_read_in_english():
    buyer = make_buyer()
    message = shipped(buyer)
    english = "has shipped with JD Logistics"
    listing = in_english(login(buyer)).get("/me/messages/").content.decode()
    assert english in listing and "Order shipped" in listing and "已发货" not in listing
    detail = in_english(login(buyer)).get(f"/me/messages/{message.pk}/").content.decode()
    assert english in detail
    api = api_for(buyer)
    reply = api.client.get("/api/v1/messages", HTTP_ACCEPT_LANGUAGE="en", **api._headers()).json()
    assert reply["items"][0]["title"] == "Order shipped" and english in reply["items"][0]["body"]
    assert api.get("/messages").json()["items"][0]["body"] == message.body
    boss = in_english(login(make_staff("boss", superuser=True)))
    page = boss.get(reverse("admin:notices_message_change", args=[message.pk])).content.decode()
    assert english in page


def test_more_messages_cost_no_more_queries_on_the_h5_list():
    buyer = make_buyer()
    shipped(buyer, parcel_id=1)
    client = in_english(login(buyer))
    client.get("/me/messages/")
    with CaptureQueriesContext(connection) as few:
        client.get("/me/messages/")
    for parcel in range(2, 7):
        shipped(buyer, parcel_id=parcel)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/me/messages/").content.decode()
    assert body.count("has shipped with JD Logistics") == 6
    assert len(many) == len(few)
