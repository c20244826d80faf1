"""门店 in the backend: the list, the edit form's region check, the store-stock page with its
bulk set, and 运营's access."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.stores.models import Store
from fenxiao.stores.testing import make_store, store_stock
from fenxiao.testing import in_english, login, make_product, make_staff

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
    assert bad.context["adminform"].form.errors["district"] == ["浙江省杭州市下没有“不存在区”"]
    # The field at fault is known by where the check stopped, in any language and even when
    # the province's own name holds 区.
    bad = in_english(client).post(
        "/backend/stores/store/add/", _form(province="广西壮族自治区", city="不存在市", district="")
    )
    assert list(bad.context["adminform"].form.errors) == ["city"]
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)
    assert not Store.objects.exists()
    reply = client.post("/backend/stores/store/add/", _form())
    assert reply.status_code == 302, reply.content.decode()[:3000]
    assert Store.objects.get().address_text == "浙江省杭州市上城区湖滨路 1 号"


def test_the_store_form_picks_its_region_from_the_division_list(operations):
    client = login(operations)
    form = client.get("/backend/stores/store/add/").context["adminform"].form
    assert ("浙江省", "浙江省") in form.fields["province"].widget.choices
    # Until a province is picked there is no city to list.
    assert [value for value, _label in form.fields["city"].widget.choices] == [""]
    # A refused form lists the cities and districts under what was picked, and keeps a name
    # off the list in view beside the reason.
    bad = client.post("/backend/stores/store/add/", _form(district="不存在区")).context["adminform"].form
    assert ("杭州市", "杭州市") in bad.fields["city"].widget.choices
    districts = [value for value, _label in bad.fields["district"].widget.choices]
    assert districts[:2] == ["", "不存在区"] and "西湖区" in districts
    assert bad.errors["district"] == ["浙江省杭州市下没有“不存在区”"]


def test_the_store_form_says_where_coordinates_come_from_and_what_the_order_does(operations):
    page = login(operations).get("/backend/stores/store/add/").content.decode()
    assert "按距离由近到远排列" in page and "WGS-84" in page
    assert "高德、腾讯地图拾取的坐标有几百米偏差" in page and "数字越小越靠前" in page


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
    url = f"/backend/stores/store/{store.pk}/stock/"
    assert f'name="was_{a.pk}" value="1"' in text and f'name="was_{b.pk}" value=""' in text
    client.post(url, {f"stock_{a.pk}": "5", f"was_{a.pk}": "1", f"stock_{b.pk}": "", f"was_{b.pk}": ""})
    assert (store_stock(store, a), store_stock(store, b)) == (5, 0)
    bulk = {
        "bulk_value": "12",
        "pick": [a.pk, b.pk],
        f"stock_{a.pk}": "5",
        f"was_{a.pk}": "5",
        f"was_{b.pk}": "",
    }
    client.post(url, bulk)
    assert (store_stock(store, a), store_stock(store, b)) == (12, 12)
    bad = client.post(url, {f"stock_{a.pk}": "-3", f"was_{a.pk}": "12"}, follow=True)
    assert "不小于 0、不大于 10,000,000 的整数" in bad.content.decode() and store_stock(store, a) == 12
    # A form without what its rows showed (opened before an upgrade) saves nothing.
    stale = client.post(url, {f"stock_{a.pk}": "0"}, follow=True)
    assert "页面已过期" in stale.content.decode() and store_stock(store, a) == 12


@pytest.mark.parametrize(
    "typed",
    ["²", "１２", "1.5", "+3", "10000001", "3000000000", "99999999999999999999", "9" * 200],
)
def test_the_stock_page_refuses_what_is_no_level_it_can_hold(operations, typed):
    # ASCII digits up to the POS API's cap only: "²" passes isdigit() but not int(), and a
    # long number overflowed SQLite's integer and PostgreSQL's int column (a 500 either way).
    a = make_product("龙井", stock=30).skus.get()
    store = make_store("湖滨店", stock={a.pk: 1})
    url = f"/backend/stores/store/{store.pk}/stock/"
    reply = login(operations).post(url, {f"stock_{a.pk}": typed, f"was_{a.pk}": "1"}, follow=True)
    assert reply.status_code == 200
    assert "龙井 的库存须为不小于 0、不大于 10,000,000 的整数" in reply.content.decode()
    assert store_stock(store, a) == 1


def test_the_stock_page_takes_the_cap_and_a_shown_level_it_cannot_read_as_none(operations):
    a = make_product("龙井", stock=30).skus.get()
    store = make_store("湖滨店", stock={a.pk: 1})
    client = login(operations)
    url = f"/backend/stores/store/{store.pk}/stock/"
    client.post(url, {f"stock_{a.pk}": "10000000", f"was_{a.pk}": "1"})
    assert store_stock(store, a) == 10_000_000
    # A shown level that is no number (a tampered page) is 未铺货: the row moved, nothing saved.
    reply = client.post(url, {f"stock_{a.pk}": "3", f"was_{a.pk}": "²"}, follow=True)
    assert reply.status_code == 200 and store_stock(store, a) == 10_000_000


def test_saving_the_stock_page_never_undoes_a_pickup_placed_while_it_was_open(operations):
    from fenxiao.orders.services import checkout
    from fenxiao.testing import make_buyer

    a = make_product("龙井", stock=30).skus.get()
    b = make_product("碧螺春", stock=40).skus.get()
    store = make_store("湖滨店", stock={a.pk: 3, b.pk: 3})
    client = login(operations)
    url = f"/backend/stores/store/{store.pk}/stock/"
    assert client.get(url).status_code == 200  # the merchant opens the page: 3 and 3
    checkout.place_order(make_buyer(), [(a.pk, 1), (b.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    # Saved with 龙井 untouched and 碧螺春 changed from the 3 shown to 10: 龙井 keeps the
    # pickup's take; 碧螺春 moved meanwhile, so it is left for the merchant to check.
    saved = client.post(
        url,
        {f"stock_{a.pk}": "3", f"was_{a.pk}": "3", f"stock_{b.pk}": "10", f"was_{b.pk}": "3"},
        follow=True,
    )
    text = saved.content.decode()
    assert (store_stock(store, a), store_stock(store, b)) == (2, 2)
    assert "已更新 0 个规格" in text and "未保存" in text and "碧螺春" in text
    # Typed again over the level shown now, it is saved.
    client.post(url, {f"stock_{b.pk}": "10", f"was_{b.pk}": "2"})
    assert store_stock(store, b) == 10


def test_order_page_shows_pickup_and_its_code(operations):
    from fenxiao.orders.services import checkout
    from fenxiao.testing import make_buyer, pay_in_sandbox

    sku = make_product("龙井", stock=10).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 3})
    order = checkout.place_order(make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    pay_in_sandbox(order)
    order.refresh_from_db()
    client = login(operations)
    text = client.get(f"/backend/orders/order/{order.pk}/change/").content.decode()
    assert "待自提" in text and f"提货码 {order.pickup_code}" in text and "湖滨店" in text
    assert "待自提" in client.get("/backend/orders/order/").content.decode()


def test_the_stock_page_reaches_every_sku_a_page_at_a_time(operations, monkeypatch):
    # It showed the first 200 SKUs and no more: a range beyond that was out of reach but by
    # searching each product.
    monkeypatch.setattr("fenxiao.stores.admin.STOCK_PAGE_ROWS", 2)
    skus = [make_product(f"茶{i}", stock=10).skus.get() for i in range(5)]
    store = make_store("湖滨店", stock={skus[4].pk: 3})
    client = login(operations)
    url = f"/backend/stores/store/{store.pk}/stock/"
    first = client.get(url).content.decode()
    assert "茶0" in first and "茶2" not in first and "第 1 / 3 页，共 5 个规格" in first
    assert 'href="?page=2"' in first
    last = client.get(url, {"page": "3"}).content.decode()
    assert "茶4" in last and "茶0" not in last and 'href="?page=2"' in last
    # Past the end, or no number: the nearest page, never an error.
    for junk in ("99", "99999999999999999999", "abc", "-1"):
        assert client.get(url, {"page": junk}).status_code == 200
    # A search keeps to its own pages.
    assert "第 1 / 1 页，共 1 个规格" in client.get(url, {"q": "茶3"}).content.decode()
    # What is saved is the rows the merchant saw, even where the list has shifted since
    # (another SKU stocked or added moves a row to the next page).
    client.post(f"{url}?page=2", {f"stock_{skus[0].pk}": "7", f"was_{skus[0].pk}": ""})
    assert store_stock(store, skus[0]) == 7


def test_the_stock_page_filters_by_what_the_store_carries(operations):
    carried, empty, absent = (make_product(name, stock=10).skus.get() for name in ("龙井", "白茶", "普洱"))
    store = make_store("湖滨店", stock={carried.pk: 4, empty.pk: 0})
    client = login(operations)
    url = f"/backend/stores/store/{store.pk}/stock/"

    def names(shelf):
        text = client.get(url, {"shelf": shelf}).content.decode()
        cell = '<td class="px-3 py-2 border-b border-base-200 dark:border-base-800">{}</td>'
        return {name for name in ("龙井", "白茶", "普洱") if cell.format(name) in text}

    assert names("") == {"龙井", "白茶", "普洱"}
    assert names("carried") == {"龙井", "白茶"}
    assert names("none") == {"普洱"}
    assert names("out") == {"白茶"}
    assert names("bogus") == {"龙井", "白茶", "普洱"}
    # Stocking the 未铺货 rows saves them, though they leave the filter as they are saved.
    reply = client.post(f"{url}?shelf=none", {f"stock_{absent.pk}": "6", f"was_{absent.pk}": ""}, follow=True)
    assert "已更新 1 个规格的门店库存" in reply.content.decode()
    assert store_stock(store, absent) == 6 and names("none") == set()
