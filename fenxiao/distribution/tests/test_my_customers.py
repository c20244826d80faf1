"""我的客户: a distributor reads the buyers bound to them now, newest first, paged by key, each
with the orders paid through them (refunds taken off) — on the H5 center and through the API,
by display name only, in a fixed number of queries per page."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fenxiao.customers.models import User
from fenxiao.distribution.models import TouchSource
from fenxiao.testing import (
    ApiClient,
    api_for,
    assert_refused,
    chinese_left,
    in_english,
    make_buyer,
    make_product,
)

from .helpers import (
    bound_buyer,
    buy,
    configure,
    full_refund,
    make_distributor,
    sku,
    suspend,
    travel,
)

pytestmark = pytest.mark.django_db


def h5(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_bound_buyers_newest_first_with_what_they_bought_through_me():
    me, rival = make_distributor(), make_distributor()
    tea = sku(make_product("龙井茶", price=12_000, stock=20))
    loyal = bound_buyer(me)
    User.objects.filter(pk=loyal.pk).update(nickname="爱喝茶的猫")
    buy(loyal, (tea, 1))
    buy(loyal, (tea, 2))
    refunded = bound_buyer(me, TouchSource.POSTER)
    full_refund(buy(refunded, (tea, 1)))
    newest = bound_buyer(me, TouchSource.QR)
    bound_buyer(rival)

    items = api_for(me.user).get("/distribution/customers").json()["items"]
    assert [i["name"] for i in items] == [newest.display_name, refunded.display_name, "爱喝茶的猫"]
    assert (items[2]["orders"], items[2]["spent"]) == (2, 36_000) and items[2]["last_paid_at"]
    assert (items[1]["orders"], items[1]["spent"], items[1]["source_display"]) == (1, 0, "海报")
    assert (items[0]["orders"], items[0]["spent"], items[0]["last_paid_at"]) == (0, 0, None)
    assert "****" in items[0]["name"] and newest.phone not in str(items)  # never a whole phone

    page = h5(me.user).get("/d/customers/").content.decode()
    assert page.count('data-testid="customer"') == 3
    assert "已下单 2 笔 · 实付 ¥360.00" in page and "尚未下单" in page and "二维码" in page
    assert 'href="/d/customers/"' in h5(me.user).get("/d/").content.decode()


def test_a_lapsed_binding_is_no_longer_a_customer():
    configure(bind_mode="expiring", bind_days=7)
    me = make_distributor()
    bound_buyer(me)
    with travel(timedelta(days=8)):
        assert api_for(me.user).get("/distribution/customers").json()["items"] == []
        assert "还没有绑定客户" in h5(me.user).get("/d/customers/").content.decode()


def test_pages_by_key_in_the_same_queries_however_many_customers():
    me = make_distributor()
    client = api_for(me.user)
    tea = sku(make_product(price=1_000, stock=100))
    for _ in range(3):
        buy(bound_buyer(me), (tea, 1))
    client.get("/distribution/customers")
    with CaptureQueriesContext(connection) as few:
        client.get("/distribution/customers", page_size=2)
    for _ in range(6):
        buy(bound_buyer(me), (tea, 1))
    with CaptureQueriesContext(connection) as many:
        first = client.get("/distribution/customers", page_size=2).json()
    assert len(many) == len(few)
    seen, cursor = [i["id"] for i in first["items"]], first["next"]
    while cursor:
        page = client.get("/distribution/customers", page_size=2, before=cursor).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
    assert len(seen) == len(set(seen)) == 9 and seen == sorted(seen, reverse=True)


def test_only_a_distributor_and_bad_cursors_are_422():
    assert ApiClient().get("/distribution/customers").status_code == 401
    assert_refused(api_for(make_buyer()).get("/distribution/customers"), 403, "NOT_A_DISTRIBUTOR")
    me = make_distributor()
    for bad in ({"before": "0"}, {"before": "x"}, {"page_size": "1000"}):
        assert_refused(api_for(me.user).get("/distribution/customers", **bad), 422, "INVALID_INPUT")
    assert h5(make_buyer()).get("/d/customers/")["Location"] == "/d/"
    for bad in ("x", "-1", "9" * 40):
        assert h5(me.user).get("/d/customers/", {"before": bad}).status_code == 200


def test_a_suspended_distributor_still_reads_their_customers():
    me = make_distributor()
    bound_buyer(me)
    suspend(me)
    assert len(api_for(me.user).get("/distribution/customers").json()["items"]) == 1
    assert h5(me.user).get("/d/customers/").status_code == 200


def test_the_page_reads_in_english():
    me = make_distributor()
    buyer = bound_buyer(me)
    buy(buyer, (sku(make_product(price=1_000, stock=5)), 1))
    page = in_english(h5(me.user)).get("/d/customers/").content.decode()
    assert "My customers" in page and "1 order · paid ¥10.00" in page
    assert chinese_left(page) == []
    empty = in_english(h5(make_distributor().user)).get("/d/customers/").content.decode()
    assert chinese_left(empty) == []
