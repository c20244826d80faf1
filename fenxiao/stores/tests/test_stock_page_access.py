"""The store's 门店库存 page: an id that is not a number or names no store is a 404, never a
500; opening the page takes the right to view the store and its stock, saving it the right
to change both (a refused save changes nothing)."""

import pytest

from fenxiao.stores.testing import make_store, store_stock
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

VIEW_BOTH = ["stores.view_store", "stores.view_storestock"]
CHANGE_BOTH = ["stores.change_store", "stores.change_storestock"]


@pytest.mark.parametrize("bad_id", ["xyz", "999999", "-1", "%EF%BC%91"])
def test_an_unknown_or_malformed_store_is_a_404(bad_id):
    client = login(make_staff(superuser=True))
    url = f"/backend/stores/store/{bad_id}/stock/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"bulk_value": "5"}).status_code == 404


@pytest.fixture
def shelf():
    sku = make_product("龙井", stock=30).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 1})
    return store, sku


def _save(client, store, sku, level="7"):
    url = f"/backend/stores/store/{store.pk}/stock/"
    return client.post(url, {f"stock_{sku.pk}": level, f"was_{sku.pk}": "1"})


@pytest.mark.parametrize(
    "perms",
    [
        [],
        ["stores.view_storestock", "stores.change_storestock"],  # not the store's page
        ["stores.view_store", "stores.change_store"],  # not its stock
    ],
)
def test_without_both_view_rights_the_page_is_refused(shelf, perms):
    store, sku = shelf
    client = login(make_staff(perms=perms))
    assert client.get(f"/backend/stores/store/{store.pk}/stock/").status_code == 403
    assert _save(client, store, sku).status_code == 403
    assert store_stock(store, sku) == 1


@pytest.mark.parametrize(
    "perms",
    [
        VIEW_BOTH,
        [*VIEW_BOTH, "stores.change_storestock"],  # the store itself may not be changed
        [*VIEW_BOTH, "stores.change_store"],  # its stock may not be changed
    ],
)
def test_reading_it_is_not_saving_it(shelf, perms):
    store, sku = shelf
    client = login(make_staff(perms=perms))
    page = client.get(f"/backend/stores/store/{store.pk}/stock/")
    assert page.status_code == 200 and "龙井" in page.content.decode()
    assert _save(client, store, sku).status_code == 403
    assert store_stock(store, sku) == 1


def test_with_both_change_rights_it_saves(shelf):
    store, sku = shelf
    client = login(make_staff(perms=CHANGE_BOTH))
    assert client.get(f"/backend/stores/store/{store.pk}/stock/").status_code == 200
    assert _save(client, store, sku).status_code == 302
    assert store_stock(store, sku) == 7
