"""The demo's store QR part: stores with codes, a 店长 and a 导购 each, whose pages work."""

import pytest

from fenxiao.demo.shop.people import create_people
from fenxiao.demo.shop.store_guides import setup_store_guides
from fenxiao.stores.models import Store, StoreStaff
from fenxiao.testing import login

pytestmark = pytest.mark.django_db


def test_demo_stores_have_qr_codes_staff_and_pages():
    people = create_people()
    stores = setup_store_guides(people)
    assert [s.name for s in stores] == ["西湖旗舰店", "滨江天街店"]
    assert all(Store.objects.get(pk=s.pk).code for s in stores)
    guide = StoreStaff.objects.get(store=stores[0], role="guide")
    assert guide.code and guide.user.distributor.is_active
    manager = StoreStaff.objects.get(store=stores[0], role="manager").user
    page = login(manager).get("/store/")
    assert page.status_code == 200 and '<b id="members">2</b>' in page.content.decode()
    assert any(a.login == "13800000102" for a in people.accounts)
