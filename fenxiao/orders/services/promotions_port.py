"""Where checkout and the order lifecycle meet promotions: the only way `orders` reaches
`fenxiao.promotions`, which sits above it (as `payments` does, see `payments_port`).

The promotions app registers what answers these moments at startup
(`PromotionsConfig.ready`). Without it the mall sells at catalog prices: no discounts, no
reservations, nothing held back from shipping.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

AUTO = "auto"

# What sending the goods would cost were each line (in the quote's order) to pay these
# amounts after discounts, before any 包邮 promotion waives it. Plain arithmetic on data
# checkout has already read: it never queries, so the engine may call it many times.
ShippingFee = Callable[[list[int]], int]


@dataclass(frozen=True)
class Choice:
    """What the buyer chose at checkout beyond the goods.

    `coupon`: a buyer coupon id, None for no coupon, or AUTO for the best applicable one.
    `group_promotion` opens a new group in that group-buy promotion; `join_group` joins an
    open group. Both price the (single) line at the group price."""

    coupon: int | str | None = AUTO
    group_promotion: int | None = None
    join_group: int | None = None


class PromotionsPort(Protocol):
    def price(self, quote, buyer, choice: Choice, now, shipping: ShippingFee | None = None) -> None:
        """Apply promotions to a quote in the one order that is allowed: flash/group price →
        满减 → coupon. Sets each line's unit price, subtotal and discount share, records
        every discount (`quote.discounts`) and whether shipping is waived.

        What the engine picks by itself (which 满减, the coupon under AUTO) is what the
        buyer pays least for in the end: goods after discounts plus `shipping` of them (no
        postage when `shipping` is None, e.g. pickup)."""

    def order_placed(self, order, quote, buyer, choice: Choice) -> None:
        """Inside checkout's transaction, after the lines are written: take flash stock, the
        buyer's allowance, the coupon, the group seat — or raise, and nothing is written."""

    def order_paid(self, order) -> None:
        """Inside the payment's transaction (a group counts its paid member)."""

    def orders_closed(self, order_ids) -> None:
        """These orders were cancelled (unpaid, or refunded in full before shipping): give
        back what they took (flash stock, allowance, coupon, group seat), set-based, once."""

    def order_refunded_in_full(self, order) -> None:
        """Everything the buyer paid has been refunded: the coupon returns if still valid."""


class _NoPromotions:
    def price(self, quote, buyer, choice, now, shipping=None):
        return None

    def order_placed(self, order, quote, buyer, choice):
        return None

    def order_paid(self, order):
        return None

    def orders_closed(self, order_ids):
        return None

    def order_refunded_in_full(self, order):
        return None


_port: PromotionsPort = _NoPromotions()


def register(port: PromotionsPort) -> None:
    """Called once at startup by the promotions app."""
    global _port
    _port = port


def price(quote, buyer, choice: Choice, now, shipping: ShippingFee | None = None) -> None:
    _port.price(quote, buyer, choice, now, shipping)


def order_placed(order, quote, buyer, choice: Choice) -> None:
    _port.order_placed(order, quote, buyer, choice)


def order_paid(order) -> None:
    _port.order_paid(order)


def orders_closed(order_ids) -> None:
    _port.orders_closed(list(order_ids))


def order_refunded_in_full(order) -> None:
    _port.order_refunded_in_full(order)
