"""The order backend's refunds, after-sales, cancellations and payment records: what staff
may do, what is refused with the reason, and that a refused action writes nothing."""

import pytest
from django.urls import reverse

from fenxiao.catalog.models import Sku
from fenxiao.orders.services import after_sales
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Refund, SandboxTrade
from fenxiao.testing import make_staff

from .backend import login, make_order, pay, snapshot, texts, url

pytestmark = pytest.mark.django_db


# --- refunds, after-sales, cancellation --------------------------------------------------


def refund_form(order, **lines):
    data = {"kind": "refund_only", "reason": "商品瑕疵", "restock": ""}
    for line_id, (quantity, amount) in lines.items():
        data[f"line_{line_id}_selected"] = "on"
        data[f"line_{line_id}_quantity"] = quantity
        data[f"line_{line_id}_amount"] = amount
    return data


def test_staff_partial_refund_through_backend():
    order = pay(make_order(prices=(3000, 2000), stock=5))
    first, second = order.lines.order_by("id")
    staff = make_staff(perms=["orders.view_order", "orders.change_aftersale"])
    client = login(staff)
    assert client.get(url(order, "refund")).status_code == 200
    data = refund_form(order, **{str(first.pk): ("1", "12.50")})
    data["restock"] = "yes"
    response = client.post(url(order, "refund"), data)
    assert response.status_code == 302, texts(response)
    order.refresh_from_db()
    assert order.refunded_amount == 1250
    after_sale = order.after_sales.get()
    assert (after_sale.status, after_sale.amount, after_sale.requested_by) == ("refunded", 1250, "staff")
    refund = Refund.objects.get(after_sale=after_sale)
    assert (refund.amount, refund.status) == (1250, "succeeded")
    assert Sku.objects.get(pk=first.sku_id).stock == 5
    assert Sku.objects.get(pk=second.sku_id).stock == 4
    kinds = list(order.events.values_list("kind", flat=True))
    assert "after_sale_requested" in kinds and "after_sale_approved" in kinds


@pytest.mark.parametrize("amount", ["50.01", "1000", "-1", "0", "abc"])
def test_refund_above_paid_or_nonsense_writes_nothing(boss, amount):
    order = pay(make_order(prices=(5000,)))
    line = order.lines.get()
    before = snapshot(order)
    response = boss.post(url(order, "refund"), refund_form(order, **{str(line.pk): ("", amount)}))
    assert response.status_code == 200
    assert snapshot(order) == before


def test_refund_without_lines_or_reason_is_refused(boss):
    order = pay(make_order())
    before = snapshot(order)
    assert boss.post(url(order, "refund"), {"kind": "refund_only", "reason": "x"}).status_code == 200
    line = order.lines.get()
    data = refund_form(order, **{str(line.pk): ("", "")})
    data["reason"] = ""
    assert boss.post(url(order, "refund"), data).status_code == 200
    data = refund_form(order, **{str(line.pk): ("", "")})
    data["kind"] = "return_refund"  # not shipped yet: the service refuses
    response = boss.post(url(order, "refund"), data)
    assert response.status_code == 200 and texts(response)
    assert snapshot(order) == before


def test_refund_needs_change_aftersale():
    order = pay(make_order())
    client = login(make_staff(perms=["orders.view_order", "orders.change_order"]))
    line = order.lines.get()
    before = snapshot(order)
    response = client.post(url(order, "refund"), refund_form(order, **{str(line.pk): ("", "")}))
    assert response.status_code == 403
    assert snapshot(order) == before


def test_approve_buyer_request(boss):
    order = pay(make_order(prices=(2000,)))
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    page = boss.get(url(after_sale))
    assert "同意" in page.content.decode()
    assert "同意并退款" in boss.get(url(after_sale, "approve")).content.decode()  # refund only: one step
    response = boss.post(url(after_sale, "approve"), {"_confirm": "1"})
    assert response.status_code == 302, texts(response)
    after_sale.refresh_from_db()
    order.refresh_from_db()
    assert after_sale.status == "refunded"
    assert (order.refunded_amount, order.status) == (2000, "cancelled")
    again = boss.post(url(after_sale, "approve"), {"_confirm": "1"})
    assert again.status_code == 200 and texts(again)
    assert Refund.objects.filter(after_sale=after_sale).count() == 1


def test_reject_needs_reason(boss):
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    response = boss.post(url(after_sale, "reject"), {"reason": "  "})
    assert response.status_code == 200
    after_sale.refresh_from_db()
    assert after_sale.status == "requested"
    response = boss.post(url(after_sale, "reject"), {"reason": "商品已使用"})
    assert response.status_code == 302
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.reject_reason) == ("rejected", "商品已使用")
    assert order.events.last().kind == "after_sale_rejected"
    assert boss.get(url(after_sale)).status_code == 200


def test_after_sale_actions_need_permission():
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    viewer = login(make_staff(perms=["orders.view_aftersale", "orders.view_order"]))
    assert viewer.get(url(after_sale)).status_code == 200
    assert viewer.post(url(after_sale, "approve"), {}).status_code == 403
    assert viewer.post(url(after_sale, "reject"), {"reason": "x"}).status_code == 403
    after_sale.refresh_from_db()
    assert after_sale.status == "requested"


def test_cancel_unpaid_order(boss):
    unpaid = make_order(stock=3)
    sku = unpaid.lines.get().sku
    response = boss.post(url(unpaid, "cancel"), {"reason": "买家要求"})
    assert response.status_code == 302, texts(response)
    unpaid.refresh_from_db()
    assert unpaid.status == "cancelled"
    assert Sku.objects.get(pk=sku.pk).stock == 3
    again = boss.post(url(unpaid, "cancel"), {"reason": ""})
    assert again.status_code == 200 and texts(again)


def test_cancel_paid_order_refunds_in_full(boss):
    paid = pay(make_order(prices=(2500,)))
    response = boss.post(url(paid, "cancel"), {"reason": ""})
    assert response.status_code == 302, texts(response)
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("cancelled", 2500)

    again = boss.post(url(paid, "cancel"), {"reason": ""})
    assert again.status_code == 200 and texts(again)


def test_cancelling_a_paid_order_needs_refund_permission():
    order = pay(make_order())
    client = login(make_staff(perms=["orders.view_order", "orders.change_order"]))
    before = snapshot(order)
    response = client.post(url(order, "cancel"), {"reason": "x"})
    assert response.status_code == 200
    assert any("售后" in text for text in texts(response))
    assert snapshot(order) == before


# --- payments ---------------------------------------------------------------------------


def test_failed_refund_can_be_retried(boss, monkeypatch):
    order = pay(make_order(prices=(3000,)))
    # The gateway is down for refunds at first.
    original = SandboxGateway.refund
    from fenxiao.payments.gateways.base import RefundResult

    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, **kw: RefundResult(succeeded=False, failure_reason="网关维护")
    )
    after_sales.request_after_sale(
        order, make_staff(), kind="refund_only", reason="退款", lines=[{"line_id": order.lines.get().pk}]
    )
    refund = Refund.objects.get()
    assert refund.status == "failed"
    page = boss.get(url(refund))
    assert "重试退款" in page.content.decode()
    monkeypatch.setattr(SandboxGateway, "refund", original)
    assert login(make_staff(perms=["payments.view_refund"])).post(url(refund, "retry"), {}).status_code == 403
    response = boss.post(url(refund, "retry"), {"_confirm": "1"})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 3000
    # Retrying what is not failed is refused politely.
    response = boss.post(
        reverse("admin:payments_refund_changelist"),
        {"action": "retry_selected", "_selected_action": [refund.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert any("已完成，无需重试" in text for text in texts(response))
    assert Refund.objects.get().status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 3000


def test_a_line_the_buyer_asked_about_is_shown_with_that_request_not_offered_to_refund(boss):
    """商家退款 on an order whose buyer has a request waiting: that line reads 售后处理中 with
    the way to the request, instead of a checkbox the service then refused (该商品已有处理中
    的售后申请); the other lines are refunded as before."""
    order = pay(make_order(prices=(3000, 2000)))
    first, second = order.lines.order_by("id")
    waiting = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason_code="not_wanted", lines=[{"line_id": first.pk}]
    )
    page = boss.get(url(order, "refund")).content.decode()
    assert f'name="line_{first.pk}_selected"' not in page and f'name="line_{second.pk}_selected"' in page
    assert "售后处理中" in page and f"请先处理售后 {waiting.number}" in page
    assert f"?q={waiting.number}" in page
    response = boss.post(url(order, "refund"), refund_form(order, **{str(second.pk): ("", "")}))
    assert response.status_code == 302, texts(response)
    order.refresh_from_db()
    assert order.refunded_amount == 2000
