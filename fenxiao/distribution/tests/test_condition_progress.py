"""满足条件: a buyer who is not a distributor yet sees what the condition is and how far they
are, on the H5 apply page (/d/) and in the API's profile, counted after receipt and net of
refunds; once they meet it, the apply button lets them in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.distribution.models import DistributionSettings, Distributor
from fenxiao.distribution.services import condition, config
from fenxiao.orders.models import Order
from fenxiao.testing import api_for, chinese_left, in_english, login, make_buyer, make_product

from .helpers import buy, receive, ship, sku, staff_refund

pytestmark = pytest.mark.django_db


def page(buyer) -> str:
    reply = login(buyer).get("/d/")
    assert reply.status_code == 200
    return reply.content.decode()


def under(**changes):
    """The condition set without the enrolment a backend save queues: the buyer is measured."""
    DistributionSettings.objects.filter(pk=config.current().pk).update(enable_mode="condition", **changes)


def test_lifetime_spend_shows_spent_and_what_is_left_after_receipt_net_of_refunds():
    lamp = make_product("台灯", price=16000)
    buyer = make_buyer()
    receive(buy(buyer, (sku(lamp), 2)))  # ¥320 received
    kept = receive(buy(buyer, (sku(lamp), 1)))
    staff_refund(kept, {"line_id": kept.lines.get().pk})  # returned: does not count
    ship(buy(buyer, (sku(lamp), 1)))  # paid, not received yet: does not count
    under(condition_kind="lifetime_spend", condition_amount=50000)

    html = page(buyer)
    assert "累计消费满 ¥500.00 即可成为分销商" in html
    assert "已消费 ¥320.00，还差 ¥180.00" in html
    assert 'aria-valuenow="64"' in html  # the bar
    assert "订单确认收货后计入" in html
    assert "disabled" in html.split("申请成为分销商")[0].rsplit("<button", 1)[1]

    reply = api_for(buyer).get("/distribution/profile").json()
    assert reply["can_apply"] is True
    assert {k: reply["condition"][k] for k in ("kind", "target", "done", "left", "percent", "met")} == {
        "kind": "lifetime_spend",
        "target": 50000,
        "done": 32000,
        "left": 18000,
        "percent": 64,
        "met": False,
    }
    assert reply["condition"]["detail"] == "已消费 ¥320.00，还差 ¥180.00"


def test_completed_orders_count_and_a_buyer_who_qualifies_applies_from_the_page():
    lamp = make_product("台灯", price=5000)
    buyer = make_buyer()
    receive(buy(buyer, (sku(lamp), 1)))
    under(condition_kind="completed_orders", condition_orders=3)
    html = page(buyer)
    assert "完成 3 笔订单即可成为分销商" in html and "已完成 1 笔，还差 2 笔" in html

    # Met, but no account yet (the enrolment has not run): the button works as before.
    DistributionSettings.objects.update(condition_orders=1)
    html = page(buyer)
    assert "已完成 1 笔，已满足条件" in html and 'aria-valuenow="100"' in html
    reply = login(buyer).post("/d/", {})
    assert reply.status_code == 302
    assert Distributor.objects.get(user=buyer).status == "active"
    # A distributor now: the profile carries no condition.
    assert api_for(buyer).get("/distribution/profile").json()["condition"] is None


def test_bought_products_lists_a_few_listed_products_on_sale_with_links():
    tea, cake = make_product("明前龙井", price=20000), make_product("普洱茶饼", price=8000)
    gone = make_product("下架的茶", price=1000, listed=False)
    cup = make_product("茶杯", price=3000)  # not a listed product
    config.current().condition_products.set([tea, cake, gone])
    under(condition_kind="bought_products")
    buyer = make_buyer()

    html = page(buyer)
    assert "购买任一指定商品即可成为分销商" in html and "尚未购买指定商品" in html
    assert f'href="/products/{tea.pk}/"' in html and f'href="/products/{cake.pk}/"' in html
    assert "下架的茶" not in html  # not on sale: no way in
    assert 'role="progressbar"' not in html  # bought or not: no bar
    products = api_for(buyer).get("/distribution/profile").json()["condition"]["products"]
    assert [p["name"] for p in products] == ["明前龙井", "普洱茶饼"]

    receive(buy(buyer, (sku(cup), 1)))
    assert condition.progress(buyer).met is False
    receive(buy(buyer, (sku(tea), 1)))
    # Receiving it makes them a distributor at once (满足条件 at receipt).
    assert Distributor.objects.get(user=buyer).status == "active"


def test_the_progress_reads_in_english():
    buyer = make_buyer()
    under(condition_kind="lifetime_spend", condition_amount=50000)
    client = in_english(login(buyer))
    html = client.get("/d/").content.decode()
    assert "Spend ¥500.00 in total to become a distributor" in html
    assert "Spent ¥0.00, ¥500.00 to go" in html
    assert chinese_left(html) == []


def test_the_progress_page_costs_the_same_whatever_the_orders():
    lamp = make_product("台灯", price=5000)
    buyer = make_buyer()
    under(condition_kind="completed_orders", condition_orders=9)
    browser = login(buyer)
    counts = []
    for received in (1, 4):
        while Order.objects.filter(buyer=buyer, status="completed").count() < received:
            receive(buy(buyer, (sku(lamp), 1)))
        browser.get("/d/")  # the day's first visit is recorded once
        with CaptureQueriesContext(connection) as queries:
            reply = browser.get("/d/")
        assert f"已完成 {received} 笔" in reply.content.decode()
        counts.append(len(queries))
    assert counts[0] == counts[1]
