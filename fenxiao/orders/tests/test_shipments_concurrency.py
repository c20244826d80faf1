"""Two staff shipping the same order at the same moment, for real on PostgreSQL: a unit is
never put in two parcels, and the order moves to 已发货 once."""

from fenxiao.core.errors import DomainError
from fenxiao.orders.models import OrderEvent, OrderSettings, OrderStatus, ParcelLine
from fenxiao.orders.services import shipments
from fenxiao.testing import make_staff, postgres_only_marks, run_together

from .logistics_helpers import paid_order

pytestmark = postgres_only_marks()


def test_racing_shippers_never_ship_a_unit_twice():
    OrderSettings.current()
    order = paid_order((3, 2))
    first, second = order.lines.all()
    staff = [make_staff() for _ in range(6)]

    def ship(i):
        # Half ship "everything left", half ship two units of the first line.
        lines = None if i % 2 else {first.pk: 2}
        try:
            return shipments.ship_parcel(
                order, staff[i], carrier="顺丰", tracking_number=f"SF{i:04d}", lines=lines
            ).pk
        except DomainError as exc:
            return exc.code

    results = run_together(6, ship)
    assert not [r for r in results if isinstance(r, BaseException)], results
    shipped = {
        line: sum(ParcelLine.objects.filter(order_line_id=line).values_list("quantity", flat=True))
        for line in (first.pk, second.pk)
    }
    assert shipped == {first.pk: 3, second.pk: 2}
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    assert OrderEvent.objects.filter(order=order, kind="shipped").count() == 1
    refused = [r for r in results if isinstance(r, str)]
    assert set(refused) <= {"INVALID_STATE_TRANSITION", "SHIPMENT_EXCEEDS_REMAINING"}


def test_a_batch_racing_one_click_shippers_ships_each_order_once():
    OrderSettings.current()
    orders = [paid_order((1, 2)) for _ in range(6)]
    batch_staff, clicker = make_staff(), make_staff()

    def ship(i):
        if i == 0:  # the batch, in two chunks
            waybills = [shipments.Waybill(o.pk, "yunda", f"YD{o.pk:05d}") for o in orders]
            return shipments.ship_orders(waybills, batch_staff, chunk=3)
        # The others ship single orders from both ends of the batch at once.
        order = orders[-i] if i % 2 else orders[i]
        try:
            return shipments.ship_rest(order, clicker, carrier="顺丰", tracking_number=f"SF{i:04d}").pk
        except DomainError as exc:
            return exc.code

    results = run_together(5, ship)
    assert not [r for r in results if isinstance(r, BaseException)], results
    refused_by_batch = results[0]
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.SHIPPED
        assert OrderEvent.objects.filter(order=order, kind="shipped").count() == 1
        assert sorted(ParcelLine.objects.filter(parcel__order=order).values_list("quantity", flat=True)) == [
            1,
            2,
        ]
        # The batch shipped it, or reported that someone else had.
        assert (order.carrier == "yunda") != (order.pk in refused_by_batch)
