"""The 门店员工 tab of a store's page: role and 在职 change there; a staff member is never
deleted from it (a deleted row took the guide off every member they brought: staff leave
instead), new staff are added by phone through the page's 添加员工 (the store preset), and
the page costs the same queries however many staff the store has."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fenxiao.stores.models import MemberSource, StoreMember, StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def hire(store, count: int) -> list[StoreStaff]:
    return [StoreStaff.objects.create(store=store, user=make_buyer(), role="guide") for _ in range(count)]


def store_form(store, staff: list[StoreStaff], **rows) -> dict:
    data = {
        "name": store.name,
        "province": store.province,
        "city": store.city,
        "district": store.district,
        "address_detail": store.address_detail,
        "hours": store.hours,
        "phone": store.phone,
        "is_open": "on",
        "pickup_enabled": "on",
        "sort_order": "0",
        "staff-TOTAL_FORMS": str(len(staff)),
        "staff-INITIAL_FORMS": str(len(staff)),
    }
    for index, member in enumerate(staff):
        data |= {
            f"staff-{index}-id": member.pk,
            f"staff-{index}-store": store.pk,
            f"staff-{index}-role": "guide",
        }
        data |= {f"staff-{index}-is_active": "on"}
    return data | rows


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_store_page_costs_the_same_for_two_staff_or_ten(boss):
    store = make_store("湖滨店")
    hire(store, 2)
    url = f"/backend/stores/store/{store.pk}/change/"
    boss.get(url)  # once-a-session look-ups out of the count
    few = queries(boss, url)
    hire(store, 8)
    assert queries(boss, url) == few


def test_a_guide_is_not_deleted_from_the_store_page(boss):
    store = make_store("湖滨店")
    (guide,) = hire(store, 1)
    StoreMember.objects.create(store=store, buyer=make_buyer(), source=MemberSource.STAFF_QR, staff=guide)
    reply = boss.post(
        f"/backend/stores/store/{store.pk}/change/", store_form(store, [guide], **{"staff-0-DELETE": "on"})
    )
    assert reply.status_code == 302
    assert StoreMember.objects.get().staff_id == guide.pk


def test_role_and_leaving_still_change_on_the_store_page(boss):
    store = make_store("湖滨店")
    (guide,) = hire(store, 1)
    data = store_form(store, [guide], **{"staff-0-role": "manager"})
    del data["staff-0-is_active"]
    assert boss.post(f"/backend/stores/store/{store.pk}/change/", data).status_code == 302
    guide.refresh_from_db()
    assert (guide.role, guide.is_active) == ("manager", False)


def test_add_staff_opens_the_phone_form_with_the_store_chosen(boss):
    store = make_store("湖滨店")
    page = boss.get(f"/backend/stores/store/{store.pk}/change/").content.decode()
    assert f"/backend/stores/store/{store.pk}/add-staff/" in page
    reply = boss.get(f"/backend/stores/store/{store.pk}/add-staff/")
    assert reply["Location"] == f"/backend/stores/storestaff/add/?store={store.pk}"
    form = boss.get(reply["Location"]).context["adminform"].form
    assert form.initial["store"] == str(store.pk)


def test_a_store_without_staff_shows_no_empty_staff_tab(boss):
    assert "staff-TOTAL_FORMS" not in boss.get("/backend/stores/store/add/").content.decode()
    store = make_store("湖滨店")
    url = f"/backend/stores/store/{store.pk}/change/"
    page = boss.get(url).content.decode()
    assert "staff-TOTAL_FORMS" not in page and f"/backend/stores/store/{store.pk}/add-staff/" in page
    hire(store, 1)
    assert "staff-TOTAL_FORMS" in boss.get(url).content.decode()
