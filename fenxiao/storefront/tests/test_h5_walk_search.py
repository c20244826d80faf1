"""搜索 as buyers type it: words apart find the product that has them all."""

import pytest
from django.test import Client

from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def test_words_apart_find_the_product_with_every_word():
    """西湖 龙井 found nothing: the whole phrase, space included, was looked up in the name."""
    make_product("明前西湖龙井 250g")
    make_product("安吉白茶")
    html = Client().get("/search/", {"q": "西湖  龙井"}).content.decode()
    assert "明前西湖龙井 250g" in html
    html = Client().get("/search/", {"q": "龙井 250g"}).content.decode()
    assert "明前西湖龙井 250g" in html
    # Every word must match: 西湖 白茶 is neither product.
    html = Client().get("/search/", {"q": "西湖 白茶"}).content.decode()
    assert "明前西湖龙井" not in html and "安吉白茶" not in html
