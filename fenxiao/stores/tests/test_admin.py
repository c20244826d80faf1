"""门店 in the backend: the list, the edit form's region check, the store-stock page with its
bulk set, and 运营's access."""

import pytest
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.stores.models import Store
from fenxiao.stores.testing import make_store, store_stock
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def operations():
    ensure_staff_groups()
    user = make_staff("yunying")
    user.groups.add(Group.objects.get(name=OPERATIONS))
    return user


def _form(**fields):
    data = {
        "name": "湖滨店",
        "province": "浙江省",
        "city": "杭州市",
        "district": "上城区",
        "address_detail": "湖滨路 1 号",
        "latitude": "30.259",
        "longitude": "120.165",
        "hours": "09:00-21:00",
        "phone": "0571-88888888",
        "is_open": "on",
        "pickup_enabled": "on",
        "sort_order": "0",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_operations_add_a_store_and_the_region_is_checked(operations):
    client = login(operations)
    bad = client.post("/backend/stores/store/add/", _form(district="不存在区"))
    assert bad.status_code == 200 and "下没有“不存在区”" in bad.content.decode()
    assert not Store.objects.exists()
    reply = client.post("/backend/stores/store/add/", _form())
    assert reply.status_code == 302, reply.content.decode()[:3000]
    assert Store.objects.get().address_text == "浙江省杭州市上城区湖滨路 1 号"


def test_store_list_has_a_fixed_query_count(operations, django_assert_max_num_queries):
    sku = make_product().skus.get()
    for i in range(6):
        make_store(f"店{i}", stock={sku.pk: i})
    client = login(operations)
    with django_assert_max_num_queries(14):
        page = client.get("/backend/stores/store/")
    text = page.content.decode()
    assert page.status_code == 200 and "店5" in text and "1 个规格有货" in text


def test_store_stock_page_sets_and_bulk_sets(operations):
    a = make_product("龙井", stock=30).skus.get()
    b = make_product("碧螺春", stock=40).skus.get()
    store = make_store("湖滨店", stock={a.pk: 1})
    client = login(operations)
    page = client.get(f"/backend/stores/store/{store.pk}/stock/")
    text = page.content.decode()
    assert page.status_code == 200 and "龙井" in text and "碧螺春" in text and "未铺货" in text
    client.post(f"/backend/stores/store/{store.pk}/stock/", {f"stock_{a.pk}": "5", f"stock_{b.pk}": ""})
    assert (store_stock(store, a), store_stock(store, b)) == (5, 0)
    client.post(
        f"/backend/stores/store/{store.pk}/stock/",
        {"bulk_value": "12", "pick": [a.pk, b.pk], f"stock_{a.pk}": "5"},
    )
    assert (store_stock(store, a), store_stock(store, b)) == (12, 12)
    bad = client.post(f"/backend/stores/store/{store.pk}/stock/", {f"stock_{a.pk}": "-3"}, follow=True)
    assert "不小于 0 的整数" in bad.content.decode() and store_stock(store, a) == 12
