"""Segments by what buyers did with products: viewed (their browsing trail), bought (paid
order lines) and viewed but not bought, for chosen products or any, within N days; the
backend's 商品 picker searches products by name."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.analytics.models import ProductView
from fenxiao.customers.errors import SegmentInvalid
from fenxiao.customers.models import Segment
from fenxiao.customers.services import segments
from fenxiao.distribution.tests.helpers import buy, sku
from fenxiao.testing import make_buyer, make_product

from .crm import finance, operations

pytestmark = pytest.mark.django_db


def viewed(buyer, product, days_ago=0):
    moment = timezone.now() - timedelta(days=days_ago)
    ProductView.objects.create(
        buyer=buyer, product=product, day=moment.date(), first_viewed_at=moment, last_viewed_at=moment
    )


@pytest.fixture
def shop():
    tea, coffee = make_product("龙井茶", price=9900, stock=50), make_product("挂耳咖啡", price=4900, stock=50)
    looker, buyer, other, stale, nobody = (make_buyer() for _ in range(5))
    viewed(looker, tea)  # looked at the tea, bought nothing
    viewed(buyer, tea)
    buy(buyer, (sku(tea), 1))  # looked and bought
    buy(other, (sku(coffee), 1))  # bought coffee without looking (came from a link)
    viewed(stale, tea, days_ago=20)  # looked at the tea weeks ago
    return {"tea": tea, "coffee": coffee, "looker": looker, "buyer": buyer, "other": other, "stale": stale}


def ids(criteria) -> set[int]:
    return set(segments.members(Segment(name="x", criteria=segments.clean_criteria(criteria))))


def test_viewed_bought_and_viewed_but_not_bought(shop):
    s = shop
    tea = [s["tea"].pk]
    pk = {k: s[k].pk for k in ("looker", "buyer", "other", "stale")}
    assert ids({"product_action": "viewed", "products": tea}) == {pk["looker"], pk["buyer"], pk["stale"]}
    assert ids({"product_action": "viewed", "products": tea, "product_within": 7}) == {
        pk["looker"],
        pk["buyer"],
    }
    assert ids({"product_action": "bought", "products": tea}) == {pk["buyer"]}
    assert ids({"product_action": "bought"}) == {pk["buyer"], pk["other"]}
    assert ids({"product_action": "bought", "products": [s["coffee"].pk], "product_within": 1}) == {
        pk["other"]
    }
    # The browse that did not convert: the ones to send a coupon for the tea.
    assert ids({"product_action": "viewed_not_bought", "products": tea}) == {pk["looker"], pk["stale"]}
    assert ids({"product_action": "viewed_not_bought", "product_within": 7}) == {pk["looker"]}


def test_not_bought_is_per_product_and_counts_till_sales_but_not_full_refunds(shop):
    from fenxiao.orders.models import OrderLine
    from fenxiao.stores.models import Store
    from fenxiao.stores.pos_models import OfflineSale, OfflineSaleLine

    tea, coffee = shop["tea"], shop["coffee"]
    both = [tea.pk, coffee.pk]
    # Viewed the tea, bought the coffee: the tea is still a browse that did not convert.
    switcher = make_buyer()
    viewed(switcher, tea)
    buy(switcher, (sku(coffee), 1))
    # Viewed the tea online, bought it at the store's till: bought.
    member = make_buyer()
    viewed(member, tea)
    store = Store.objects.create(
        name="西湖店", province="浙江省", city="杭州市", district="西湖区", address_detail="1号"
    )
    sale = OfflineSale.objects.create(
        store=store, sale_no="S1", buyer=member, total=9900, sold_at=timezone.now()
    )
    OfflineSaleLine.objects.create(sale=sale, sku_code="T", sku=sku(tea), quantity=1, amount=9900)
    # Bought the tea and returned all of it: not bought after all.
    returner = make_buyer()
    viewed(returner, tea)
    order = buy(returner, (sku(tea), 1))
    OrderLine.objects.filter(order=order).update(refunded_quantity=1)
    members = ids({"product_action": "viewed_not_bought", "products": both})
    assert {switcher.pk, returner.pk} <= members and member.pk not in members
    assert shop["buyer"].pk not in members
    bought = ids({"product_action": "bought", "products": [tea.pk]})
    assert member.pk in bought and returner.pk not in bought


def test_product_criteria_are_checked(shop):
    for bad in (
        {"products": [shop["tea"].pk]},  # products without saying what was done with them
        {"product_within": 7},
        {"product_action": "liked"},
        {"product_action": "viewed", "products": [999_999]},
        {"product_action": "viewed", "products": ["abc"]},
        {"product_action": "viewed", "products": list(range(1, 60))},
        {"product_action": "viewed", "product_within": 0},
    ):
        with pytest.raises(SegmentInvalid):
            segments.clean_criteria(bad)


def test_a_segment_by_products_is_one_statement_however_many_members(shop):
    segment = Segment.objects.create(
        name="看了没买",
        criteria=segments.clean_criteria(
            {"product_action": "viewed_not_bought", "products": [shop["tea"].pk]}
        ),
    )
    with CaptureQueriesContext(connection) as ctx:
        members = set(segments.members(segment))
        counts = segments.counts([segment])
    assert len(ctx.captured_queries) == 2
    assert counts[segment.pk] == len(members) == 2


def test_the_backend_saves_product_behaviour_and_its_picker_searches_by_name(shop):
    client = operations()
    lookup = reverse("admin:customers_segment_products")
    found = client.get(lookup, {"term": "龙井"}).json()
    assert found["results"] == [{"id": str(shop["tea"].pk), "text": "龙井茶"}]
    assert finance().get(lookup, {"term": "龙井"}).status_code == 403
    shop["coffee"].is_listed = False
    shop["coffee"].save(update_fields=["is_listed"])
    assert client.get(lookup, {"term": "咖啡"}).json()["results"][0]["text"] == "挂耳咖啡（已下架）"

    live = client.get(
        reverse("admin:customers_segment_live_count"),
        {"product_action": "viewed_not_bought", "products": [shop["tea"].pk]},
    )
    assert "data-live-count>2<" in live.content.decode()
    add = reverse("admin:customers_segment_add")
    saved = client.post(
        add,
        {
            "name": "看了龙井没买",
            "product_action": "viewed_not_bought",
            "products": [shop["tea"].pk],
            "product_within": "30",
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    segment = Segment.objects.get(name="看了龙井没买")
    assert segment.criteria == {
        "product_action": "viewed_not_bought",
        "products": [shop["tea"].pk],
        "product_within": 30,
    }
    # The edit page reads only the chosen products, however large the catalogue.
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(reverse("admin:customers_segment_change", args=[segment.pk])).content.decode()
    assert "商品行为" in page and "龙井茶" in page and "挂耳咖啡" not in page
    assert not [
        q for q in ctx.captured_queries if 'FROM "catalog_product"' in q["sql"] and "IN" not in q["sql"]
    ]
    refused = client.post(add, {"name": "缺行为", "products": [shop["tea"].pk]})
    assert refused.status_code == 200 and "请同时选择商品行为" in refused.content.decode()
