"""Each business change reaches a subscribed endpoint once, through the real services, with
the documented payload: paid, shipped (per parcel), completed (by the buyer or the sweep),
refunded, commission settled (per distributor, per batch), withdrawal paid, distributor
approved."""

import pytest

from fenxiao.distribution.models import Distributor
from fenxiao.distribution.services import distributors
from fenxiao.distribution.tests.helpers import (
    after_freeze,
    bound_buyer,
    buy,
    configure,
    earn,
    line,
    make_distributor,
    receive,
    settle_now,
    ship,
    sku,
    staff_refund,
    superuser,
    travel,
)
from fenxiao.orders.models import Order
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.testing import api_for, make_buyer, make_product, make_staff
from fenxiao.webhooks.models import Delivery, Event

from .helpers import make_endpoint

pytestmark = pytest.mark.django_db


def _data(receiver, event_type):
    return [p["data"] for p in receiver.payloads() if p["type"] == event_type]


def test_no_endpoint_no_event():
    buy(make_buyer(), (sku(make_product(price=5000)), 1))
    assert Event.objects.count() == 0


def test_an_order_paid_shipped_and_completed_reaches_the_endpoint_once_each(receiver):
    make_endpoint(receiver.url, ["order.paid", "order.shipped", "order.completed"])
    order = receive(buy(make_buyer(), (sku(make_product(price=5000)), 2)))
    assert [p["type"] for p in receiver.payloads()] == ["order.paid", "order.shipped", "order.completed"]
    (paid,) = _data(receiver, "order.paid")
    assert paid == {
        "order_id": order.pk,
        "order_number": order.number,
        "buyer_id": order.buyer_id,
        "status": "pending_shipment",
        "total": 10000,
        "paid_amount": 10000,
        "paid_at": paid["paid_at"],
    }
    (shipped,) = _data(receiver, "order.shipped")
    parcel = order.parcels.get()
    assert shipped == {
        "order_id": order.pk,
        "order_number": order.number,
        "parcel_id": parcel.pk,
        "carrier": parcel.carrier,
        "tracking_number": order.tracking_number,
        "status": "shipped",
        "shipped_at": shipped["shipped_at"],
    }
    (completed,) = _data(receiver, "order.completed")
    assert completed["status"] == "completed" and completed["order_number"] == order.number
    # Confirming receipt again is refused by the order; no second event.
    assert api_for(order.buyer).post(f"/orders/{order.number}/confirm-receipt").status_code == 409
    assert len(receiver.requests) == 3 == Event.objects.count()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}


def test_a_split_shipment_is_one_event_per_parcel(receiver):
    make_endpoint(receiver.url, ["order.shipped"])
    product = make_product(price=3000)
    order = buy(make_buyer(), (sku(product), 2))
    first = order.lines.get()
    from fenxiao.orders.services import shipments

    shipments.ship_parcel(order, superuser(), carrier="SF", tracking_number="SF0001", lines={first.pk: 1})
    shipments.ship_parcel(order, superuser(), carrier="SF", tracking_number="SF0002")
    assert [(d["tracking_number"], d["status"]) for d in _data(receiver, "order.shipped")] == [
        ("SF0001", "pending_shipment"),
        ("SF0002", "shipped"),
    ]


def test_orders_auto_completed_by_the_sweep_are_reported(receiver):
    make_endpoint(receiver.url, ["order.completed"])
    orders = [ship(buy(make_buyer(), (sku(make_product(price=1000)), 1))) for _ in range(2)]
    with travel(after_freeze(30) - after_freeze(0)):
        lifecycle.auto_complete_orders()
    assert Order.objects.filter(status="completed").count() == 2
    assert sorted(d["order_number"] for d in _data(receiver, "order.completed")) == sorted(
        o.number for o in orders
    )


def test_a_refund_is_reported_once_when_the_money_is_back(receiver):
    make_endpoint(receiver.url, ["order.refunded"])
    order = buy(make_buyer(), (sku(make_product(price=12345)), 2))
    reply = staff_refund(order, {"line_id": line(order).pk, "quantity": 1, "amount": 12345})
    (refunded,) = _data(receiver, "order.refunded")
    assert refunded == {
        "order_id": order.pk,
        "order_number": order.number,
        "after_sale_id": refunded["after_sale_id"],
        "after_sale_number": reply["number"],
        "amount": 12345,
        "order_refunded_amount": 12345,
        "status": "pending_shipment",  # one unit still to ship
        "refunded_at": refunded["refunded_at"],
    }
    # The gateway's success reported again: the service does nothing more, nor do webhooks.
    after_sales.refund_succeeded(refunded["after_sale_id"])
    assert len(_data(receiver, "order.refunded")) == 1


def test_a_refund_says_what_became_of_the_order(receiver):
    from fenxiao.orders.services import shipments

    make_endpoint(receiver.url, ["order.refunded"])
    closed = buy(make_buyer(), (sku(make_product(price=2000)), 1))
    staff_refund(closed, {"line_id": line(closed).pk})
    partly = buy(make_buyer(), (sku(make_product(price=3000)), 1), (sku(make_product(price=5000)), 1))
    shipments.ship_parcel(
        partly, superuser(), carrier="SF", tracking_number="SF0009", lines={line(partly).pk: 1}
    )
    staff_refund(partly, {"line_id": line(partly, 1).pk})

    statuses = {d["order_number"]: d["status"] for d in _data(receiver, "order.refunded")}
    # The unshipped order refunded in full is closed; the partly shipped one has nothing
    # left to ship once its second line is refunded.
    assert statuses == {closed.number: "cancelled", partly.number: "shipped"}


def test_a_settlement_batch_reports_each_distributor_once_with_their_total(receiver):
    make_endpoint(receiver.url, ["commission.settled"])
    a = make_distributor()
    b = make_distributor(parent=a)
    lamp = make_product(price=10000)
    for _ in range(3):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    batch = settle_now()
    settled = sorted(_data(receiver, "commission.settled"), key=lambda d: d["amount"])
    assert [(d["distributor_id"], d["user_id"], d["amount"], d["batch_id"]) for d in settled] == [
        (a.pk, a.user_id, 1500, batch.pk),
        (b.pk, b.user_id, 3000, batch.pk),
    ]
    assert settle_now() is None  # nothing left: no second event
    assert len(_data(receiver, "commission.settled")) == 2


def test_a_paid_withdrawal_is_reported(receiver):
    configure(withdraw_fee_bp=100)
    distributor = make_distributor()
    earn(distributor, 100000)
    make_endpoint(receiver.url, ["withdrawal.paid"])
    reply = api_for(distributor.user).post(
        "/distribution/withdrawals",
        {"amount": 2500, "method": "alipay", "account": {"name": "王五", "account": "w@example.com"}},
    )
    number = reply.json()["number"]
    finance = api_for(make_staff(perms=["distribution.change_withdrawal"]))
    assert finance.post(f"/staff/distribution/withdrawals/{number}/approve").status_code == 200
    (paid,) = _data(receiver, "withdrawal.paid")
    assert (paid["withdrawal_number"], paid["amount"], paid["fee"], paid["payout"], paid["status"]) == (
        number,
        2500,
        25,
        2475,
        "paid",
    )
    assert paid["distributor_id"] == distributor.pk


def test_an_approved_distributor_is_reported(receiver):
    make_endpoint(receiver.url, ["distributor.approved"])
    configure(enable_mode="apply", review_mode="manual")
    applicant = make_buyer()
    distributors.apply(applicant, real_name="李四")
    pending = Distributor.objects.get(user=applicant)
    distributors.approve(pending, superuser())
    (approved,) = _data(receiver, "distributor.approved")
    assert approved["distributor_id"] == pending.pk and approved["user_id"] == applicant.pk
    assert approved["status"] == "active" and approved["code"] == pending.referral_code


def test_an_order_picked_up_at_the_store_is_reported_completed(receiver):
    from fenxiao.orders.services import checkout
    from fenxiao.stores.services import pickup
    from fenxiao.stores.testing import make_store, make_store_staff
    from fenxiao.testing import pay_in_sandbox

    make_endpoint(receiver.url, ["order.completed"])
    goods = sku(make_product(price=3000))
    store = make_store(stock={goods.pk: 2})
    order = checkout.place_order(make_buyer(), [(goods.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    pay_in_sandbox(order)
    pickup.verify(make_store_staff(store), Order.objects.get(pk=order.pk).pickup_code)
    assert [d["order_number"] for d in _data(receiver, "order.completed")] == [order.number]
