"""The promotions app's answers to `orders.services.promotions_port`."""

from . import groups, pricing, reservations


def price(quote, buyer, choice, now, shipping=None) -> None:
    pricing.price(quote, buyer, choice, now, shipping)


def order_placed(order, quote, buyer, choice) -> None:
    reservations.take(order, quote, buyer)


def order_paid(order) -> None:
    if order.awaiting_group:  # only group-buy orders: a plain payment costs no query here
        groups.member_paid(order)


def orders_closed(order_ids) -> None:
    reservations.give_back(order_ids)


def order_refunded_in_full(order) -> None:
    reservations.return_coupons([order.pk])
