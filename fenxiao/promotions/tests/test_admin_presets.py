"""The add forms of 定向推送, 优惠券 and 活动 may be preset from the address (?coupon=3,
?products=1,2). A preset that is no id, or a date-and-time typed as text, is dropped: the
form opens without it instead of a 500; a real id stays preset."""

import pytest

from fenxiao.testing import login, make_product, make_staff

from .factories import make_coupon

pytestmark = pytest.mark.django_db

DROPPED = [
    ("push", "coupon=abc", "coupon"),
    ("push", "product=abc", "product"),
    ("push", "product=1,abc", "product"),
    ("push", "coupon=99999999999999999999999", "coupon"),
    ("push", "segment=abc", "segment"),
    ("coupon", "products=abc", "products"),
    ("coupon", "categories=abc,-1,%EF%BC%91", "categories"),
    ("coupon", "products=99999999999999999999999", "products"),
    ("coupon", "valid_from=abc", "valid_from"),
    ("coupon", "valid_until=2026-01-01 10:00", "valid_until"),
    ("promotion", "products=abc", "products"),
    ("promotion", "kind=group&categories=abc", "categories"),
    ("promotion", "starts_at=abc", "starts_at"),
    ("promotion", "kind=spend&ends_at=2026-01-01", "ends_at"),
]


def _initial(model, query):
    client = login(make_staff(superuser=True))
    page = client.get(f"/backend/promotions/{model}/add/?{query}")
    assert page.status_code == 200, query
    return page, page.context["adminform"].form.initial


@pytest.mark.parametrize("model, query, name", DROPPED)
def test_a_preset_that_is_no_id_is_dropped(model, query, name):
    _page, initial = _initial(model, query)
    assert name not in initial


def test_a_push_keeps_a_preset_coupon_and_product():
    coupon = make_coupon(name="满100减10")
    product = make_product("龙井礼盒")
    page, initial = _initial("push", f"coupon={coupon.pk}&product={product.pk}")
    assert (initial["coupon"], initial["product"]) == (str(coupon.pk), str(product.pk))
    assert "龙井礼盒" in page.content.decode()


def test_a_coupon_keeps_the_preset_products_that_are_ids():
    product = make_product("龙井礼盒")
    _page, initial = _initial("coupon", f"products={product.pk},abc")
    assert initial["products"] == [str(product.pk)]
