"""The points where the distribution engine joins the order lifecycle.

Order services call these explicitly, inside their transaction, at the moment the fact
becomes true. Keeping them in one module makes the contract visible: what the
distribution engine may rely on, and when.
"""

from django.db.models import F

from fenxiao.catalog.models import Product

from ..models import Order, OrderLine


def order_paid(order: Order) -> None:
    """The order has just been paid (status pending_shipment, paid_amount set).

    Distribution: attribute commission as `pending` on each line.
    """
    lines = list(order.lines.all())
    for product_id, quantity in _quantities_by_product(lines).items():
        Product.objects.filter(pk=product_id).update(sales_count=F("sales_count") + quantity)


def order_completed(order: Order) -> None:
    """The buyer confirmed receipt, or the order auto-completed.

    Distribution: freeze the order's commission until completed_at + freeze_days.
    """


def lines_refunded(order: Order, refunded: list[tuple[OrderLine, int, int]]) -> None:
    """Money went back to the buyer: (line, amount, quantity) for each line touched.

    Distribution: reduce or cancel commission before settlement; claw back after it.
    """
    returned = {}
    for line, _amount, quantity in refunded:
        if quantity:
            returned[line.product_id] = returned.get(line.product_id, 0) + quantity
    for product_id, quantity in returned.items():
        Product.objects.filter(pk=product_id, sales_count__gte=quantity).update(
            sales_count=F("sales_count") - quantity)


def _quantities_by_product(lines: list[OrderLine]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + line.quantity
    return totals
