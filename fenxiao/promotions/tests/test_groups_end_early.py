"""Ending a group-buy promotion early closes its open groups at the next sweep (failed and
the paid members refunded, or filled with virtual members when allowed), instead of
holding the members' money until the groups' old deadline."""

import pytest
from django.utils import timezone

from fenxiao.orders.models import Order, OrderSettings
from fenxiao.promotions.models import GroupBuy
from fenxiao.promotions.services import group_failures, manage
from fenxiao.testing import make_buyer, make_product, make_staff, pay_in_sandbox

from .factories import make_group
from .test_groups import GROUP_PRICE, SHIPPING, assert_refunded_once, buy_in_group

pytestmark = pytest.mark.django_db


def test_ending_a_group_buy_early_fails_its_open_groups_at_the_next_sweep():
    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": SHIPPING})
    product, elsewhere = make_product(price=9900), make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3, hours=240)
    other = make_group(elsewhere, price=GROUP_PRICE, size=3, hours=240)
    leader = buy_in_group(make_buyer(), product, promotion=promotion)
    pay_in_sandbox(leader)
    group = GroupBuy.objects.get(promotion=promotion)
    joiner = buy_in_group(make_buyer(), product, group=group)
    untouched = buy_in_group(make_buyer(), elsewhere, promotion=other)

    manage.end_early(promotion, make_staff(), now=timezone.now())
    assert GroupBuy.objects.get(pk=group.pk).deadline <= timezone.now()
    result = group_failures.sweep()

    assert result == group_failures.SweepResult(failed=1, cancelled=1, refunded=1)
    assert GroupBuy.objects.get(pk=group.pk).status == "failed"
    assert_refunded_once(leader)
    assert Order.objects.get(pk=joiner.pk).status == Order.Status.CANCELLED
    # Another promotion's group keeps its deadline and its buyer.
    assert GroupBuy.objects.get(promotion=other).status == "open"
    assert Order.objects.get(pk=untouched.pk).status == Order.Status.PENDING_PAYMENT


def test_a_group_ended_early_with_virtual_members_allowed_is_filled():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3, hours=240, virtual_fill=True)
    leader = buy_in_group(make_buyer(), product, promotion=promotion)
    pay_in_sandbox(leader)

    manage.end_early(promotion, make_staff())
    assert group_failures.sweep() == group_failures.SweepResult(filled=1)
    assert GroupBuy.objects.get().status == "succeeded"
    assert not Order.objects.get(pk=leader.pk).awaiting_group
