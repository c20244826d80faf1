"""What the review tests share: orders placed, paid, shipped and received, ready to review."""

from fenxiao.orders.models import Order
from fenxiao.orders.services import lifecycle
from fenxiao.testing import make_staff

from .backend import make_order, pay


def completed_order(*, prices=(4990,), buyer=None) -> Order:
    order = pay(make_order(prices=prices, buyer=buyer))
    order = lifecycle.ship(
        order, make_staff(f"shipper{order.pk}"), carrier="顺丰", tracking_number=f"SF{order.pk}"
    )
    order = lifecycle.complete(order, actor=order.buyer)
    order.refresh_from_db()
    return order
