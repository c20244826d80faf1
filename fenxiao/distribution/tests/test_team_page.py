"""我的团队 (/d/team/) reaches every member: past the first 20 the page leads on to the
earlier ones, direct and indirect alike, at a cost that does not grow with the team. Each
member's orders and sales are the figures their own center shows."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.services import dashboard
from fenxiao.testing import api_for

from .helpers import earn, full_refund, make_distributor, till_sale

pytestmark = pytest.mark.django_db


def walk(client, depth: int) -> tuple[list[str], int]:
    """The member names on every page of the tab, following 更早加入的成员; and the pages."""
    names, address, pages = [], f"/d/team/?depth={depth}", 0
    while address:
        page = client.get(address).content.decode()
        pages += 1
        names += re.findall(r'<b class="user-text">([^<]+)</b>', page)
        more = re.search(r'href="(\?depth=\d&amp;before=\d+)" data-testid="more"', page)
        address = "/d/team/" + more.group(1).replace("&amp;", "&") if more else None
        assert pages < 10
    return names, pages


def test_every_member_of_a_big_team_can_be_reached(django_assert_max_num_queries):
    leader = make_distributor()
    direct = [make_distributor(parent=leader) for _ in range(23)]
    indirect = [make_distributor(parent=direct[0]) for _ in range(21)]
    client = Client()
    client.force_login(leader.user)

    names, pages = walk(client, 1)
    assert pages == 2
    assert sorted(names) == sorted(m.user.display_name for m in direct)
    assert len(set(names)) == 23

    names, pages = walk(client, 2)
    assert pages == 2
    assert sorted(names) == sorted(m.user.display_name for m in indirect)

    # An earlier page leads back to the newest members, in the same tab.
    first = client.get("/d/team/?depth=2").content.decode()
    cursor = re.search(r"before=(\d+)", first).group(1)
    earlier = client.get(f"/d/team/?depth=2&before={cursor}").content.decode()
    assert 'href="?depth=2">回到最新</a>' in earlier

    with django_assert_max_num_queries(30) as counted:
        client.get("/d/team/")
    with django_assert_max_num_queries(len(counted.captured_queries)):
        client.get(f"/d/team/?depth=1&before={direct[-1].pk}")


def test_a_hand_made_cursor_is_a_page_not_an_error():
    leader = make_distributor()
    make_distributor(parent=leader)
    client = Client()
    client.force_login(leader.user)
    for cursor in ("abc", "-1", "0", "99999999999999999999999", "１２"):
        assert client.get("/d/team/", {"before": cursor}).status_code == 200, cursor


def test_a_members_orders_and_sales_agree_with_their_own_center():
    """A 导购 in the team who sells at the store's till: the sale counts in their center's
    推广订单 and 推广销售额, and so on their upline's 我的团队 (page and app); it showed only
    their online orders there."""
    leader = make_distributor()
    guide = make_distributor(parent=leader)
    earn(guide, 10000)  # online: ¥100.00
    full_refund(earn(guide, 5000))  # online, refunded in full: counts, for ¥0.00
    till_sale(guide, "T1", 20000)  # at the till: ¥200.00
    own = dashboard.figures(guide)
    assert (own["orders"], own["sales"]) == (3, 30000)

    client = Client()
    client.force_login(leader.user)
    page = client.get("/d/team/").content.decode()
    assert "推广 3 单 · 销售额 ¥300.00" in page
    members = api_for(leader.user).get("/distribution/team").json()["items"]
    assert [(m["orders"], m["sales"]) for m in members] == [(3, 30000)]
