"""Bulk 停用 / 启用 on the coupon list: one conditional UPDATE for the whole selection, counts
of what changed and what was already in that state (named), nothing done twice, buyers'
copies left exactly as switching one coupon in its form leaves them; the actions are
offered only to staff who may change coupons."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.promotions.models import BuyerCoupon, BuyerCouponStatus, Coupon
from fenxiao.promotions.services import manage
from fenxiao.testing import in_english, make_buyer, make_staff

from .factories import give_coupon, make_coupon

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:promotions_coupon_changelist")


def staff_client(*perms, superuser=False) -> Client:
    client = Client()
    client.force_login(make_staff("marketing", perms=list(perms), superuser=superuser))
    return client


def run(client, action: str, coupons) -> list[str]:
    reply = client.post(CHANGELIST, {"action": action, "_selected_action": [c.pk for c in coupons]})
    assert reply.status_code == 302
    said = [str(m) for m in get_messages(reply.wsgi_request)]
    client.get(reply.url)  # the list page shows them, so the next run starts with none
    return said


def active() -> dict[str, bool]:
    return dict(Coupon.objects.values_list("name", "is_active"))


# --- the service ---------------------------------------------------------------------------


def test_stopping_counts_only_the_coupons_it_moved_and_names_the_others():
    make_coupon(amount=500, name="新人券")
    make_coupon(amount=800, name="会员券")
    make_coupon(amount=300, name="旧券", is_active=False)
    untouched = make_coupon(amount=100, name="不在所选")

    outcome = manage.set_coupons_active(Coupon.objects.exclude(pk=untouched.pk), False)
    assert (outcome.changed, outcome.already, outcome.already_names) == (2, 1, ["旧券"])
    assert active() == {"新人券": False, "会员券": False, "旧券": False, "不在所选": True}

    # Again: nothing left to move.
    again = manage.set_coupons_active(Coupon.objects.exclude(pk=untouched.pk), False)
    assert (again.changed, again.already) == (0, 3)
    assert again.already_names == ["新人券", "会员券", "旧券"]

    restarted = manage.set_coupons_active(Coupon.objects.filter(name__in=["新人券", "不在所选"]), True)
    assert (restarted.changed, restarted.already, restarted.already_names) == (1, 1, ["不在所选"])
    assert active() == {"新人券": True, "会员券": False, "旧券": False, "不在所选": True}


def test_the_switch_is_one_update_whatever_the_selection():
    few = [make_coupon(amount=100, name=f"少{i}") for i in range(3)]
    with CaptureQueriesContext(connection) as small:
        assert (
            manage.set_coupons_active(Coupon.objects.filter(pk__in=[c.pk for c in few]), False).changed == 3
        )
    many = [make_coupon(amount=100, name=f"多{i}") for i in range(40)]
    with CaptureQueriesContext(connection) as large:
        assert (
            manage.set_coupons_active(Coupon.objects.filter(pk__in=[c.pk for c in many]), False).changed == 40
        )
    assert len(large.captured_queries) == len(small.captured_queries)
    updates = [q["sql"] for q in large.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1


def test_only_the_first_names_already_in_that_state_are_kept():
    for i in range(manage.ALREADY_NAMES + 5):
        make_coupon(amount=100, name=f"券{i:02d}", is_active=False)
    outcome = manage.set_coupons_active(Coupon.objects.all(), False)
    assert outcome.already == manage.ALREADY_NAMES + 5
    assert outcome.already_names == [f"券{i:02d}" for i in range(manage.ALREADY_NAMES)]


def test_buyers_copies_are_left_as_switching_one_coupon_leaves_them():
    """A stopped coupon's copies stay in the wallet, unused and with their validity; the
    coupon's own `is_active` is what checkout and claiming read."""
    coupon = make_coupon(amount=500, name="新人券")
    copy = give_coupon(make_buyer(), coupon)
    before = BuyerCoupon.objects.values("status", "valid_from", "valid_until").get(pk=copy.pk)

    manage.set_coupons_active(Coupon.objects.filter(pk=coupon.pk), False)
    assert BuyerCoupon.objects.values("status", "valid_from", "valid_until").get(pk=copy.pk) == before
    manage.set_coupons_active(Coupon.objects.filter(pk=coupon.pk), True)
    assert BuyerCoupon.objects.get(pk=copy.pk).status == BuyerCouponStatus.UNUSED
    assert Coupon.objects.get(pk=coupon.pk).issued == 0


# --- the list ------------------------------------------------------------------------------


def test_the_list_stops_and_restarts_the_selection_and_says_what_it_did():
    boss = staff_client(superuser=True)
    new, member = make_coupon(amount=500, name="新人券"), make_coupon(amount=800, name="会员券")
    old = make_coupon(amount=300, name="旧券", is_active=False)

    assert run(boss, "stop_selected", [new, member, old]) == [
        "已停用 2 个优惠券",
        "1 个优惠券原本已停用，未改动：旧券",
    ]
    assert active() == {"新人券": False, "会员券": False, "旧券": False}
    assert run(boss, "stop_selected", [new, old]) == ["2 个优惠券原本已停用，未改动：新人券、旧券"]

    assert run(boss, "restart_selected", [new, member]) == ["已启用 2 个优惠券"]
    assert run(boss, "restart_selected", [new, old]) == [
        "已启用 1 个优惠券",
        "1 个优惠券原本已启用，未改动：新人券",
    ]
    assert active() == {"新人券": True, "会员券": True, "旧券": True}


def test_a_long_list_of_coupons_already_in_that_state_ends_with_deng():
    boss = staff_client(superuser=True)
    coupons = [make_coupon(amount=100, name=f"券{i:02d}") for i in range(manage.ALREADY_NAMES + 1)]
    said = run(boss, "restart_selected", coupons)
    names = "、".join(f"券{i:02d}" for i in range(manage.ALREADY_NAMES))
    assert said == [f"{manage.ALREADY_NAMES + 1} 个优惠券原本已启用，未改动：{names} 等"]


def test_the_actions_are_offered_to_staff_who_may_change_coupons():
    make_coupon(amount=500, name="新人券")
    for client in (
        staff_client(superuser=True),
        staff_client("promotions.view_coupon", "promotions.change_coupon"),
    ):
        body = client.get(CHANGELIST).content.decode()
        assert "停用所选优惠券" in body and "启用所选优惠券" in body


def test_staff_who_may_only_view_coupons_neither_see_nor_run_them():
    coupon = make_coupon(amount=500, name="新人券")
    viewer = staff_client("promotions.view_coupon")
    reply = viewer.get(CHANGELIST)
    assert reply.status_code == 200
    body = reply.content.decode()
    assert "新人券" in body
    assert "停用所选优惠券" not in body and "启用所选优惠券" not in body

    viewer.post(CHANGELIST, {"action": "stop_selected", "_selected_action": [coupon.pk]})
    assert Coupon.objects.get(pk=coupon.pk).is_active


def test_the_actions_and_their_messages_in_english():
    boss = in_english(staff_client(superuser=True))
    new, old = make_coupon(amount=500, name="Welcome"), make_coupon(amount=300, name="Old", is_active=False)
    body = boss.get(CHANGELIST).content.decode()
    assert "Disable selected coupons" in body and "Enable selected coupons" in body
    assert run(boss, "stop_selected", [new, old]) == [
        "Disabled 1 coupons",
        "1 coupons were already disabled and left unchanged: Old",
    ]
    assert run(boss, "restart_selected", [new, old]) == ["Enabled 2 coupons"]
