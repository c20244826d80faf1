"""The store backend's bulk actions need more than the right to look: 离职 and 停用所选密钥 need
the change permission of their page, 设为分销商（指定分销） also the distributor page's own
(`distribution.add_distributor`, as 指定分销商 there). Staff without them are not offered the
action, and posting it anyway changes nothing."""

import pytest

from fenxiao.distribution.models import Distributor
from fenxiao.stores.models import StoreStaff
from fenxiao.stores.pos_models import PosApiKey
from fenxiao.stores.services import pos_keys
from fenxiao.stores.testing import make_store, make_store_staff
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db

STAFF_LIST = "/backend/stores/storestaff/"
KEY_LIST = "/backend/stores/posapikey/"


# 导出所选 goes with the right to look (`core.admin_exports`): it changes nothing.
EXPORTS = {"export_selected_csv", "export_selected_xlsx"}


def offered(client, url) -> set[str]:
    """The bulk actions that change something the list's action menu offers."""
    reply = client.get(url)
    assert reply.status_code == 200
    form = reply.context.get("action_form")
    if form is None:
        return set()
    return {name for name, _label in form.fields["action"].choices if name} - EXPORTS


def post_action(client, url, action, pks):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]})


@pytest.fixture
def staff_row():
    store = make_store()
    user = make_store_staff(store)
    return StoreStaff.objects.get(user=user)


@pytest.fixture
def pos_key():
    key, _secret = pos_keys.create_key(make_store(), name="前台收银")
    return key


def test_viewing_store_staff_offers_no_action_and_posting_one_changes_nothing(staff_row):
    viewer = login(make_staff("viewer", perms=["stores.view_storestaff"]))
    assert offered(viewer, STAFF_LIST) == set()
    for action in ("make_distributors", "leave"):
        post_action(viewer, STAFF_LIST, action, [staff_row.pk])
    staff_row.refresh_from_db()
    assert staff_row.is_active is True
    assert not Distributor.objects.filter(user=staff_row.user).exists()


def test_designating_without_changing_store_staff_may_not_make_distributors(staff_row):
    # The distributor page's permission alone is no right to change the store's staff.
    designer = login(make_staff("designer", perms=["stores.view_storestaff", "distribution.add_distributor"]))
    assert offered(designer, STAFF_LIST) == set()
    post_action(designer, STAFF_LIST, "make_distributors", [staff_row.pk])
    assert not Distributor.objects.filter(user=staff_row.user).exists()


def test_changing_store_staff_without_designating_may_not_make_distributors(staff_row):
    clerk = login(make_staff("clerk", perms=["stores.view_storestaff", "stores.change_storestaff"]))
    assert offered(clerk, STAFF_LIST) == {"leave"}
    post_action(clerk, STAFF_LIST, "make_distributors", [staff_row.pk])
    assert not Distributor.objects.filter(user=staff_row.user).exists()
    post_action(clerk, STAFF_LIST, "leave", [staff_row.pk])
    staff_row.refresh_from_db()
    assert staff_row.is_active is False


def test_changing_store_staff_and_designating_makes_distributors(staff_row):
    manager = login(
        make_staff(
            "manager",
            perms=["stores.view_storestaff", "stores.change_storestaff", "distribution.add_distributor"],
        )
    )
    assert offered(manager, STAFF_LIST) == {"make_distributors", "leave"}
    post_action(manager, STAFF_LIST, "make_distributors", [staff_row.pk])
    assert Distributor.objects.get(user=staff_row.user).status == Distributor.Status.ACTIVE


def test_adding_store_staff_without_designating_does_not_make_a_distributor():
    from fenxiao.testing import make_buyer

    store = make_store()
    newcomer = make_buyer()
    clerk = login(make_staff("clerk", perms=["stores.view_storestaff", "stores.add_storestaff"]))
    page = clerk.get(f"{STAFF_LIST}add/")
    assert page.status_code == 200 and 'name="make_distributor"' not in page.content.decode()
    reply = clerk.post(
        f"{STAFF_LIST}add/",
        {"store": store.pk, "phone": newcomer.phone, "role": "guide", "make_distributor": "on"},
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]
    assert StoreStaff.objects.filter(store=store, user=newcomer, is_active=True).exists()
    assert not Distributor.objects.filter(user=newcomer).exists()


def test_viewing_pos_keys_offers_no_revoke_and_posting_it_keeps_the_key(pos_key):
    viewer = login(make_staff("viewer", perms=["stores.view_posapikey"]))
    assert offered(viewer, KEY_LIST) == set()
    post_action(viewer, KEY_LIST, "revoke_selected", [pos_key.pk])
    pos_key.refresh_from_db()
    assert pos_key.is_active is True and pos_key.revoked_at is None


def test_changing_pos_keys_may_revoke(pos_key):
    keeper = login(make_staff("keeper", perms=["stores.view_posapikey", "stores.change_posapikey"]))
    assert offered(keeper, KEY_LIST) == {"revoke_selected"}
    post_action(keeper, KEY_LIST, "revoke_selected", [pos_key.pk])
    assert PosApiKey.objects.get(pk=pos_key.pk).is_active is False
