"""Two buyers complete a group (拼团) through a shared link, by tapping, at phone size: a
distributor opens a group at checkout and pays, shares the group page, a friend opens the
link, registers (and is bound to the sharer), joins at the group price and pays; the group
succeeds and both orders may ship."""

import pytest

from fenxiao.distribution.models import CustomerBinding
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.orders.models import Order
from fenxiao.promotions.models import GroupBuy
from fenxiao.promotions.tests.factories import make_group
from fenxiao.promotions.tests.test_groups import buy_in_group
from fenxiao.testing import make_address, make_buyer, pay_in_sandbox

from .test_browser import loaded, product_with_image, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pay(phone) -> None:
    page = phone.page
    page.get_by_role("button", name="提交订单").click()
    page.get_by_role("button", name="立即支付").click()
    page.get_by_test_id("pay-amount").wait_for()
    page.get_by_role("button", name="确认支付").click()
    page.get_by_test_id("pay-success").wait_for()


def test_a_shared_group_link_binds_the_friend_and_leads_to_checkout(phones, settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    tea = product_with_image(price=9900)
    promotion = make_group(tea, price=5900, size=3, name="三人团")
    sharer = make_distributor(user=make_buyer("13500000011", nickname="阿明"))
    order = buy_in_group(sharer.user, tea, promotion=promotion)
    pay_in_sandbox(order)
    group = GroupBuy.objects.get()

    friend = phones("group-link")
    page = friend.page
    page.goto(f"/r/{sharer.referral_code}?to=/groups/{group.pk}/")
    assert page.get_by_test_id("seats-left").inner_text() == "2"
    assert page.get_by_test_id("empty-seat").count() == 2
    page.get_by_role("link", name="¥59.00 参团").click()
    page.get_by_role("link", name="立即注册").click()
    register(friend, "13500000012")
    assert CustomerBinding.objects.get(buyer__phone="13500000012").distributor_id == sharer.pk
    page.goto(f"/groups/{group.pk}/")
    page.get_by_test_id("join").click()
    page.wait_for_url(f"**/checkout/?sku={tea.skus.get().pk}&qty=1&join={group.pk}")


def test_two_buyers_complete_a_group_through_a_shared_link(phones, settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = live_server.url
    tea = product_with_image(price=9900)
    sku = tea.skus.get()
    promotion = make_group(tea, price=5900, size=2, name="两人拼团")
    sharer = make_distributor(user=make_buyer("13500000001", nickname="阿明"))
    make_address(sharer.user)

    # The distributor opens a group at checkout (group price) and pays on the sandbox.
    leader = phones("group-leader")
    page = leader.page
    page.goto("/login/")
    page.get_by_label("手机号").fill("13500000001")
    page.get_by_label("密码").fill("Buyer#2026")
    page.get_by_role("button", name="登录").click()
    page.goto(f"/checkout/?sku={sku.pk}&qty=1&group={promotion.pk}")
    assert page.get_by_test_id("checkout-total").inner_text() == "¥59.00"
    pay(leader)
    group = GroupBuy.objects.get()
    assert group.paid_count == 1

    # The group page: prices, the leader and one empty seat, the countdown, the share link.
    page.goto(f"/groups/{group.pk}/")
    assert page.get_by_test_id("group-price").inner_text() == "¥59.00"
    assert page.get_by_test_id("seats-left").inner_text() == "1"
    assert page.get_by_test_id("member").count() == 1 and page.get_by_test_id("empty-seat").count() == 1
    page.wait_for_function(
        "() => /^剩余23:59:\\d\\d结束$/.test("
        "document.querySelector('[data-countdown]').textContent.replace(/\\s+/g, ''))"
    )
    loaded(page, "img")
    leader.shot("group-open")
    link = page.get_by_label("拼团链接").input_value()
    assert link.startswith(f"{live_server.url}/r/{sharer.referral_code}")

    # A friend opens the shared link, signs up from the 参团 button, joins and pays.
    friend = phones("group-friend")
    page = friend.page
    page.goto(link)
    page.get_by_test_id("join").wait_for()
    friend.shot("group-shared")
    page.get_by_test_id("join").click()
    page.get_by_role("link", name="立即注册").click()
    register(friend, "13500000002")
    assert CustomerBinding.objects.get(buyer__phone="13500000002").distributor_id == sharer.pk
    page.goto(f"/groups/{group.pk}/")
    page.get_by_test_id("join").click()
    page.get_by_role("link", name="+ 添加收货地址").click()
    page.get_by_label("收货人").fill("陈朋友")
    page.get_by_label("手机号").fill("13500000002")
    page.get_by_label("省", exact=True).select_option("上海市")
    page.get_by_label("市", exact=True).select_option("上海市")
    page.get_by_label("区/县", exact=True).select_option("浦东新区")
    page.get_by_label("详细地址").fill("世纪大道 100 号")
    page.get_by_role("button", name="保存").click()
    assert page.get_by_test_id("checkout-total").inner_text() == "¥59.00"
    pay(friend)

    # Full: the group succeeded, both orders are released for shipping.
    page.goto(f"/groups/{group.pk}/")
    page.get_by_text("拼团成功").first.wait_for()
    assert page.get_by_test_id("member").count() == 2
    friend.shot("group-succeeded")
    group.refresh_from_db()
    assert (group.status, group.paid_count) == ("succeeded", 2)
    orders = Order.objects.filter(group_member__group=group)
    assert sorted(o.total for o in orders) == [5900, 5900]
    assert not any(o.awaiting_group for o in orders)
    assert all(o.events.filter(kind="group_succeeded").exists() for o in orders)
