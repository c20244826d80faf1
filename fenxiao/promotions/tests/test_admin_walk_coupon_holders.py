"""A coupon's 已领取 / 已使用 counts open the buyers who hold it: before, the only link from
a coupon was 发券记录 (staff hand-outs), so a coupon buyers claimed themselves showed
已领取 1 张 and a link to an empty log, with no page naming who holds or used it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from fenxiao.promotions.models import BuyerCoupon
from fenxiao.promotions.services import coupons
from fenxiao.testing import login, make_buyer, make_staff

from .factories import make_coupon

pytestmark = pytest.mark.django_db


def marketing():
    """Staff with the promotions pages but not buyers' whole phones."""
    user = make_staff("marketing")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="promotions"))
    return login(user)


def test_a_claimed_coupon_links_to_the_buyers_holding_it():
    coupon = make_coupon(amount=1000, min_spend=9900, name="新人专享券")
    other = make_coupon(amount=500, name="别的券")
    holder = make_buyer("13800001234", nickname="小橘")
    coupons.claim(holder, coupon.pk)
    coupons.claim(make_buyer("13800005678"), other.pk)
    client = marketing()

    holders = reverse("admin:promotions_buyercoupon_changelist") + f"?coupon__id__exact={coupon.pk}"
    page = client.get(reverse("admin:promotions_coupon_change", args=[coupon.pk])).content.decode()
    assert holders.replace("&", "&amp;") in page
    listing = client.get(reverse("admin:promotions_coupon_changelist")).content.decode()
    assert holders in listing.replace("&amp;", "&")

    reply = client.get(holders)
    assert reply.status_code == 200
    text = reply.content.decode()
    assert "小橘（138****1234）" in text  # masked: this staff member may not see phones
    assert "13800001234" not in text
    assert "买家领取" in text and "未使用" in text
    assert "138****5678" not in text  # the other coupon's holder


def test_the_holders_page_is_read_only_and_survives_odd_filters():
    coupon = make_coupon(amount=1000)
    copy = coupons.claim(make_buyer(), coupon.pk)
    client = marketing()
    base = reverse("admin:promotions_buyercoupon_changelist")
    for query in ("?coupon__id__exact=abc", "?status__exact=zzz", "?o=99", "?q=138"):
        assert client.get(base + query).status_code in (200, 302)
    detail = client.get(reverse("admin:promotions_buyercoupon_change", args=[copy.pk]))
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert client.post(reverse("admin:promotions_buyercoupon_change", args=[copy.pk]), {}).status_code == 403
    assert BuyerCoupon.objects.get(pk=copy.pk).status == BuyerCoupon.Status.UNUSED


@pytest.mark.parametrize("may_see_orders", [True, False])
def test_a_used_copy_names_its_order_linked_for_staff_who_may_see_orders(may_see_orders):
    """The link travels with the rows (one ModelAdmin serves every request at once)."""
    from fenxiao.orders.services import checkout
    from fenxiao.orders.services.promotions_port import Choice
    from fenxiao.testing import make_address, make_product

    coupon = make_coupon(amount=1000)
    buyer = make_buyer()
    copy = coupons.claim(buyer, coupon.pk)
    sku = make_product(price=5000).skus.get()
    order = checkout.place_order(
        buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk, choice=Choice(coupon=copy.pk)
    )
    user = make_staff("marketing")
    perms = Permission.objects.filter(content_type__app_label="promotions")
    if may_see_orders:
        perms = perms | Permission.objects.filter(codename="view_order")
    user.user_permissions.set(perms)
    text = login(user).get(reverse("admin:promotions_buyercoupon_changelist")).content.decode()
    link = f'href="{reverse("admin:orders_order_change", args=[order.pk])}"'
    assert order.number in text
    assert (link in text) is may_see_orders
