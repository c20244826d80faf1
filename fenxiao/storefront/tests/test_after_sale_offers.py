"""The H5 offers an after-sale only where the server would take it: not on a completed order
past its after-sale window, and not on a line another request already holds."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.customers.models import Address
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import after_sales, checkout, lifecycle
from fenxiao.orders.tests.backend import set_return_address
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def shipped_order(buyer, prices=(5900,)) -> Order:
    skus = [make_product(f"商品{i}", price=price, stock=10).skus.get() for i, price in enumerate(prices)]
    address = Address.objects.filter(user=buyer).first() or make_address(buyer)
    order = checkout.place_order(buyer, [(sku.pk, 1) for sku in skus], address_id=address.pk)
    pay_in_sandbox(order)
    lifecycle.ship(order, make_staff("shipper"), carrier="shunfeng", tracking_number="SF10001")
    return order


def completed_days_ago(order: Order, days: int) -> Order:
    lifecycle.complete(order, actor=order.buyer)
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=days))
    return order


def test_a_completed_order_past_its_window_says_so_instead_of_offering_an_after_sale():
    OrderSettings.objects.create(after_sale_days=15)
    buyer = make_buyer()
    client = signed_in(buyer)
    recent = completed_days_ago(shipped_order(buyer), 14)
    page = client.get(f"/orders/{recent.number}/").content.decode()
    assert f'href="/orders/{recent.number}/after-sale/"' in page

    old = completed_days_ago(shipped_order(buyer), 16)
    page = client.get(f"/orders/{old.number}/").content.decode()
    assert f'href="/orders/{old.number}/after-sale/"' not in page
    assert "订单完成已超过15天，不能再申请售后" in page
    # The form's address, typed or bookmarked, leads back to the order with the reason.
    reply = client.get(f"/orders/{old.number}/after-sale/", follow=True)
    assert reply.redirect_chain == [(f"/orders/{old.number}/", 302)]
    assert "订单完成已超过15天，不能再申请售后" in reply.content.decode()


def test_a_line_another_request_holds_shows_its_progress_instead_of_being_offered_again():
    buyer = make_buyer()
    client = signed_in(buyer)
    order = shipped_order(buyer, prices=(5900, 12900))
    first, second = order.lines.order_by("pk")
    held = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="quality", lines=[{"line_id": first.pk, "quantity": 1}]
    )
    form = client.get(f"/orders/{order.number}/after-sale/").content.decode()
    assert f'name="line_{first.pk}"' not in form and f'name="line_{second.pk}"' in form
    assert "该商品的售后正在处理中" in form
    assert f'href="/orders/{order.number}/after-sales/{held.number}/"' in form
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'href="/orders/{order.number}/after-sale/"' in page

    # With every line held, there is nothing left to ask for: no 申请售后, and the form's
    # address leads back to the order, where each request shows its progress.
    after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="quality", lines=[{"line_id": second.pk}]
    )
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert f'href="/orders/{order.number}/after-sale/"' not in page
    reply = client.get(f"/orders/{order.number}/after-sale/", follow=True)
    assert reply.redirect_chain == [(f"/orders/{order.number}/", 302)]
    assert "订单商品均已退款或正在售后中，可在订单页查看售后进度" in reply.content.decode()

    # Once the merchant rejects the first request, its line is offered again.
    after_sales.reject(held, make_staff("merchant"), reason="请补充照片")
    form = client.get(f"/orders/{order.number}/after-sale/").content.decode()
    assert f'name="line_{first.pk}"' in form and f'name="line_{second.pk}"' not in form


def test_a_rejected_request_offers_a_new_one_while_the_order_still_takes_it():
    OrderSettings.objects.create(after_sale_days=15)
    buyer = make_buyer()
    client = signed_in(buyer)
    order = completed_days_ago(shipped_order(buyer), 3)
    sale = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="quality", lines=[{"line_id": order.lines.get().pk}]
    )
    detail = f"/orders/{order.number}/after-sales/{sale.number}/"
    form = f'href="/orders/{order.number}/after-sale/"'
    assert form not in client.get(detail).content.decode()  # still waiting for the merchant

    after_sales.reject(sale, make_staff("merchant"), reason="请补充照片")
    page = client.get(detail).content.decode()
    assert "商家已拒绝" in page and "原因：请补充照片" in page
    assert form in page and "重新申请" in page and "可补充说明和凭证后重新申请" in page

    # Past the window the order takes no new request: the page does not offer one.
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=16))
    page = client.get(detail).content.decode()
    assert "商家已拒绝" in page and form not in page and "重新申请" not in page


def steps_done(page: str) -> list[str]:
    steps = re.search(r'<ol class="as-steps".*?</ol>', page, re.S).group(0)
    return re.findall(r'<li class="done">([^<]+)</li>', steps)


def test_the_progress_marks_only_the_steps_that_happened():
    set_return_address()
    buyer = make_buyer()
    client = signed_in(buyer)
    order = shipped_order(buyer, prices=(5900, 12900))
    first, second = order.lines.order_by("pk")
    merchant = make_staff("merchant")

    refused = after_sales.request_after_sale(
        order,
        buyer,
        kind="return_refund",
        reason_code="quality",
        lines=[{"line_id": first.pk, "quantity": 1}],
    )
    after_sales.reject(refused, merchant, reason="请补充照片")
    page = client.get(f"/orders/{order.number}/after-sales/{refused.number}/").content.decode()
    assert steps_done(page) == ["提交申请"]  # it read 商家同意 as done

    withdrawn = after_sales.request_after_sale(
        order, buyer, kind="refund_only", reason_code="quality", lines=[{"line_id": second.pk}]
    )
    after_sales.withdraw(withdrawn, buyer)
    page = client.get(f"/orders/{order.number}/after-sales/{withdrawn.number}/").content.decode()
    assert steps_done(page) == ["提交申请"]

    # A return agreed, shipped back, then refused at the door: agreed and shipped, not received.
    returned = after_sales.request_after_sale(
        order,
        buyer,
        kind="return_refund",
        reason_code="quality",
        lines=[{"line_id": first.pk, "quantity": 1}],
    )
    after_sales.approve(returned, merchant)
    after_sales.ship_back(returned, buyer, carrier="shunfeng", tracking_number="SF20002")
    after_sales.refuse_receipt(returned, merchant, reason="不是本店商品")
    page = client.get(f"/orders/{order.number}/after-sales/{returned.number}/").content.decode()
    assert steps_done(page) == ["提交申请", "商家同意", "寄回商品"]


def test_a_return_waiting_for_the_parcel_can_be_withdrawn_from_the_order_page_too():
    """The after-sale page offers 撤销申请 until the goods are sent back; the order page
    offered it only before the merchant answered."""
    set_return_address()
    buyer = make_buyer()
    client = signed_in(buyer)
    order = shipped_order(buyer)
    sale = after_sales.request_after_sale(
        order, buyer, kind="return_refund", reason_code="quality", lines=[{"line_id": order.lines.get().pk}]
    )
    after_sales.approve(sale, make_staff("merchant"))
    withdraw = f'action="/orders/{order.number}/after-sale/{sale.number}/withdraw/"'
    assert withdraw in client.get(f"/orders/{order.number}/").content.decode()
    client.post(f"/orders/{order.number}/after-sale/{sale.number}/withdraw/")
    sale.refresh_from_db()
    assert sale.status == "withdrawn"
    assert withdraw not in client.get(f"/orders/{order.number}/").content.decode()
