"""商家备注: staff write a note of their own on an order (加急, 送小样) from its backend page or
the staff API. It shows under the order number in the list, on the order page, on the
packing slip and in the export, and the list's search finds it; the buyer never sees it,
neither the note nor the log line its change leaves."""

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.orders.models import OrderEvent
from fenxiao.orders.services import lifecycle, merchant_notes
from fenxiao.orders.services.exports import ORDER_HEADERS, order_rows
from fenxiao.testing import api_for, login, make_staff

from .backend import make_order, pay, texts, url

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


def test_staff_write_change_and_clear_the_note_from_the_order_page(boss):
    order = pay(make_order())
    page = boss.get(url(order, "note"))
    assert page.status_code == 200 and "商家备注" in page.content.decode()
    assert url(order, "note") in boss.get(url(order)).content.decode()  # the 备注 button

    reply = boss.post(url(order, "note"), {"note": "  加急发货，\n送小样一份 "})
    assert reply.status_code == 302 and reply["Location"] == url(order)
    order.refresh_from_db()
    assert order.merchant_note == "加急发货， 送小样一份"
    assert any("商家备注已保存" in text for text in texts(reply))
    assert "加急发货， 送小样一份" in boss.get(url(order)).content.decode()

    boss.post(url(order, "note"), {"note": "加急发货， 送小样一份"})  # unchanged: nothing logged
    boss.post(url(order, "note"), {"note": ""})
    order.refresh_from_db()
    assert order.merchant_note == ""
    log = list(OrderEvent.objects.filter(order=order, kind="merchant_note").values_list("message", flat=True))
    assert log == ["商家备注：加急发货， 送小样一份", "商家清空了备注"]


def test_a_note_too_long_is_refused_and_the_order_is_left_as_it_was(boss):
    order = make_order()
    reply = boss.post(url(order, "note"), {"note": "长" * 201})
    assert reply.status_code == 200  # the form again, with its error
    order.refresh_from_db()
    assert order.merchant_note == ""
    with pytest.raises(merchant_notes.MerchantNoteInvalid):
        merchant_notes.set_merchant_note(order, make_staff(), "长" * 201)
    assert not OrderEvent.objects.filter(order=order, kind="merchant_note").exists()


def test_any_state_takes_a_note_and_staff_without_the_right_cannot(boss):
    order = make_order()
    lifecycle.cancel(order, make_staff(), reason="买家不要了")
    assert boss.post(url(order, "note"), {"note": "客户电话确认取消"}).status_code == 302
    order.refresh_from_db()
    assert order.merchant_note == "客户电话确认取消"

    reader = login(make_staff("reader", perms=["orders.view_order"]))
    assert reader.post(url(order, "note"), {"note": "改一下"}).status_code in (302, 403)
    order.refresh_from_db()
    assert order.merchant_note == "客户电话确认取消"


def test_the_list_shows_and_searches_the_note_and_slip_and_export_carry_it(boss):
    noted, other = pay(make_order()), pay(make_order())
    merchant_notes.set_merchant_note(noted, make_staff(), "周五前必须送达")
    body = boss.get(LIST).content.decode()
    assert "备注：周五前必须送达" in body
    found = boss.get(LIST, {"q": "周五前"}).content.decode()
    assert noted.number in found and other.number not in found

    slip = boss.get(reverse("admin:orders_order_packing_list"), {"ids": f"{noted.pk},{other.pk}"})
    assert slip.content.decode().count("商家备注：周五前必须送达") == 1

    rows = list(order_rows(type(noted).objects.filter(pk=noted.pk), make_staff(superuser=True)))
    assert rows[0][ORDER_HEADERS.index("商家备注")] == "周五前必须送达"


def test_the_buyer_never_sees_the_note_or_its_log_line():
    order = pay(make_order())
    merchant_notes.set_merchant_note(order, make_staff(), "难缠客户，发货前电话确认")
    api = api_for(order.buyer).get(f"/orders/{order.number}")
    assert api.status_code == 200
    assert "难缠客户" not in api.content.decode() and "merchant_note" not in api.json()
    assert [e["kind"] for e in api.json()["events"]] == ["created", "paid"]

    h5 = Client()
    h5.force_login(order.buyer)
    page = h5.get(f"/orders/{order.number}/").content.decode()
    assert "难缠客户" not in page and "商家备注" not in page


def test_the_staff_api_reads_and_writes_the_note():
    order = pay(make_order())
    staff = api_for(make_staff(perms=["orders.change_order", "orders.view_order"]))
    reply = staff.post(f"/staff/orders/{order.number}/merchant-note", {"note": "ERP：拆两箱发"})
    assert reply.status_code == 200, reply.content
    assert reply.json()["merchant_note"] == "ERP：拆两箱发"
    detail = staff.get(f"/staff/orders/{order.number}").json()
    assert detail["merchant_note"] == "ERP：拆两箱发"
    assert detail["events"][-1]["kind"] == "merchant_note"  # staff see the log line

    refused = staff.post(f"/staff/orders/{order.number}/merchant-note", {"note": "长" * 201})
    assert refused.status_code in (400, 422)
    reader = api_for(make_staff(perms=["orders.view_order"]))
    assert reader.post(f"/staff/orders/{order.number}/merchant-note", {"note": "x"}).status_code == 403
    assert staff.post("/staff/orders/NOPE/merchant-note", {"note": "x"}).status_code == 404


def bulk(client, orders, **data):
    post = {"action": "note_selected", "_selected_action": [o.pk for o in orders], **data}
    return client.post(LIST, post, follow=True)


def test_bulk_note_asks_first_then_notes_every_selected_order_at_once(boss, django_assert_max_num_queries):
    orders = [make_order() for _ in range(3)]
    merchant_notes.set_merchant_note(orders[0], make_staff(), "旧备注")
    untouched = make_order()

    page = bulk(boss, orders)  # the action's page: nothing changed yet
    body = page.content.decode()
    assert "批量备注（已选 3 个订单）" in body and "其中 1 个订单已有商家备注" in body
    assert not type(untouched).objects.filter(merchant_note="双11加急").exists()

    reply = bulk(boss, orders, _apply="1", note=" 双11加急 ")
    assert any("已为 3 个订单保存商家备注" in text for text in texts(reply))
    notes = dict(type(untouched).objects.values_list("pk", "merchant_note"))
    assert [notes[o.pk] for o in orders] == ["双11加急"] * 3 and notes[untouched.pk] == ""
    assert OrderEvent.objects.filter(kind="merchant_note", buyer_visible=False).count() == 4

    # Again with the same note: nothing to change, said so; no new log lines.
    reply = bulk(boss, orders, _apply="1", note="双11加急")
    assert any("3 个订单原本就是这条备注" in text for text in texts(reply))
    assert OrderEvent.objects.filter(kind="merchant_note").count() == 4

    # Set-based: the statements do not grow with the orders selected.
    few = [make_order() for _ in range(2)]
    many = [make_order() for _ in range(12)]
    with django_assert_max_num_queries(40) as small:
        merchant_notes.set_merchant_note_many([o.pk for o in few], make_staff(), "批量")
    budget = len(small.captured_queries)
    with django_assert_max_num_queries(budget):
        assert merchant_notes.set_merchant_note_many([o.pk for o in many], make_staff(), "批量") == 12


def test_bulk_note_refuses_a_note_too_long_and_staff_without_the_right(boss, monkeypatch):
    orders = [make_order() for _ in range(2)]
    page = bulk(boss, orders, _apply="1", note="长" * 201)
    assert page.status_code == 200 and "批量备注（已选 2 个订单）" in page.content.decode()
    with pytest.raises(merchant_notes.MerchantNoteInvalid):
        merchant_notes.set_merchant_note_many([o.pk for o in orders], make_staff(), "长" * 201)
    with pytest.raises(merchant_notes.MerchantNoteInvalid):
        merchant_notes.set_merchant_note_many(range(1, merchant_notes.MAX_BATCH + 2), make_staff(), "x")
    assert not type(orders[0]).objects.exclude(merchant_note="").exists()

    # More than a batch selected (all across the pages): refused on the list, before typing.
    monkeypatch.setattr(merchant_notes, "MAX_BATCH", 1)
    reply = bulk(boss, orders)
    assert any("一次最多备注 1 个订单" in text for text in texts(reply))
    assert "批量备注（已选" not in reply.content.decode()

    reader = login(make_staff("reader", perms=["orders.view_order"]))
    assert "note_selected" not in reader.get(LIST).content.decode()
    bulk(reader, orders, _apply="1", note="改一下")
    assert not type(orders[0]).objects.exclude(merchant_note="").exists()
