"""A store's page leads on to that store's 门店码与导购 (QR, poster, staff codes), its current
members and its till sales, each opened on that store; staff see only the ones they may open.
Before, the page led to its stock alone and the rest had to be found and filtered by hand."""

import re

import pytest

from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


def links(client, store) -> set[str]:
    page = client.get(f"/backend/stores/store/{store.pk}/change/").content.decode()
    return set(re.findall(rf'href="/backend/stores/store/{store.pk}/(qr|members|sales|stock)/"', page))


def test_the_store_page_opens_its_qr_members_and_sales():
    store = make_store("湖滨店")
    boss = login(make_staff("boss", superuser=True))
    assert links(boss, store) == {"stock", "qr", "members", "sales"}
    base = f"/backend/stores/store/{store.pk}"
    assert boss.get(f"{base}/qr/")["Location"] == f"/backend/stores/storeqr/{store.pk}/change/"
    assert boss.get(f"{base}/members/")["Location"] == (
        f"/backend/stores/storemember/?store__id__exact={store.pk}&is_current__exact=1"
    )
    assert (
        boss.get(f"{base}/sales/")["Location"] == f"/backend/stores/offlinesale/?store__id__exact={store.pk}"
    )
    assert boss.get("/backend/stores/store/abc/qr/").status_code == 404


def test_staff_see_only_the_links_they_may_open():
    store = make_store("湖滨店")
    clerk = login(make_staff("clerk", perms=["stores.view_store", "stores.view_storemember"]))
    assert links(clerk, store) == {"stock", "members"}
    assert clerk.get(f"/backend/stores/store/{store.pk}/sales/").status_code == 403
