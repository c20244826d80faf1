"""A percentage coupon reads the way Chinese shops print it, N折 (what is paid: 10% off is
9折, 15% off 8.5折), on the backend as in the API and on share cards, and as "10% off" in
English. The backend's coupon form explains the number typed in those terms too."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from fenxiao.promotions.services import coupons
from fenxiao.testing import ApiClient, make_staff

from .factories import make_coupon

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss() -> Client:
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    return client


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"discount_bp": 1000, "min_spend": 5000}, "满¥50.00打9折"),
        ({"discount_bp": 1000, "min_spend": 5000, "max_discount": 3000}, "满¥50.00打9折，最多减¥30.00"),
        ({"discount_bp": 1500}, "无门槛8.5折"),
        ({"discount_bp": 1250, "max_discount": 2000}, "无门槛8.75折，最多减¥20.00"),
        ({"amount": 1000, "min_spend": 5000}, "满¥50.00减¥10.00"),
    ],
)
def test_coupon_summaries_in_chinese(fields, text):
    assert coupons.summary(make_coupon(**fields)) == text


def test_english_says_what_comes_off():
    with translation.override("en"):
        assert coupons.discount_words(1000) == "10% off"
        assert coupons.discount_words(1250) == "12.5% off"
        assert coupons.summary(make_coupon(discount_bp=1500)) == "15% off, no minimum spend"


def test_the_backend_list_and_the_api_word_a_coupon_alike(boss):
    make_coupon(discount_bp=1000, min_spend=5000, max_discount=3000, name="会员券")
    page = boss.get(reverse("admin:promotions_coupon_changelist")).content.decode()
    assert "满¥50.00打9折，最多减¥30.00" in page
    assert "% off" not in page and "10.00 %" not in page
    (listed,) = ApiClient().get("/coupons").json()
    assert listed["summary"] == "满¥50.00打9折，最多减¥30.00"


def test_the_coupon_form_explains_the_rate_in_zhe(boss):
    page = boss.get(reverse("admin:promotions_coupon_add")).content.decode()
    assert "如 10 表示减 10%，即 9折" in page
    assert "% off" not in page
