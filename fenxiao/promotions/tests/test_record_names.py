"""A group-buy member row is titled by the order that took the seat, not the group's and
buyer's database ids, and never by the buyer's phone (the row shows it masked or whole by
who is looking)."""

from fenxiao.orders.models import Order
from fenxiao.promotions.models import GroupMember


def seat(number: str, **fields) -> GroupMember:
    member = GroupMember(order=Order(pk=7, number=number), **fields)
    assert member.order_id == 7
    return member


def test_a_group_member_reads_as_its_order_the_leader_marked():
    assert str(seat("FX20260101000007", is_leader=True)) == "团长 · 订单 FX20260101000007"
    assert str(seat("FX20260101000008")) == "订单 FX20260101000008"
    assert str(GroupMember(is_virtual=True)) == "虚拟成员"
