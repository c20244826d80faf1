"""搜索 as buyers type it: words apart find the product that has them all, and a search that
finds nothing leads on (best sellers, 分类) instead of ending the visit on an empty page."""

import pytest
from django.test import Client

from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def test_words_apart_find_the_product_with_every_word():
    """西湖 龙井 found nothing: the whole phrase, space included, was looked up in the name."""
    make_product("明前西湖龙井 250g")
    make_product("安吉白茶")
    html = Client().get("/search/", {"q": "西湖  龙井"}).content.decode()
    assert "明前西湖龙井 250g" in html and "search-empty" not in html
    html = Client().get("/search/", {"q": "龙井 250g"}).content.decode()
    assert "明前西湖龙井 250g" in html
    # Every word must match: 西湖 白茶 is neither product.
    html = Client().get("/search/", {"q": "西湖 白茶"}).content.decode()
    assert 'data-testid="search-empty"' in html


def test_nothing_found_offers_best_sellers_and_categories(django_assert_max_num_queries):
    """没有找到“zzzz”相关的商品 and an empty screen: no next step but the back button."""
    make_product("冻干咖啡粉")
    make_product("海苔夹心脆")
    client = Client()
    with django_assert_max_num_queries(12):
        html = client.get("/search/", {"q": "zzzz"}).content.decode()
    empty = html[html.index('data-testid="search-empty"') :]
    assert "换个关键词试试" in empty and 'href="/categories/"' in empty
    suggestions = html[html.index('data-testid="search-suggestions"') :]
    assert "为你推荐" in suggestions
    assert "冻干咖啡粉" in suggestions and "海苔夹心脆" in suggestions


def test_a_search_with_results_shows_no_suggestions():
    make_product("冻干咖啡粉")
    html = Client().get("/search/", {"q": "咖啡"}).content.decode()
    assert "冻干咖啡粉" in html
    assert "search-suggestions" not in html and "search-empty" not in html
