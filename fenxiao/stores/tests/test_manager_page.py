"""The store page (/store/): what a 店长 and a 导购 see, in a fixed number of queries."""

import pytest

from fenxiao.distribution.tests.helpers import buy, full_refund, sku
from fenxiao.stores.models import BindTarget
from fenxiao.testing import login, make_buyer, make_product

from .helpers import guide, make_store, scan, store_settings

pytestmark = pytest.mark.django_db


def shop(store, guides=2, members_each=2, price=10000):
    store_settings(bind_target=BindTarget.STAFF)
    product = make_product("门店商品", price=price)
    staff = [guide(store) for _ in range(guides)]
    for s in staff:
        for _ in range(members_each):
            buyer = make_buyer()
            scan(buyer, store, s)
            buy(buyer, (sku(product), 1))
    return staff, product


def test_manager_sees_members_sales_and_each_guides_figures():
    manager = make_buyer()
    store = make_store("黄龙店", manager=manager)
    guide(store, role="manager", distributor=False)  # someone else also manages
    from fenxiao.stores.services import staff as staff_service

    staff_service.add(store, manager.phone, "manager")
    (a, b), product = shop(store)
    walk_in = make_buyer()
    scan(walk_in, store)  # store QR: a member, bound to the store's own account
    order = buy(walk_in, (sku(product), 2))
    full_refund(order)

    page = login(manager).get("/store/")

    assert page.status_code == 200
    text = page.content.decode()
    assert '<b id="members">5</b>' in text
    assert '<b id="orders">5</b>' in text
    assert '<b id="sales">¥400.00</b>' in text  # 4 × ¥100; the refunded order counts ¥0
    assert f"{a.user.display_name}" in text
    assert "会员 2 · 订单 2 · 销售额 ¥200.00 · 佣金 ¥20.00" in text  # 10% of each ¥100
    assert text.count('class="list-item member"') == 5


def test_guide_sees_only_their_own_figures():
    store = make_store(manager=make_buyer())
    (a, _b), _ = shop(store)
    page = login(a.user).get("/store/")
    text = page.content.decode()
    assert page.status_code == 200
    assert '<b id="members">2</b>' in text and '<b id="sales">¥200.00</b>' in text
    assert "我的门店码" in text and "¥20.00" in text
    qr = login(a.user).get("/store/qr.png")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/png"


def test_a_buyer_who_is_not_staff_is_refused():
    page = login(make_buyer()).get("/store/")
    assert page.status_code == 403
    assert "您还不是门店员工" in page.content.decode()


def test_store_page_query_count_is_fixed(django_assert_max_num_queries):
    manager = make_buyer()
    store = make_store(manager=manager)
    shop(store, guides=1, members_each=1)
    browser = login(manager)
    # session, user, roles, managed stores, staff, distributors, member counts, recent
    # members, sales by seller, pickups, the till's sales, commission by guide.
    budget = 14
    with django_assert_max_num_queries(budget):
        assert browser.get("/store/").status_code == 200
    shop(store, guides=4, members_each=3)
    with django_assert_max_num_queries(budget):
        assert browser.get("/store/").status_code == 200


def test_manager_sees_the_tills_sales_net_of_returns():
    # A store with a till sells most at it: the page showed online orders only.
    from datetime import timedelta

    from django.utils import timezone

    from fenxiao.stores.models import OfflineSale

    manager = make_buyer()
    store, other = make_store("黄龙店", manager=manager), make_store("西溪店", manager=make_buyer())
    (a, _b), _ = shop(store)
    now = timezone.now()
    for number, total, refunded, when, at in (
        ("T-1", 12000, 0, now, store),
        ("T-2", 8000, 3000, now - timedelta(days=2), store),
        ("T-OLD", 50000, 0, now - timedelta(days=40), store),  # before the 30 days
        ("T-ELSEWHERE", 70000, 0, now, other),
    ):
        OfflineSale.objects.create(
            store=at, sale_no=number, total=total, refunded_amount=refunded, sold_at=when
        )
    text = login(manager).get("/store/").content.decode()
    assert '<b id="till-amount">¥170.00</b>' in text  # 120 + 80 − 30
    assert '<b id="sales">¥400.00</b>' in text  # online sales as before
    # A 导购's own page has no till figure (the till names no guide).
    assert 'id="till-amount"' not in login(a.user).get("/store/").content.decode()
    assert '<b id="till-amount">¥700.00</b>' in login(other.manager).get("/store/").content.decode()
    # A store without till sales shows no till row.
    bare = make_store("空店", manager=make_buyer())
    assert 'id="till-amount"' not in login(bare.manager).get("/store/").content.decode()
