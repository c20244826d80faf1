"""拼团 in the backend masks the leader's and the members' phones (138****0001) for staff who
may not see phones (a role without `customers.view_customer_phone`), as the order and 客户
pages do; 运营 and a superuser see the whole numbers; the list costs the same queries for any
number of groups."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.promotions.models import GroupBuy
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .factories import make_group
from .test_groups import GROUP_PRICE, buy_in_group

pytestmark = pytest.mark.django_db

LEADER, MEMBER = "13800000001", "13900000002"
MASKED = {LEADER: "138****0001", MEMBER: "139****0002"}
PAGE_PERMS = ["promotions.view_groupbuy", "promotions.view_groupmember"]


def role(name: str, perms: list[str] | None = None):
    ensure_staff_groups()
    user = make_staff(name, perms=perms)
    user.groups.add(Group.objects.get(name=name))
    return login(user)


@pytest.fixture
def group():
    """A group opened by a buyer with no nickname (named by phone), joined by another."""
    product = make_product(price=9900, stock=100)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    buy_in_group(make_buyer(LEADER), product, promotion=promotion)
    group = GroupBuy.objects.get()
    buy_in_group(make_buyer(MEMBER), product, group=group)
    return group


def pages(group) -> dict[str, list[str]]:
    return {
        reverse("admin:promotions_groupbuy_changelist"): [LEADER],
        reverse("admin:promotions_groupbuy_change", args=[group.pk]): [LEADER, MEMBER],
    }


def body(client, url) -> str:
    reply = client.get(url)
    assert reply.status_code == 200, url
    return reply.content.decode()


def test_a_role_without_the_phone_permission_sees_masked_phones(group):
    client = role(FINANCE, PAGE_PERMS)
    for url, phones in pages(group).items():
        text = body(client, url)
        for phone in (LEADER, MEMBER):
            assert phone not in text, (url, phone)
        for phone in phones:
            assert MASKED[phone] in text, (url, phone)


@pytest.mark.parametrize("who", [OPERATIONS, "superuser"])
def test_operations_and_a_superuser_see_whole_phones(group, who):
    client = login(make_staff("boss", superuser=True)) if who == "superuser" else role(OPERATIONS)
    for url, phones in pages(group).items():
        text = body(client, url)
        for phone in phones:
            assert phone in text, (url, phone)
            assert MASKED[phone] not in text, (url, phone)


def test_a_search_by_the_leader_phone_finds_the_group_masked(group):
    client = role(FINANCE, PAGE_PERMS)
    reply = client.get(reverse("admin:promotions_groupbuy_changelist"), {"q": LEADER})
    assert [g.pk for g in reply.context["cl"].result_list] == [group.pk]
    assert MASKED[LEADER] in reply.content.decode()


def test_the_group_list_costs_the_same_queries_for_more_groups(group):
    client = role(FINANCE, PAGE_PERMS)
    url = reverse("admin:promotions_groupbuy_changelist")
    client.get(url)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    promotion, product = group.promotion, group.item.product
    for _ in range(8):
        buy_in_group(make_buyer(), product, promotion=promotion)
    with CaptureQueriesContext(connection) as many:
        reply = client.get(url)
    assert len(reply.context["cl"].result_list) == 9
    assert len(many) <= len(few), [q["sql"] for q in many.captured_queries]


def test_a_members_order_opens_from_the_group_for_staff_who_may_see_orders(group):
    """From a failed or open group the merchant reaches each member's order (its payment and
    refund); staff who may not see orders get the number without a link."""
    order = group.members.get(is_leader=True).order
    url = reverse("admin:promotions_groupbuy_change", args=[group.pk])
    link = f'href="{reverse("admin:orders_order_change", args=[order.pk])}"'
    assert link in body(login(make_staff("boss", superuser=True)), url)
    plain = body(login(make_staff("viewer", perms=PAGE_PERMS)), url)
    assert order.number in plain and link not in plain
