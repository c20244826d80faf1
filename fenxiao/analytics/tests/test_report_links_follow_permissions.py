"""A report links a store, a staff member or a product to its backend page only for a
viewer who may open that page. A role given 门店报表 alone read every name as a link that
ended in 403, and was offered 新增门店 on an empty report it could not add to."""

import pytest
from django.test import Client
from django.urls import reverse

from fenxiao.stores.models import StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import make_buyer, make_staff

pytestmark = pytest.mark.django_db

REPORT = "analytics.view_stores_report"


def page(user) -> str:
    client = Client()
    client.force_login(user)
    reply = client.get(reverse("analytics_report", args=["stores"]))
    assert reply.status_code == 200
    return reply.content.decode()


@pytest.fixture
def shop():
    store = make_store("文三路店")
    guide = make_buyer(nickname="小林")
    person = StoreStaff.objects.create(store=store, user=guide, role=StoreStaff.Role.GUIDE)
    store_page = reverse("admin:stores_store_change", args=[store.pk])
    return store_page, reverse("admin:stores_storestaff_change", args=[person.pk])


def test_a_viewer_of_the_report_alone_reads_names_unlinked(shop):
    store_page, staff_page = shop
    html = page(make_staff(perms=[REPORT]))
    assert "文三路店" in html and "小林" in html
    assert store_page not in html and staff_page not in html


def test_a_viewer_who_may_open_the_pages_follows_the_names_there(shop):
    store_page, staff_page = shop
    html = page(make_staff(perms=[REPORT, "stores.view_store", "stores.view_storestaff"]))
    assert f'href="{store_page}"' in html and f'href="{staff_page}"' in html


def test_an_empty_report_offers_to_add_a_store_only_to_who_may():
    add = reverse("admin:stores_store_add")
    assert add not in page(make_staff(perms=[REPORT]))
    assert "还没有门店" in page(make_staff(perms=[REPORT]))
    assert f'href="{add}"' in page(make_staff(perms=[REPORT, "stores.add_store"]))
