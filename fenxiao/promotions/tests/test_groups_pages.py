"""The group page (H5) and the group API: what a buyer opening a shared group link sees, in
a fixed number of queries however many members there are."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.promotions.models import GroupBuy, Promotion
from fenxiao.promotions.services import group_failures
from fenxiao.testing import (
    ApiClient,
    assert_refused,
    in_english,
    login,
    make_buyer,
    make_product,
    pay_in_sandbox,
)

from .factories import make_group
from .test_groups import GROUP_PRICE, buy_in_group, expire

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_group():
    """A 4-person group at ¥59.00 (regular ¥99.00): the leader paid, a second member has not."""
    product = make_product("云南普洱", price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=4, name="四人团")
    leader = make_buyer(nickname="阿明")
    pay_in_sandbox(buy_in_group(leader, product, promotion=promotion))
    group = GroupBuy.objects.get()
    buy_in_group(make_buyer(), product, group=group)
    return group


def test_the_group_page_shows_prices_members_seats_countdown_and_join(open_group):
    reply = Client().get(f"/groups/{open_group.pk}/")
    assert reply.status_code == 200
    html = reply.content.decode()
    assert "云南普洱" in html and "¥59.00" in html and "单买价 ¥99.00" in html
    assert html.count('data-testid="member"') == 2 and html.count('data-testid="empty-seat"') == 2
    assert "阿" in html and "团长" in html and "待付款" in html
    assert 'data-testid="seats-left">2<' in html
    sku = open_group.item.product.skus.get()
    assert f'href="/checkout/?sku={sku.pk}&amp;qty=1&amp;join={open_group.pk}"' in html
    seconds = int(html.split('data-countdown="')[1].split('"')[0])
    assert 23 * 3600 < seconds <= 24 * 3600


def test_a_distributor_shares_their_referral_link(open_group, settings):
    settings.SITE_URL = "https://shop.example.com"
    distributor = make_distributor()
    html = login(distributor.user).get(f"/groups/{open_group.pk}/").content.decode()
    assert f"https://shop.example.com/r/{distributor.referral_code}?to=%2Fgroups%2F{open_group.pk}%2F" in html
    plain = login(make_buyer()).get(f"/groups/{open_group.pk}/").content.decode()
    assert f'value="https://shop.example.com/groups/{open_group.pk}/"' in plain


def test_a_member_sees_their_order_instead_of_join(open_group):
    leader = open_group.leader
    html = login(leader).get(f"/groups/{open_group.pk}/").content.decode()
    assert "您已在团中" in html and 'data-testid="join"' not in html


def test_a_failed_group_says_so_and_offers_a_new_group(open_group):
    expire(open_group)
    group_failures.sweep()
    html = Client().get(f"/groups/{open_group.pk}/").content.decode()
    assert "拼团失败" in html and "全额原路退回" in html
    assert 'data-testid="join"' not in html and 'data-countdown="' not in html
    assert f"&amp;group={open_group.promotion_id}" in html


def test_a_refunded_member_of_a_failed_group_sees_the_refund_and_can_open_a_new_group(open_group):
    """Not 您已在团中 and nothing to tap: the group is over for them, their money is back."""
    leader = open_group.leader
    expire(open_group)
    group_failures.sweep()
    order = leader.orders.get()
    assert order.refunded_amount == GROUP_PRICE and order.refunded_amount == order.paid_amount
    html = login(leader).get(f"/groups/{open_group.pk}/").content.decode()
    assert "您已在团中" not in html
    seat = html.split('data-testid="my-seat"')[1].split("</p>")[0]
    assert "拼团未成功，¥59.00 已全额退回" in seat and f'href="/orders/{order.number}/"' in seat
    assert 'data-testid="open-new"' in html and f"&amp;group={open_group.promotion_id}" in html

    english = in_english(login(leader)).get(f"/groups/{open_group.pk}/").content.decode()
    assert "The group didn't fill: ¥59.00 has been refunded in full" in english


def test_a_paid_member_of_a_failed_group_waiting_for_the_refund_is_told_it_is_on_its_way(open_group):
    leader = open_group.leader
    expire(open_group)
    GroupBuy.objects.filter(pk=open_group.pk).update(status="failed")  # closed, refund not yet run
    html = login(leader).get(f"/groups/{open_group.pk}/").content.decode()
    assert "拼团未成功，已付款项正在原路退回" in html and "您已在团中" not in html


def test_the_group_page_costs_the_same_queries_whatever_the_size(open_group):
    def count() -> int:
        client = Client()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/groups/{open_group.pk}/").status_code == 200
        return len(queries)

    before = count()
    GroupBuy.objects.filter(pk=open_group.pk).update(size=6)
    for _ in range(3):
        buy_in_group(make_buyer(), open_group.item.product, group=open_group)
    assert count() == before


def test_unknown_groups_are_404(open_group):
    assert Client().get("/groups/999999/").status_code == 404
    assert Client().get(f"/groups/{2**70}/").status_code == 404
    assert_refused(ApiClient().get("/groups/999999"), 404, "GROUP_NOT_FOUND")
    assert_refused(ApiClient().get(f"/groups/{2**70}"), 404, "GROUP_NOT_FOUND")


# --- API ----------------------------------------------------------------------------------------------


def test_api_group_detail(open_group):
    reply = ApiClient().get(f"/groups/{open_group.pk}")
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["group_price"] == GROUP_PRICE and body["regular_price"] == 9900
    assert (body["size"], body["seats_taken"], body["paid_count"], body["seats_left"]) == (4, 2, 1, 2)
    assert (body["status"], body["status_display"], body["joinable"]) == ("open", "拼团中", True)
    assert [(m["name"], m["is_leader"], m["paid"]) for m in body["members"]][0] == ("阿明", True, True)
    assert body["members"][1]["paid"] is False
    assert body["page_url"] == f"/groups/{open_group.pk}/"


def test_api_open_groups_of_a_promotion_or_product(open_group):
    product = open_group.item.product
    full_promotion = make_group(product, price=6900, size=2)
    buy_in_group(make_buyer(), product, promotion=full_promotion)
    full = GroupBuy.objects.exclude(pk=open_group.pk).get()
    buy_in_group(make_buyer(), product, group=full)  # no seat left: not listed

    by_product = ApiClient().get("/groups", product=product.pk).json()
    assert [g["id"] for g in by_product] == [open_group.pk]
    assert by_product[0]["seats_left"] == 2 and by_product[0]["leader_name"] == "阿明"
    assert [g["id"] for g in ApiClient().get("/groups", promotion=open_group.promotion_id).json()] == [
        open_group.pk
    ]
    assert ApiClient().get("/groups", promotion=full_promotion.pk).json() == []

    Promotion.objects.filter(pk=open_group.promotion_id).update(
        ended_at=timezone.now() - timedelta(seconds=1)
    )
    assert ApiClient().get("/groups", product=product.pk).json() == []


def test_api_open_groups_needs_a_promotion_or_product():
    assert_refused(ApiClient().get("/groups"), 400, "INVALID_INPUT")
    assert ApiClient().get("/groups", promotion="abc").status_code == 422


def test_my_groups_lists_the_buyers_seats(open_group):
    leader = open_group.leader
    other = make_group(open_group.item.product, price=6900, size=2, name="两人团")
    buy_in_group(leader, open_group.item.product, promotion=other)
    html = login(leader).get("/groups/mine/").content.decode()
    assert html.count('data-testid="my-group"') == 2
    assert f'href="/groups/{open_group.pk}/"' in html and "已参团 2/4 人" in html and "我开的团" in html
    assert "还没有参加过拼团" in login(make_buyer()).get("/groups/mine/").content.decode()
    assert Client().get("/groups/mine/").status_code == 302


def test_my_groups_says_what_each_seat_waits_for(open_group):
    """An unpaid seat says 待付款; a group past its deadline that the sweep has not closed yet
    says 拼团已到期 (as its page does), not 拼团中; a failed group's paid seat awaits its refund."""
    unpaid = open_group.members.get(is_leader=False).buyer
    html = login(unpaid).get("/groups/mine/").content.decode()
    assert 'data-testid="seat-unpaid"' in html and "已参团 2/4 人" in html
    assert 'data-testid="seat-unpaid"' not in login(open_group.leader).get("/groups/mine/").content.decode()

    expire(open_group)
    html = login(open_group.leader).get("/groups/mine/").content.decode()
    assert "拼团已到期" in html and "正在结算拼团结果" in html and "拼团中" not in html
    assert "拼团已到期" in login(open_group.leader).get(f"/groups/{open_group.pk}/").content.decode()

    GroupBuy.objects.filter(pk=open_group.pk).update(status="failed")  # closed, refund not yet run
    html = login(open_group.leader).get("/groups/mine/").content.decode()
    assert "拼团失败" in html and "退款处理中" in html
    group_failures.sweep()
    html = login(open_group.leader).get("/groups/mine/").content.decode()
    assert "拼团失败" in html and "已全额退款" in html and "退款处理中" not in html
