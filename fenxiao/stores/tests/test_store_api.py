"""The stores part of the buyer API (for a mini-program or app): joining a store by its QR
code decides as the H5 scan does; store staff check and verify a pickup code."""

import pytest

from fenxiao.distribution.tests.helpers import current_distributor
from fenxiao.stores.models import BindTarget, StoreMember
from fenxiao.stores.testing import make_store as make_stocked_store
from fenxiao.stores.testing import make_store_staff
from fenxiao.testing import ApiClient, api_for, make_buyer, make_product, make_staff, pay_in_sandbox

from .helpers import guide, make_store, store_settings

pytestmark = pytest.mark.django_db


def test_joining_a_store_in_the_app_binds_as_the_qr_scan_does():
    store = make_store("滨江店", manager=make_buyer())
    staff = guide(store)
    store_settings(bind_target=BindTarget.STAFF)
    buyer = make_buyer()
    app = api_for(buyer)
    reply = app.post("/stores/join", {"store_code": store.code.lower(), "staff_code": staff.code})
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert (body["store"]["name"], body["joined"], body["binding"]) == ("滨江店", True, "bound")
    assert body["member_store_id"] == store.pk and not body["became_distributor"]
    assert current_distributor(buyer).user_id == staff.user_id
    assert StoreMember.objects.get(buyer=buyer).source == "staff_qr"
    again = app.post("/stores/join", {"store_code": store.code}).json()
    assert again["joined"] is False  # a member already

    assert app.post("/stores/join", {"store_code": "NOPE42"}).json()["code"] == "STORE_NOT_FOUND"
    assert app.post("/stores/join", {"store_code": store.code, "staff_code": "WRONG"}).status_code == 404
    assert app.post("/stores/join", {"store_code": ""}).status_code == 422
    assert ApiClient().post("/stores/join", {"store_code": store.code}).status_code == 401


def test_store_staff_check_and_verify_a_pickup_code_once():
    from fenxiao.orders.services import checkout

    sku = make_product(price=5000, stock=50).skus.get()
    store = make_stocked_store(stock={sku.pk: 5})
    clerk = api_for(make_store_staff(store))
    order = checkout.place_order(make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    pay_in_sandbox(order)
    code = {"code": order.pickup_code}

    assert api_for(make_buyer()).post("/stores/pickups/check", code).status_code == 403
    checked = clerk.post("/stores/pickups/check", code)
    assert checked.status_code == 200 and checked.json()["number"] == order.number
    assert checked.json()["lines"][0]["quantity"] == 1 and checked.json()["picked_up_at"] is None
    phone = order.recipient_phone
    assert checked.json()["recipient_phone"] == f"{phone[:3]}****{phone[-4:]}"  # as the counter page
    assert clerk.post("/stores/pickups/check", {"code": "12345"}).json()["code"] == "PICKUP_CODE_INVALID"
    done = clerk.post("/stores/pickups/verify", code)
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert phone not in done.content.decode()
    assert clerk.post("/stores/pickups/verify", code).json()["code"] == "PICKUP_CODE_USED"
    boss = api_for(make_staff(perms=["stores.verify_pickup"]))
    assert boss.post("/stores/pickups/check", code).json()["code"] == "PICKUP_CODE_USED"
