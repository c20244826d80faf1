"""Group buy (拼团) end to end: a full group ships, a group short at its deadline refunds
every paid member in full exactly once (commission cancelled, stock back), unpaid members'
orders are cancelled, a late payer is refunded by the next sweep, a sweep that dies halfway
loses no one, and bad joins are refused with a code and nothing written."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from fenxiao.catalog.models import Sku
from fenxiao.core.errors import DomainError, InvalidTransition
from fenxiao.distribution.models import Commission
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.orders.models import AfterSale, Order, OrderEvent, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.orders.services.promotions_port import Choice
from fenxiao.payments.models import Refund
from fenxiao.promotions import errors
from fenxiao.promotions.models import GroupBuy, GroupMember, PromotionUse
from fenxiao.promotions.services import group_failures
from fenxiao.promotions.tasks import close_due_groups
from fenxiao.testing import (
    api_for,
    assert_refused,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    pay_in_sandbox,
)

from .factories import make_group

pytestmark = pytest.mark.django_db

GROUP_PRICE = 5900
SHIPPING = 600


# --- helpers (also used by the PostgreSQL race tests) ------------------------------------------


def buy_in_group(buyer, product, *, promotion=None, group=None) -> Order:
    """`buyer` opens a group of `promotion`, or joins `group`, for one unit of `product`."""
    address = buyer.addresses.first() or make_address(buyer)
    choice = Choice(join_group=group.pk) if group else Choice(group_promotion=promotion.pk)
    return place_order(buyer, [(product.skus.get().pk, 1)], address_id=address.pk, choice=choice)


def expire(group: GroupBuy) -> None:
    GroupBuy.objects.filter(pk=group.pk).update(deadline=timezone.now() - timedelta(seconds=1))


def failed_group_of(size: int, paid: int, *, distributor=None, stock=100):
    """An open group of `size` seats, all taken, the first `paid` paid, past its deadline."""
    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": SHIPPING})
    product = make_product(price=9900, stock=stock)
    promotion = make_group(product, price=GROUP_PRICE, size=size + 1)
    buyers = [bound_buyer(distributor) if distributor else make_buyer() for _ in range(size)]
    orders = [buy_in_group(buyers[0], product, promotion=promotion)]
    group = GroupBuy.objects.get()
    orders += [buy_in_group(b, product, group=group) for b in buyers[1:]]
    for order in orders[:paid]:
        pay_in_sandbox(order)
    expire(group)
    return product, group, [Order.objects.get(pk=o.pk) for o in orders]


def assert_refunded_once(order: Order) -> None:
    """One full refund: one after-sale, one gateway refund of everything paid, to the fen."""
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.paid_amount == GROUP_PRICE + SHIPPING
    assert order.refunded_amount == order.paid_amount
    assert AfterSale.objects.filter(order=order).count() == 1
    assert Refund.objects.filter(after_sale__order=order).aggregate(s=Sum("amount"))["s"] == order.paid_amount
    assert GroupMember.objects.get(order=order).status == "refunded"


# --- success --------------------------------------------------------------------------------------


def test_a_full_group_of_paid_members_succeeds_and_its_orders_ship():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    a, b, c = make_buyer(), make_buyer(), make_buyer()
    first = buy_in_group(a, product, promotion=promotion)
    group = GroupBuy.objects.get()
    assert (first.total, first.awaiting_group) == (GROUP_PRICE, True)
    others = [buy_in_group(buyer, product, group=group) for buyer in (b, c)]
    staff = make_staff(superuser=True)

    pay_in_sandbox(first)
    pay_in_sandbox(others[0])
    group.refresh_from_db()
    assert (group.status, group.seats_taken, group.paid_count) == ("open", 3, 2)
    with pytest.raises(InvalidTransition) as refused:
        lifecycle.ship(Order.objects.get(pk=first.pk), staff, carrier="顺丰", tracking_number="SF1")
    assert refused.value.code == "ORDER_AWAITING_GROUP"

    pay_in_sandbox(others[1])
    group.refresh_from_db()
    assert group.status == "succeeded" and group.closed_at is not None
    for order in [first, *others]:
        order.refresh_from_db()
        assert not order.awaiting_group
        assert order.events.filter(kind="group_succeeded", message="拼团成功，可发货").count() == 1
        shipped = lifecycle.ship(order, staff, carrier="顺丰", tracking_number="SF1")
        assert shipped.status == Order.Status.SHIPPED
    # A succeeded group is left alone by the sweep, whenever it runs.
    assert group_failures.sweep(timezone.now() + timedelta(days=3)) == group_failures.SweepResult()


def test_the_group_price_beats_the_regular_price_only_through_a_group():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE)
    buyer = make_buyer()
    plain = place_order(buyer, [(product.skus.get().pk, 1)], address_id=make_address(buyer).pk)
    grouped = buy_in_group(make_buyer(), product, promotion=promotion)
    assert (plain.total, plain.awaiting_group) == (9900, False)
    assert (grouped.total, grouped.awaiting_group) == (GROUP_PRICE, True)


# --- failure at the deadline ------------------------------------------------------------------------


def test_a_failed_group_refunds_every_paid_member_in_full_once(django_capture_on_commit_callbacks):
    distributor = make_distributor()
    product, group, orders = failed_group_of(3, paid=2, distributor=distributor, stock=100)
    paid, unpaid = orders[:2], orders[2]
    assert Commission.objects.filter(order__in=paid, status="pending").count() == 2
    assert Sku.objects.get(product=product).stock == 97

    with django_capture_on_commit_callbacks(execute=True):
        result = group_failures.sweep()
    assert result == group_failures.SweepResult(failed=1, cancelled=1, refunded=2)

    group.refresh_from_db()
    assert group.status == "failed"
    for order in paid:
        assert_refunded_once(order)
        assert order.events.filter(kind="group_failed", message__startswith="拼团失败").count() == 1
        assert set(Commission.objects.filter(order=order).values_list("status", flat=True)) == {"cancelled"}
        assert Refund.objects.get(after_sale__order=order).status == "succeeded"
    unpaid.refresh_from_db()
    assert unpaid.status == Order.Status.CANCELLED and unpaid.cancel_reason == "拼团失败，订单已取消"
    assert GroupMember.objects.get(order=unpaid).status == "left"
    assert Sku.objects.get(product=product).stock == 100
    assert not PromotionUse.objects.filter(released_at__isnull=True).exists()

    # Again, and again later: nothing more is refunded or cancelled.
    before = (AfterSale.objects.count(), Refund.objects.count(), OrderEvent.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        assert group_failures.sweep() == group_failures.SweepResult()
        close_due_groups.call_local()
    assert (AfterSale.objects.count(), Refund.objects.count(), OrderEvent.objects.count()) == before


def test_a_member_who_pays_after_the_group_failed_is_refunded_by_the_next_sweep(monkeypatch):
    _, group, orders = failed_group_of(2, paid=1)
    late = orders[1]
    # The buyer is on the cashier when the sweep comes: their order is not cancelled.
    monkeypatch.setattr(group_failures, "_cancel_unpaid", lambda member_id: False)
    assert group_failures.sweep().refunded == 1
    monkeypatch.undo()

    pay_in_sandbox(late)
    late.refresh_from_db()
    assert late.status == Order.Status.PENDING_SHIPMENT and late.awaiting_group
    assert GroupMember.objects.get(order=late).status == "paid"
    assert group_failures.sweep() == group_failures.SweepResult(refunded=1)
    assert_refunded_once(late)
    assert_refunded_once(orders[0])


def test_a_sweep_killed_halfway_loses_no_one_and_refunds_no_one_twice(monkeypatch):
    _, group, orders = failed_group_of(5, paid=5)

    class Killed(BaseException):
        """The worker process dies (not an error the sweep may catch)."""

    real = after_sales.start_full_refund
    calls = []

    def dies_on_the_third(order, actor, *, reason):
        calls.append(order.pk)
        if len(calls) == 3:
            raise Killed()
        return real(order, actor, reason=reason)

    monkeypatch.setattr(after_sales, "start_full_refund", dies_on_the_third)
    with pytest.raises(Killed):
        group_failures.sweep(chunk_size=2)
    monkeypatch.undo()
    assert GroupMember.objects.filter(group=group, status="refunded").count() == 2
    assert AfterSale.objects.count() == 2

    assert group_failures.sweep(chunk_size=2).refunded == 3
    for order in orders:
        assert_refunded_once(order)


def test_virtual_members_complete_a_group_when_the_promotion_allows_it():
    product = make_product(price=9900, stock=10)
    promotion = make_group(product, price=GROUP_PRICE, size=4, virtual_fill=True)
    payer, dawdler = make_buyer(), make_buyer()
    paid = buy_in_group(payer, product, promotion=promotion)
    group = GroupBuy.objects.get()
    unpaid = buy_in_group(dawdler, product, group=group)
    pay_in_sandbox(paid)
    expire(group)

    assert group_failures.sweep() == group_failures.SweepResult(filled=1, cancelled=1)
    group.refresh_from_db()
    assert (group.status, group.seats_taken, group.paid_count) == ("succeeded", 4, 4)
    assert GroupMember.objects.filter(group=group, is_virtual=True, buyer=None, status="paid").count() == 3
    paid.refresh_from_db()
    assert not paid.awaiting_group and paid.status == Order.Status.PENDING_SHIPMENT
    unpaid.refresh_from_db()
    assert unpaid.status == Order.Status.CANCELLED
    assert AfterSale.objects.count() == 0


def test_without_a_paid_member_virtual_members_do_not_make_a_group():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, virtual_fill=True)
    buy_in_group(make_buyer(), product, promotion=promotion)
    expire(GroupBuy.objects.get())
    assert group_failures.sweep() == group_failures.SweepResult(failed=1, cancelled=1)
    assert not GroupMember.objects.filter(is_virtual=True).exists()


def test_a_group_before_its_deadline_is_left_open():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE)
    pay_in_sandbox(buy_in_group(make_buyer(), product, promotion=promotion))
    assert group_failures.sweep() == group_failures.SweepResult()
    assert GroupBuy.objects.get().status == "open"


# --- bad input --------------------------------------------------------------------------------------


def _refused(buyer, product, error, **where) -> DomainError:
    counts = (Order.objects.count(), GroupMember.objects.count(), PromotionUse.objects.count())
    stock = Sku.objects.get(product=product).stock
    with pytest.raises(error) as refused:
        buy_in_group(buyer, product, **where)
    assert (Order.objects.count(), GroupMember.objects.count(), PromotionUse.objects.count()) == counts
    assert Sku.objects.get(product=product).stock == stock
    assert 400 <= refused.value.status < 500 and refused.value.code
    return refused.value


def test_joining_a_full_group_is_refused():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=2)
    buy_in_group(make_buyer(), product, promotion=promotion)
    group = GroupBuy.objects.get()
    buy_in_group(make_buyer(), product, group=group)
    assert _refused(make_buyer(), product, errors.GroupFull, group=group).code == "GROUP_FULL"


def test_joining_an_expired_or_failed_group_is_refused():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    buy_in_group(make_buyer(), product, promotion=promotion)
    group = GroupBuy.objects.get()
    expire(group)
    assert _refused(make_buyer(), product, errors.GroupExpired, group=group).code == "GROUP_EXPIRED"
    group_failures.sweep()
    assert _refused(make_buyer(), product, errors.GroupExpired, group=group).status == 409


def test_joining_the_same_group_twice_is_refused():
    product = make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    leader = make_buyer()
    buy_in_group(leader, product, promotion=promotion)
    group = GroupBuy.objects.get()
    assert _refused(leader, product, errors.GroupAlreadyJoined, group=group).code == "GROUP_ALREADY_JOINED"


def test_a_product_outside_the_promotion_cannot_open_or_join_its_group():
    product, other = make_product(price=9900), make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    buy_in_group(make_buyer(), product, promotion=promotion)
    group = GroupBuy.objects.get()
    assert _refused(make_buyer(), other, errors.GroupInvalid, promotion=promotion).code == "GROUP_INVALID"
    assert _refused(make_buyer(), other, errors.GroupInvalid, group=group).status == 400


def test_a_group_that_does_not_exist_is_refused():
    product = make_product(price=9900)
    make_group(product, price=GROUP_PRICE)
    missing = GroupBuy(pk=99_999)
    assert _refused(make_buyer(), product, errors.GroupNotFound, group=missing).status == 404


def test_the_checkout_api_refuses_a_second_seat_and_a_product_outside_the_group():
    product, other = make_product(price=9900), make_product(price=9900)
    promotion = make_group(product, price=GROUP_PRICE, size=3)
    leader = make_buyer()
    buy_in_group(leader, product, promotion=promotion)
    group = GroupBuy.objects.get()
    stranger = make_buyer()
    counts = (Order.objects.count(), GroupMember.objects.count(), PromotionUse.objects.count())

    def checkout(buyer, sku, **choice):
        address = buyer.addresses.first() or make_address(buyer)
        body = {"lines": [{"sku_id": sku.pk, "quantity": 1}], "address_id": address.pk, **choice}
        return api_for(buyer).post("/checkout", body)

    assert_refused(checkout(leader, product.skus.get(), join_group_id=group.pk), 409, "GROUP_ALREADY_JOINED")
    assert_refused(checkout(stranger, other.skus.get(), join_group_id=group.pk), 400, "GROUP_INVALID")
    assert_refused(
        checkout(stranger, other.skus.get(), group_promotion_id=promotion.pk), 400, "GROUP_INVALID"
    )
    assert (Order.objects.count(), GroupMember.objects.count(), PromotionUse.objects.count()) == counts
    group.refresh_from_db()
    assert (group.seats_taken, group.paid_count) == (1, 0)
