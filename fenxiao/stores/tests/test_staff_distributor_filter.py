"""门店员工 filters by 分销商: 否或未生效 lists the staff who earn nothing on the members they
bring (no distributor account, or one pending or suspended), so a chain with dozens of
guides ticks them all and runs 设为分销商 once; 是（正常） lists those who earn. Before, the
list had only the column, to read down row by row."""

import pytest

from fenxiao.distribution.models import Distributor, DistributorStatus
from fenxiao.distribution.tests.helpers import make_distributor
from fenxiao.stores.models import StoreStaff
from fenxiao.testing import login, make_buyer, make_staff

from .helpers import guide, make_store

pytestmark = pytest.mark.django_db


def listed(client, query) -> set[int]:
    page = client.get(f"/backend/stores/storestaff/?{query}")
    assert page.status_code == 200
    return {row.pk for row in page.context["cl"].result_list}


def test_staff_who_earn_nothing_yet_are_found_and_made_distributors_at_once():
    store = make_store("湖滨店")
    earning = guide(store)  # a distributor in one step
    plain = guide(store, distributor=False)
    pending_user = make_buyer()
    make_distributor(user=pending_user, status=DistributorStatus.SUSPENDED)
    suspended = StoreStaff.objects.create(store=store, user=pending_user)
    client = login(make_staff(superuser=True))

    assert listed(client, "distributor=yes") == {earning.pk}
    assert listed(client, "distributor=no") == {plain.pk, suspended.pk}
    assert listed(client, "") == {earning.pk, plain.pk, suspended.pk}
    page = client.get("/backend/stores/storestaff/")
    assert "否或未生效" in page.content.decode()

    reply = client.post(
        "/backend/stores/storestaff/?distributor=no",
        {"action": "make_distributors", "_selected_action": [plain.pk, suspended.pk]},
    )
    assert reply.status_code == 302
    assert listed(client, "distributor=no") == set()
    assert Distributor.objects.filter(status=DistributorStatus.ACTIVE).count() == 3
