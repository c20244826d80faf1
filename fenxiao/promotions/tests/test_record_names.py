"""A group-buy member row is titled by who holds the seat, not the group's and buyer's ids;
a buyer without a nickname reads as the masked phone."""

import pytest

from fenxiao.promotions.models import GroupMember
from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


def test_a_group_member_reads_as_the_buyer_the_leader_marked():
    leader = make_buyer("13800000001", nickname="小王")
    assert str(GroupMember(buyer=leader, is_leader=True)) == "团长 小王"
    assert str(GroupMember(buyer=make_buyer("13900000002"))) == "139****0002"
    assert str(GroupMember(is_virtual=True)) == "虚拟成员"
