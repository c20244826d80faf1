"""拼团 in the backend reads a failed group as the merchant needs it: 已付款 stays the number
who paid, and the list and page say how many of them were refunded; every time on the page
is written the same way (2026-12-04 16:30), local time."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.promotions.services import group_failures
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .factories import make_group
from .test_groups import GROUP_PRICE, buy_in_group, failed_group_of

pytestmark = pytest.mark.django_db


def test_a_failed_group_says_its_paid_members_were_refunded(django_capture_on_commit_callbacks):
    _, group, _ = failed_group_of(3, paid=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert group_failures.sweep().refunded == 2
    client = login(make_staff("boss", superuser=True))

    listing = client.get(reverse("admin:promotions_groupbuy_changelist")).content.decode()
    assert "2 / 3 / 4（已退款 2）" in listing

    page = client.get(reverse("admin:promotions_groupbuy_change", args=[group.pk])).content.decode()
    assert "2 / 3 / 4（已退款 2）" in page
    group.refresh_from_db()
    for moment in (group.deadline, group.closed_at, group.created_at):
        assert f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" in page
    member = group.members.get(is_leader=True)
    assert f"{timezone.localtime(member.joined_at):%Y-%m-%d %H:%M}" in page
    # Django's long form ("Dec. 4, 2026, 4:30 p.m." / "2026年12月4日 16:30") is gone from the page.
    assert not re.search(r"\d{4}年\d{1,2}月\d{1,2}日", page)


def test_an_open_group_shows_the_plain_counts():
    product = make_product(price=9900, stock=10)
    buy_in_group(make_buyer(), product, promotion=make_group(product, price=GROUP_PRICE, size=3))
    listing = login(make_staff("boss", superuser=True)).get(reverse("admin:promotions_groupbuy_changelist"))
    text = listing.content.decode()
    assert "0 / 1 / 3" in text and "已退款" not in text
