"""客户分群 as a merchant builds one in the backend: 浏览过但未购买 for a product picked by
searching its name, the live count following the form."""

import pytest
from django.utils import timezone

from fenxiao.analytics.models import ProductView
from fenxiao.customers.models import Segment
from fenxiao.testing import make_buyer, make_product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_segment_of_buyers_who_looked_at_a_product_and_did_not_buy(operations_desk):
    tea = make_product("明前龙井茶", price=9900)
    make_product("挂耳咖啡", price=4900)
    now = timezone.now()
    for buyer in (make_buyer(), make_buyer()):
        ProductView.objects.create(
            buyer=buyer, product=tea, day=now.date(), first_viewed_at=now, last_viewed_at=now
        )
    page = operations_desk.page
    page.goto("/backend/customers/segment/add/")
    page.get_by_label("分群名称").fill("看了龙井没买")
    page.get_by_label("商品行为", exact=True).select_option(label="浏览过但未购买")
    page.locator("#id_products + .select2 .select2-search__field").fill("龙井")
    page.locator(".select2-results__option", has_text="明前龙井茶").click()
    page.get_by_label("商品行为发生在最近 N 天内（不填即不限）").fill("30")
    page.locator("[data-live-count]").filter(has_text="2").wait_for()
    operations_desk.shot("segment-products")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/customers/segment/")
    assert "2 人" in page.content()
    segment = Segment.objects.get(name="看了龙井没买")
    assert segment.criteria == {
        "product_action": "viewed_not_bought",
        "products": [tea.pk],
        "product_within": 30,
    }


def test_a_segment_of_one_distributors_customers_picked_by_name(operations_desk):
    from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor

    wang = make_distributor(user=make_buyer(phone="13800005678", nickname="华东小王"))
    make_distributor(user=make_buyer(nickname="北方老李"))
    bound_buyer(wang), bound_buyer(wang)
    page = operations_desk.page
    page.goto("/backend/customers/segment/add/")
    page.get_by_label("分群名称").fill("小王的客户")
    page.locator(".field-distributor .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("小王")
    page.locator(".select2-results__option", has_text="华东小王（13800005678）").click()
    # The live count follows the pick (select2's choice reaches htmx as a DOM change).
    page.locator("[data-live-count]").filter(has_text="2").wait_for()
    operations_desk.shot("segment-distributor")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/customers/segment/")
    assert "2 人" in page.content()
    segment = Segment.objects.get(name="小王的客户")
    assert segment.criteria == {"bound": "one", "distributor_id": wang.pk}
