"""我的足迹: the signed-in buyer's browsing trail, in the API and on the H5 page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.analytics.models import ProductView
from fenxiao.testing import ApiClient, api_for, assert_refused, make_buyer, make_product

pytestmark = pytest.mark.django_db


def browse(client, *products):
    for product in products:
        assert client.get(f"/products/{product.pk}/").status_code == 200


def signed_in(buyer) -> Client:
    client = Client()
    client.force_login(buyer)
    return client


def test_the_trail_lists_only_the_buyers_own_views_newest_first():
    shirt, shoes, hat = (
        make_product("衬衫", price=1990),
        make_product("跑鞋", price=29900),
        make_product("帽子"),
    )
    me, other = make_buyer(), make_buyer()
    browse(signed_in(me), shirt, shoes, shirt)
    browse(signed_in(other), hat)
    browse(Client(), hat)  # signed out: no trail
    # Yesterday's view of the hat, from an earlier day.
    yesterday = timezone.now() - timedelta(days=1)
    ProductView.objects.create(
        buyer=me,
        product=hat,
        day=timezone.localdate(yesterday),
        first_viewed_at=yesterday,
        last_viewed_at=yesterday,
    )
    reply = api_for(me).get("/me/trail")
    assert reply.status_code == 200
    body = reply.json()
    assert body["count"] == 3
    items = body["items"]
    assert [i["name"] for i in items] == ["衬衫", "跑鞋", "帽子"]
    assert items[0]["views"] == 2 and items[0]["price"] == 1990 and items[0]["price_display"] == "¥19.90"
    assert items[0]["product_id"] == shirt.pk and items[0]["available"] is True
    assert items[2]["day"] == timezone.localdate(yesterday).isoformat()
    assert items[0]["last_viewed_at"] >= items[1]["last_viewed_at"]
    assert [i["name"] for i in api_for(other).get("/me/trail").json()["items"]] == ["帽子"]


def test_the_trail_is_paged():
    me = make_buyer()
    browse(signed_in(me), *[make_product(f"商品{n}") for n in range(5)])
    api = api_for(me)
    first = api.get("/me/trail", page_size=2).json()
    last = api.get("/me/trail", page_size=2, page=3).json()
    assert first["count"] == 5 and len(first["items"]) == 2 and len(last["items"]) == 1
    assert first["items"][0]["name"] == "商品4" and last["items"][0]["name"] == "商品0"
    assert_refused(api.get("/me/trail", page=0), 422, "INVALID_INPUT")
    assert_refused(api.get("/me/trail", page_size=1000), 422, "INVALID_INPUT")


def test_clearing_the_trail_removes_only_the_buyers_own():
    product = make_product()
    me, other = make_buyer(), make_buyer()
    browse(signed_in(me), product)
    browse(signed_in(other), product)
    reply = api_for(me).delete("/me/trail")
    assert reply.status_code == 204
    assert api_for(me).get("/me/trail").json()["count"] == 0
    assert api_for(other).get("/me/trail").json()["count"] == 1


def test_the_trail_needs_a_signed_in_buyer():
    assert_refused(ApiClient().get("/me/trail"), 401, "UNAUTHORIZED")
    assert_refused(ApiClient().delete("/me/trail"), 401, "UNAUTHORIZED")
    assert_refused(ApiClient("not-a-token").get("/me/trail"), 401, "UNAUTHORIZED")
    assert api_for(make_buyer()).post("/me/trail").status_code == 405


def test_the_session_caller_needs_the_csrf_token_to_clear():
    me = make_buyer()
    browse(signed_in(me), make_product())
    client = Client(enforce_csrf_checks=True)
    client.force_login(me)
    assert client.delete("/api/v1/me/trail").status_code == 403
    assert ProductView.objects.filter(buyer=me).count() == 1


def test_the_api_product_detail_with_a_token_joins_the_trail():
    product = make_product("API 商品")
    me = make_buyer()
    api = api_for(me)
    assert api.get(f"/products/{product.pk}").status_code == 200
    assert [i["name"] for i in api.get("/me/trail").json()["items"]] == ["API 商品"]


def test_the_trail_page_groups_products_by_day_and_is_linked_from_me():
    me = make_buyer()
    client = signed_in(me)
    assert 'href="/me/trail/"' in client.get("/me/").content.decode()
    empty = client.get("/me/trail/").content.decode()
    assert "还没有浏览过商品" in empty
    shirt, hat = make_product("白衬衫", price=1990), make_product("草帽", price=5900)
    browse(client, shirt)
    earlier = timezone.now() - timedelta(days=2)
    ProductView.objects.create(
        buyer=me,
        product=hat,
        day=timezone.localdate(earlier),
        first_viewed_at=earlier,
        last_viewed_at=earlier,
    )
    page = client.get("/me/trail/")
    assert page.status_code == 200
    html = page.content.decode()
    before = timezone.localdate(earlier)
    assert "今天" in html and f"{before.month}月{before.day}日" in html
    assert html.index("白衬衫") < html.index("草帽")  # newest day first
    assert "¥19.90" in html and "¥59.00" in html
    assert html.count('data-testid="trail-day"') == 2


def test_the_trail_page_clears_and_needs_sign_in():
    assert Client().get("/me/trail/")["Location"].startswith("/login/")
    me = make_buyer()
    client = signed_in(me)
    browse(client, make_product("白衬衫"))
    assert client.get("/me/trail/clear/").status_code == 405
    reply = client.post("/me/trail/clear/", follow=True)
    assert "足迹已清空" in reply.content.decode() and "还没有浏览过商品" in reply.content.decode()
    assert not ProductView.objects.filter(buyer=me).exists()


def test_the_trail_page_query_count_does_not_grow_with_the_trail(django_assert_max_num_queries):
    me = make_buyer()
    client = signed_in(me)
    browse(client, make_product())
    client.get("/me/trail/")
    with CaptureQueriesContext(connection) as few:
        client.get("/me/trail/")
    budget = len(few.captured_queries)
    assert 0 < budget <= 12
    browse(client, *[make_product() for _ in range(8)])
    with django_assert_max_num_queries(budget):
        assert client.get("/me/trail/").status_code == 200
