"""A 买家优惠券 record is titled by its coupon and the copy's number (新人券 · 券 #12), not
by the buyer's database id, which told staff nothing (新人券 · 7)."""

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_buyer, make_staff

from .factories import give_coupon, make_coupon

pytestmark = pytest.mark.django_db


def test_a_buyers_copy_is_titled_by_its_coupon_and_number():
    buyer = make_buyer("13800001234")
    copy = give_coupon(buyer, make_coupon(amount=1000, valid_days=7, name="新人券"))
    boss = login(make_staff("boss", superuser=True))

    page = boss.get(reverse("admin:promotions_buyercoupon_change", args=[copy.pk])).content.decode()
    assert f"新人券 · 券 #{copy.pk}" in page
    assert f"新人券 · {buyer.pk}<" not in page
