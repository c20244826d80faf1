"""搜索 typed on a full-width keyboard: ３１６ and ＳＰＦ５０ find the products named with 316
and SPF50 (they found nothing, and the page said 没有找到“３１６”相关的商品)."""

import pytest
from django.test import Client

from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "name"), [("３１６", "316不锈钢保温杯"), ("ＳＰＦ５０　防晒", "轻薄防晒乳 SPF50+")]
)
def test_full_width_letters_and_digits_find_the_product(typed, name):
    make_product(name)
    make_product("安吉白茶")
    html = Client().get("/search/", {"q": typed}).content.decode()
    assert name in html and 'data-testid="search-empty"' not in html
