"""门店员工 names a guide with no nickname by their phone, masked (139****0004) for staff who
may not see phones, as 门店会员 does: on the staff list, a staff member's page and the 门店员工
tab of the store's page (its rows' titles too). They printed the whole number."""

import pytest

from fenxiao.stores.models import StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

PHONE, MASKED = "13900000004", "139****0004"
PERMS = ["stores.view_store", "stores.view_storestaff"]


@pytest.fixture
def guide():
    store = make_store("湖滨店")
    return StoreStaff.objects.create(store=store, user=make_buyer(PHONE), role="guide")


def pages(guide) -> list[str]:
    return [
        "/backend/stores/storestaff/",
        f"/backend/stores/storestaff/{guide.pk}/change/",
        f"/backend/stores/store/{guide.store_id}/change/",
    ]


def test_staff_who_may_not_see_phones_read_the_guides_phone_masked(guide):
    clerk = login(make_staff("clerk", perms=PERMS))
    for url in pages(guide):
        page = clerk.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert PHONE not in body and MASKED in body, url


def test_staff_who_may_see_phones_read_it_whole(guide):
    boss = login(make_staff("boss", superuser=True))
    for url in ("/backend/stores/storestaff/", f"/backend/stores/storestaff/{guide.pk}/change/"):
        assert PHONE in boss.get(url).content.decode(), url
