"""A group buy's lines in the order log (订单日志) read in their reader's language: a group
complete, a group failed (the member refunded, the unpaid order cancelled) and a group
closed without a late member. The sweep's reasons are stored on the order in Chinese as
before and shown translated in the log."""

import pytest
from django.utils import translation

from fenxiao.orders.models import Order, OrderEvent
from fenxiao.promotions.models import GroupBuy, GroupMember
from fenxiao.promotions.services import group_failures
from fenxiao.testing import make_buyer, make_product, pay_in_sandbox

from .factories import make_group
from .test_groups import GROUP_PRICE, buy_in_group, expire, failed_group_of

pytestmark = pytest.mark.django_db


def line(order, kind: str, language: str) -> str:
    event = OrderEvent.objects.filter(order=order, kind=kind).latest("id")
    with translation.override(language):
        return event.text


def test_a_group_complete_reads_in_english_and_chinese():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=2)
    first = buy_in_group(make_buyer(), product, promotion=promotion)
    second = buy_in_group(make_buyer(), product, group=GroupBuy.objects.get())
    pay_in_sandbox(first)
    pay_in_sandbox(second)
    for order in (first, second):
        assert line(order, "group_succeeded", "en") == "Group complete; the order can now ship"
        assert line(order, "group_succeeded", "zh-hans") == "拼团成功，可发货"


def test_a_failed_group_refunds_and_cancels_in_the_readers_language():
    _, group, (paid, unpaid) = failed_group_of(2, paid=1)
    assert group_failures.sweep() == group_failures.SweepResult(failed=1, cancelled=1, refunded=1)

    assert line(paid, "group_failed", "en") == (
        "Group failed: fewer than 3 members by the deadline; refunded in full"
    )
    assert line(paid, "group_failed", "zh-hans") == "拼团失败：截止时间前未凑满 3 人，全额退款"
    # The refund's request names the sweep's reason, translated.
    assert line(paid, "after_sale_requested", "en").endswith(": Group failed; refunded in full")
    assert line(paid, "after_sale_requested", "zh-hans").endswith("：拼团失败，全额退款")

    assert line(unpaid, "cancelled", "en") == "Order cancelled: Group failed; order cancelled"
    assert line(unpaid, "cancelled", "zh-hans") == "订单已取消：拼团失败，订单已取消"
    # Kept in Chinese on the order and in the stored line, as before.
    unpaid.refresh_from_db()
    assert unpaid.cancel_reason == "拼团失败，订单已取消"
    assert (
        OrderEvent.objects.get(order=unpaid, kind="cancelled").message == "订单已取消：拼团失败，订单已取消"
    )
    assert OrderEvent.objects.get(order=paid, kind="group_failed").message == (
        "拼团失败：截止时间前未凑满 3 人，全额退款"
    )


def test_a_group_closed_without_a_member_reads_in_english(monkeypatch):
    """A group completed with virtual members: the unpaid member's order is cancelled, and
    one who pays after all is refunded, both with the "group closed" reasons."""
    product = make_product(price=9900, stock=10)
    promotion = make_group(product, price=GROUP_PRICE, size=3, virtual_fill=True)
    paid = buy_in_group(make_buyer(), product, promotion=promotion)
    group = GroupBuy.objects.get()
    dawdler = buy_in_group(make_buyer(), product, group=group)
    late = buy_in_group(make_buyer(), product, group=group)
    pay_in_sandbox(paid)
    expire(group)
    cancel, on_the_cashier = group_failures._cancel_unpaid, GroupMember.objects.get(order=late).pk
    # `late` is on the cashier when the sweep comes: their order is not cancelled.
    monkeypatch.setattr(group_failures, "_cancel_unpaid", lambda pk: pk != on_the_cashier and cancel(pk))
    assert group_failures.sweep().cancelled == 1
    monkeypatch.undo()
    assert line(dawdler, "cancelled", "en") == "Order cancelled: Group closed; unpaid order cancelled"
    assert line(dawdler, "cancelled", "zh-hans") == "订单已取消：拼团已结束，未付款订单已取消"

    pay_in_sandbox(late)
    assert group_failures.sweep().refunded == 1
    assert Order.objects.get(pk=late.pk).status == Order.Status.CANCELLED
    english = "Group already closed; the payment came too late to join it; refunded in full"
    assert line(late, "group_failed", "en") == english
    assert line(late, "group_failed", "zh-hans") == "拼团已结束，付款未能参团，全额退款"
    assert line(late, "after_sale_requested", "en").endswith(f": {english}")
