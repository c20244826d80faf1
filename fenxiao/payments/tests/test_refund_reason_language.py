"""A refund's reason (原因) reads in its reader's language where the system wrote it — a paid
order cancelled (取消订单, 商家取消), a group buy that failed, a reason picked from the list,
a payment that came after its order closed — on the refund's page, the payment's page and
the order's after-sales; what a person typed reads as typed. The rows keep the Chinese."""

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.tests.backend import make_order, pay
from fenxiao.payments.models import Payment, PaymentStatus, Refund
from fenxiao.payments.services.payments import start_payment
from fenxiao.payments.services.refunds import refund_unapplied_payment
from fenxiao.testing import in_english, login, make_staff

pytestmark = pytest.mark.django_db


def refund_of(order) -> Refund:
    return Refund.objects.filter(payment__order=order).latest("id")


def reason(refund: Refund, language: str) -> str:
    with translation.override(language):
        return refund.reason_text


def refunds():
    """A refund for each kind of reason, by what it should read in English."""
    cancelled = pay(make_order())
    lifecycle.cancel(cancelled, cancelled.buyer)  # the buyer's button: 取消订单
    by_staff = pay(make_order())
    lifecycle.cancel(by_staff, make_staff(), reason=lifecycle.STAFF_CANCEL_REASON)
    group = pay(make_order())
    after_sales.start_full_refund(group, None, reason="拼团失败，全额退款")  # the group sweep's
    listed = pay(make_order())
    after_sales.request_after_sale(
        listed,
        listed.buyer,
        kind="refund_only",
        reason_code="not_wanted",
        lines=[{"line_id": listed.lines.get().pk}],
    )
    after_sales.approve(listed.after_sales.get(), make_staff())
    typed = pay(make_order())
    lifecycle.cancel(typed, typed.buyer, reason="地址写错了")
    late = make_order()
    payment = start_payment(late, "sandbox")
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUCCEEDED, applied=False)
    with transaction.atomic():
        refund_unapplied_payment(Payment.objects.get(pk=payment.pk), late)
    return {
        "Order cancelled": refund_of(cancelled),
        "Cancelled by the merchant": refund_of(by_staff),
        "Group failed; refunded in full": refund_of(group),
        "No longer wanted": refund_of(listed),
        "地址写错了": refund_of(typed),
        "Order closed or already paid; refunded to the original payment method": refund_of(late),
    }


def test_system_reasons_read_in_english_and_typed_ones_as_typed():
    for english, refund in refunds().items():
        assert reason(refund, "en") == english
        assert reason(refund, "zh-hans") == refund.reason  # the row keeps the Chinese


def test_the_refund_and_payment_pages_show_the_reason_in_the_readers_language():
    made = refunds()
    staff = in_english(login(make_staff("boss", superuser=True)))
    for english, refund in made.items():
        for page in (
            reverse("admin:payments_refund_change", args=[refund.pk]),
            reverse("admin:payments_payment_change", args=[refund.payment_id]),
        ):
            body = staff.get(page).content.decode()
            assert english in body, (english, page)
            if english != refund.reason:
                assert refund.reason not in body, (refund.reason, page)


def test_the_orders_after_sales_show_their_reason_in_the_readers_language():
    order = pay(make_order())
    after_sales.request_after_sale(
        order,
        order.buyer,
        kind="refund_only",
        reason_code="not_wanted",
        lines=[{"line_id": order.lines.get().pk}],
    )
    staff = in_english(login(make_staff("boss", superuser=True)))
    body = staff.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "No longer wanted" in body and "不想要了" not in body
