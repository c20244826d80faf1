"""Where the order lifecycle needs money moved: the only way `orders` reaches `payments`.

The direction between the two apps is fixed: **`payments` sits above `orders`.**

- `payments` imports `orders` freely: a payment pays an order, a refund pays back an
  after-sale; it applies a confirmed payment with `lifecycle.mark_paid` and closes an
  after-sale with `after_sales.refund_succeeded`.
- `orders` (models, services, tasks, API) never imports `fenxiao.payments`. When the
  lifecycle needs a gateway, it calls one of the moments below, and the payments app
  registers what answers them at startup (`PaymentsConfig.ready`). The order backend
  pages (`orders/admin`) are the one exception: they show the payment and refund rows of
  an order, and nothing imports them.

`orders/tests/test_layering.py` keeps this true.
"""

from typing import Protocol

from django.core.exceptions import ImproperlyConfigured


class PaymentsPort(Protocol):
    def start_payment(
        self, order, gateway_name: str, *, return_url: str = "", payer_id: str = "", client_ip: str = ""
    ):
        """Open (or reuse) a gateway payment for an unpaid order; returns it with `pay_url`.
        `client_ip` is the buyer's address, which some gateways (WeChat Pay H5) require."""

    def client_params(self, payment) -> dict[str, str] | None:
        """What an app opens the gateway's payment with (the mini-program's
        `wx.requestPayment`), or None for gateways paid on a page."""

    def close_open_payments(self, order) -> bool:
        """Close the order's unpaid gateway payments. False if one turns out paid (it is
        then applied, and committed, by the payments app)."""

    def payment_in_progress(self, order) -> bool:
        """Whether the order still has a gateway payment open (the buyer may be paying)."""

    def orders_with_open_payments(self, order_ids) -> set[int]:
        """Which of these orders still have a gateway payment open, in one query."""

    def refund(self, order, amount: int, *, reason: str, after_sale=None):
        """Pay `amount` back through the gateway payment that took it; returns the refund
        record. Call inside the transaction that decided it; the money moves after commit,
        at least once and once only, and the after-sale hears of it through
        `after_sales.refund_succeeded`. (Store credit is returned by `tenders` itself.)"""


_port: PaymentsPort | None = None


def register(port: PaymentsPort) -> None:
    """Called once at startup by the payments app."""
    global _port
    _port = port


def _payments() -> PaymentsPort:
    if _port is None:
        raise ImproperlyConfigured("fenxiao.payments is not installed: orders cannot take or return money")
    return _port


def start_payment(order, gateway_name: str, *, return_url: str = "", payer_id: str = "", client_ip: str = ""):
    """The buyer taps "pay"."""
    return _payments().start_payment(
        order, gateway_name, return_url=return_url, payer_id=payer_id, client_ip=client_ip
    )


def client_params(payment) -> dict[str, str] | None:
    """The app's payment parameters for a payment `start_payment` returned (or None)."""
    return _payments().client_params(payment)


def close_open_payments(order) -> bool:
    """Before an unpaid order is cancelled or repriced: no payment may stay open."""
    return _payments().close_open_payments(order)


def payment_in_progress(order) -> bool:
    """Checked with the order row locked, just before it is cancelled or repriced."""
    return _payments().payment_in_progress(order)


def orders_with_open_payments(order_ids) -> set[int]:
    """The timeout sweep, with a chunk of orders locked: those that must go to the gateway
    one by one; the rest are cancelled together."""
    return _payments().orders_with_open_payments(order_ids)


def refund(order, amount: int, *, reason: str, after_sale=None):
    """An after-sale was approved (or a paid order cancelled): the gateway's part goes back."""
    return _payments().refund(order, amount, reason=reason, after_sale=after_sale)
