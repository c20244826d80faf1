"""我的团队 (/d/team/) reaches every member: past the first 20 the page leads on to the
earlier ones, direct and indirect alike, at a cost that does not grow with the team."""

import re

import pytest
from django.test import Client

from .helpers import make_distributor

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
