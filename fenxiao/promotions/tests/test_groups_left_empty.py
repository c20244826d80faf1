"""A group left with no one in it (its only member's unpaid order cancelled) is closed,
not left listed and joinable as its departed leader's group."""

import pytest

from fenxiao.orders.models import Order
from fenxiao.orders.services import lifecycle
from fenxiao.promotions import errors
from fenxiao.promotions.models import GroupBuy
from fenxiao.promotions.services import groups
from fenxiao.testing import make_buyer, make_product

from .factories import make_group
from .test_groups import GROUP_PRICE, buy_in_group

pytestmark = pytest.mark.django_db


def test_a_group_left_empty_by_its_leaders_cancel_is_closed():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    buyer = make_buyer()
    order = buy_in_group(buyer, product, promotion=promotion)
    group = GroupBuy.objects.get()

    lifecycle.cancel(Order.objects.get(pk=order.pk), buyer)
    group.refresh_from_db()
    assert (group.status, group.seats_taken) == ("failed", 0)
    assert group.closed_at is not None
    assert groups.open_groups(promotion_id=promotion.pk) == []
    with pytest.raises(errors.GroupExpired):
        buy_in_group(make_buyer(), product, group=group)
    # The buyer may open a new group.
    buy_in_group(buyer, product, promotion=promotion)
    assert GroupBuy.objects.filter(status="open").count() == 1


def test_a_group_whose_leader_cancels_stays_open_for_the_members_left():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    leader = make_buyer()
    order = buy_in_group(leader, product, promotion=promotion)
    group = GroupBuy.objects.get()
    buy_in_group(make_buyer(), product, group=group)

    lifecycle.cancel(Order.objects.get(pk=order.pk), leader)
    group.refresh_from_db()
    assert (group.status, group.seats_taken) == ("open", 1)
