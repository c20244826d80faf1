"""The points where the distribution engine joins the order lifecycle.

Order services call these explicitly, inside their transaction, at the moment the fact
becomes true. Keeping them in one module makes the contract visible: what the
distribution engine may rely on, and when.
"""

from django.db.models import prefetch_related_objects

from fenxiao.catalog.services.sales import add_sales, remove_sales
from fenxiao.customers.services import figures as customer_figures
from fenxiao.distribution.models.texts import UNSOLD_ORDER
from fenxiao.distribution.services import attribution, binding, commissions, config, distributors, totals

from ..models import Order, OrderLine
from . import promotions_port


def order_placed(order: Order) -> None:
    """Checkout created the order: snapshot who earns on it (levels 1–3), so a rebind
    before payment never moves the commission."""
    attribution.attribute_order(order)


def order_paid(order: Order) -> None:
    """The order has just been paid (status pending_shipment, paid_amount set):
    commission becomes `pending` (estimated) on each line."""
    prefetch_related_objects([order], "lines")  # read once, for the counts and the commissions
    add_sales(_quantities_by_product(list(order.lines.all())))  # counted once the payment commits
    promotions_port.order_paid(order)  # a group-buy member now counts towards its group
    # The distribution settings, read once for both the commission and the binding renewal
    # (the same transaction, so both see the same record).
    cfg = config.current()
    commissions.create_for_paid_order(order, cfg)
    binding.renew_on_purchase(order.buyer_id, cfg)
    customer_figures.record_paid_order(order)  # the buyer's row in the customer list; last, as on refund


def orders_cancelled(order_ids: list[int]) -> None:
    """Orders were cancelled, unpaid (buyer, staff, timeout sweep) or refunded in full before
    shipping: what promotions lent them (flash stock, the buyer's limit, the coupon, a group
    seat) goes back, once."""
    promotions_port.orders_closed(order_ids)


def order_closed_unsold(order: Order) -> None:
    """An unshipped order was closed with part of its money kept (every unit refunded for
    less than paid): no goods were sold, so its commission is cancelled."""
    commissions.cancel_for_unsold_order(order, UNSOLD_ORDER % {"number": order.number})


def order_refunded_in_full(order: Order) -> None:
    """Everything paid on a shipped or completed order has been refunded (approved): its
    coupon returns to the buyer if still valid."""
    promotions_port.order_refunded_in_full(order)


def order_completed(order: Order) -> None:
    """The buyer confirmed receipt, or the order auto-completed: commission is frozen until
    the later of the freeze end and the close of the after-sale window, and the buyer may
    now qualify as a distributor."""
    commissions.freeze_for_completed_order(order)
    distributors.check_condition_after_completion(order.buyer)


def refund_approved(order: Order, amount: int) -> None:
    """The order's refunded amount grew by `amount` (lines and shipping) in this
    transaction: its level-1 distributor's sales shrink by as much. Called last, as a
    payment takes the running totals last, so the two never wait on each other crosswise."""
    totals.order_refunded(order.pk, amount)
    customer_figures.record_refund(order, amount)  # after the totals: the order a payment takes them in


def orders_completed(order_ids: list[int], buyer_ids: set[int], completed_at) -> None:
    """`order_completed` for a chunk of orders auto-completed together at `completed_at`
    (the sweep): the same facts, the commission in one statement for the chunk (in 满足条件
    mode, the buyers not yet distributors measured together too)."""
    commissions.freeze_for_completed_orders(order_ids, completed_at)
    distributors.check_condition_after_completions(buyer_ids)


def lines_refunded(order: Order, refunded: list[tuple[OrderLine, int, int]]) -> None:
    """Money went back to the buyer: (line, amount, quantity) for each line touched.
    Commission is reduced in proportion or cancelled before settlement, clawed back after
    (last: it moves the distributors' running totals, the lock a payment takes last too)."""
    returned = {}
    for line, _amount, quantity in refunded:
        if quantity:
            returned[line.product_id] = returned.get(line.product_id, 0) + quantity
    remove_sales(returned)
    commissions.apply_line_refunds(order, [line for line, _amount, _qty in refunded])


def _quantities_by_product(lines: list[OrderLine]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for line in lines:
        counts[line.product_id] = counts.get(line.product_id, 0) + line.quantity
    return counts
