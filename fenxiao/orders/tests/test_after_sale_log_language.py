"""An after-sale's history (协商记录) reads in its reader's language, as the order log does:
each line keeps its template and arguments next to the Chinese sentence it stores, and is
rendered when shown — on the backend's after-sale page, the buyer's H5 after-sale page and
the after-sale API. What a person typed (a message, a refusal's reason) reads as typed;
rows written before templates show their stored sentence."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from fenxiao.orders.models import AfterSale, AfterSaleLog, OrderEvent, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.services.after_sale_sweep import sweep_deadlines
from fenxiao.testing import api_for, in_english, login, make_staff

from .backend import make_order, pay, set_return_address, url

pytestmark = pytest.mark.django_db

ADDRESS = "浙江省杭州市余杭区仓前街道 1 号退货仓"


def history(after_sale, language: str) -> dict[str, str]:
    """The after-sale's lines by kind (the last of each) in `language`."""
    with translation.override(language):
        return {log.kind: log.text for log in AfterSaleLog.objects.filter(after_sale=after_sale)}


@pytest.fixture
def staff():
    return make_staff("boss", superuser=True)


def shipped(staff, **kwargs):
    order = pay(make_order(**kwargs))
    lifecycle.ship(order, staff, carrier="yuantong", tracking_number="YT1234567890")
    return order


@pytest.fixture
def returned(staff):
    """A return walked through: requested with a description, approved, shipped back,
    received into stock and refunded."""
    set_return_address(ADDRESS)
    order = shipped(staff, prices=(4990,))
    after_sale = after_sales.request_after_sale(
        order,
        order.buyer,
        kind="return_refund",
        reason_code="quality",
        description="屏幕有划痕",
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.approve(after_sale, staff)
    after_sales.ship_back(after_sale, order.buyer, carrier="shunfeng", tracking_number="SF1234567890")
    after_sales.receive(after_sale, staff, restock=True)
    return AfterSale.objects.get(pk=after_sale.pk)


def test_a_return_reads_in_english_and_chinese(returned):
    english, chinese = history(returned, "en"), history(returned, "zh-hans")
    assert english["requested"] == (
        "Buyer requested an after-sale (Return and refund) of ¥49.90: Quality problem. 屏幕有划痕"
    )
    assert chinese["requested"] == "买家申请退货退款 ¥49.90：商品质量问题。屏幕有划痕"
    assert english["approved"].startswith(
        "Merchant approved the return: please ship the goods back within 7 days"
    )
    assert english["approved"].endswith(f"Return address: 王仓管 13800000000 {ADDRESS}")
    assert chinese["approved"].startswith("商家同意退货，请在7天内寄回商品并填写退货物流。退货地址：")
    assert english["shipped_back"] == "Buyer shipped the goods back: SF Express SF1234567890"
    assert chinese["shipped_back"] == "买家已寄回商品：顺丰速运 SF1234567890"
    assert english["received"] == (
        "Merchant confirmed receipt and put the returned goods back in stock; "
        "¥49.90 refunded to the original payment method"
    )
    assert chinese["received"] == "商家已确认收货，退货商品已入库，¥49.90 原路退回"
    assert english["refunded"] == "Refund succeeded: ¥49.90 returned to the original payment method"
    assert chinese["refunded"] == "退款成功，¥49.90 已原路退回"


def test_the_stored_message_stays_the_chinese_sentence(returned):
    with translation.override("en"):  # whatever language the writer spoke
        after_sales.add_message(returned, make_staff("clerk"), message="谢谢")
    for log in AfterSaleLog.objects.filter(after_sale=returned):
        with translation.override("zh-hans"):
            assert log.text == log.message
        assert log.kind == "message" or log.data[OrderEvent.TEMPLATE]
    assert returned.logs.get(kind="refunded").message == "退款成功，¥49.90 已原路退回"


def test_a_staff_cancel_of_a_paid_order_refunds_with_the_default_reason_translated(staff):
    """The backend's cancel form left empty: 商家取消 (lifecycle.STAFF_CANCEL_REASON), a
    catalog entry, names the refund in the history and the order's log."""
    order = pay(make_order(prices=(2500,)))
    assert login(staff).post(url(order, "cancel"), {"reason": ""}).status_code == 302
    after_sale = AfterSale.objects.get(order=order)
    assert after_sale.reason == "商家取消"
    english = history(after_sale, "en")
    assert english["requested"] == (
        "Merchant started an after-sale (Refund only) of ¥25.00: Cancelled by the merchant"
    )
    assert english["approved"] == (
        "Merchant approved the refund; ¥25.00 refunded to the original payment method"
    )
    assert history(after_sale, "zh-hans")["requested"] == "商家发起仅退款 ¥25.00：商家取消"
    unpaid = make_order()
    assert login(staff).post(url(unpaid, "cancel"), {"reason": ""}).status_code == 302
    with translation.override("en"):
        assert unpaid.events.get(kind="cancelled").text == "Order cancelled: Cancelled by the merchant"


def test_the_last_refund_of_an_unshipped_order_names_its_postage(staff):
    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": 800})
    order = pay(make_order(prices=(3000, 3000)))
    first, second = (
        after_sales.request_after_sale(
            order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": line.pk}]
        )
        for line in order.lines.order_by("pk")
    )
    after_sales.approve(second, None)
    after_sales.approve(first, staff)
    assert history(first, "en")["shipping_added"] == (
        "Every item of the order is refunded, so the shipping fee of ¥8.00 is refunded too; ¥38.00 in all"
    )
    assert (
        history(first, "zh-hans")["shipping_added"] == "订单商品已全部退款，运费 ¥8.00 一并退回，共退 ¥38.00"
    )
    assert history(second, "en")["approved"] == (
        "The system approved the refund; ¥30.00 refunded to the original payment method"
    )


def test_what_a_person_typed_reads_as_typed(staff):
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="颜色不对", lines=[{"line_id": order.lines.get().pk}]
    )
    # Words that are also a catalog entry stay the buyer's words.
    after_sales.add_message(after_sale, order.buyer, message="已取消")
    after_sales.reject(after_sale, staff, reason="已与买家电话沟通")
    english = history(after_sale, "en")
    assert english["requested"] == "Buyer requested an after-sale (Refund only) of ¥49.90: 颜色不对"
    assert english["message"] == "已取消"
    assert english["rejected"] == "Merchant rejected the after-sale: 已与买家电话沟通"
    assert history(after_sale, "zh-hans")["rejected"] == "商家拒绝售后：已与买家电话沟通"


def test_photos_sent_without_words_and_a_withdrawal_read_in_english():
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="颜色不对", lines=[{"line_id": order.lines.get().pk}]
    )
    log = AfterSaleLog.objects.create(
        after_sale=after_sale, kind="message", actor_kind="buyer", message=AfterSaleLog.IMAGES_ONLY
    )
    after_sales.withdraw(after_sale, order.buyer)
    english = history(after_sale, "en")
    assert english["withdrawn"] == "Buyer withdrew the after-sale request"
    with translation.override("en"):
        assert log.text == "Uploaded photos"


def test_a_refused_parcel_and_a_return_closed_by_the_sweep_read_in_english(staff):
    set_return_address(ADDRESS)
    refused, overdue = shipped(staff), shipped(staff)
    first, second = (
        after_sales.request_after_sale(
            order,
            order.buyer,
            kind="return_refund",
            reason="颜色不对",
            lines=[{"line_id": order.lines.get().pk}],
        )
        for order in (refused, overdue)
    )
    after_sales.approve(first, staff)
    after_sales.ship_back(first, refused.buyer, carrier="zhongtong", tracking_number="ZT123456789")
    after_sales.refuse_receipt(first, staff, reason="商品已损坏")
    assert history(first, "en")["receipt_refused"] == "Merchant refused the returned parcel: 商品已损坏"

    after_sales.approve(second, None)
    assert history(second, "en")["approved"].startswith("The system approved the return")
    AfterSale.objects.filter(pk=second.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    assert sweep_deadlines()["closed"] == 1
    assert history(second, "en")["closed"] == (
        "The buyer did not ship the goods back in time; the after-sale was closed automatically"
    )
    assert history(second, "zh-hans")["closed"] == "买家未在期限内寄回商品，售后已自动关闭"


def test_rows_written_before_templates_show_their_stored_message():
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="颜色不对", lines=[{"line_id": order.lines.get().pk}]
    )

    def old(kind, message):
        return AfterSaleLog.objects.create(
            after_sale=after_sale, kind=kind, actor_kind="system", message=message
        )

    fixed, finished, photos, typed = (
        old("withdrawn", "买家撤销了售后申请"),
        old("refunded", "退款成功，¥49.90 已原路退回"),
        old("message", "上传了图片"),
        old("message", "买家撤销了售后申请"),
    )
    with translation.override("en"):
        # A fixed sentence is its own msgid; one with values in it reads as written.
        assert AfterSaleLog.objects.get(pk=fixed.pk).text == "Buyer withdrew the after-sale request"
        assert AfterSaleLog.objects.get(pk=finished.pk).text == "退款成功，¥49.90 已原路退回"
        assert AfterSaleLog.objects.get(pk=photos.pk).text == "Uploaded photos"
        assert AfterSaleLog.objects.get(pk=typed.pk).text == "买家撤销了售后申请"


def test_the_backend_after_sale_page_in_english(staff, returned):
    body = in_english(login(staff)).get(url(returned)).content.decode()
    assert "Buyer shipped the goods back: SF Express SF1234567890" in body
    assert "Refund succeeded: ¥49.90 returned to the original payment method" in body
    assert "买家已寄回商品" not in body and "退款成功，" not in body
    chinese = login(staff).get(url(returned)).content.decode()
    assert "买家已寄回商品：顺丰速运 SF1234567890" in chinese


def test_the_buyer_after_sale_page_and_api_in_english(returned):
    buyer = returned.order.buyer
    page = reverse("storefront:after_sale_detail", args=[returned.order.number, returned.number])
    body = in_english(login(buyer)).get(page).content.decode()
    assert "Buyer shipped the goods back: SF Express SF1234567890" in body
    assert "买家已寄回商品" not in body
    api = api_for(buyer)
    reply = api.client.get(
        f"/api/v1/after-sales/{returned.number}", HTTP_ACCEPT_LANGUAGE="en", **api._headers()
    )
    assert reply.status_code == 200, reply.content
    lines = [log["message"] for log in reply.json()["logs"]]
    assert "Refund succeeded: ¥49.90 returned to the original payment method" in lines
    chinese = [log["message"] for log in api.get(f"/after-sales/{returned.number}").json()["logs"]]
    assert "退款成功，¥49.90 已原路退回" in chinese


def test_more_lines_cost_no_more_queries(staff, returned):
    buyer = returned.order.buyer
    page = reverse("storefront:after_sale_detail", args=[returned.order.number, returned.number])
    clients = {url(returned): in_english(login(staff)), page: in_english(login(buyer))}
    counts = {}
    for address, client in clients.items():
        client.get(address)  # warm up (sessions, content types)
        with CaptureQueriesContext(connection) as few:
            assert client.get(address).status_code == 200
        counts[address] = len(few)
    for words in ("一", "二", "三", "四", "五"):
        after_sales.add_message(returned, staff, message=words)
    for address, client in clients.items():
        with CaptureQueriesContext(connection) as many:
            body = client.get(address).content.decode()
        assert "Refund succeeded" in body
        assert len(many) == counts[address], address
