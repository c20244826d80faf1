"""What the payments app answers when the order lifecycle needs money moved.

Registered at startup as the implementation of `fenxiao.orders.services.payments_port`
(see that module for the direction between the two apps: payments above orders).
"""

from ..models import Payment, PaymentStatus
from . import payments, refunds


def start_payment(order, gateway_name: str, *, return_url: str = "", payer_id: str = "", client_ip: str = ""):
    return payments.start_payment(
        order, gateway_name, return_url=return_url, payer_id=payer_id, client_ip=client_ip
    )


def client_params(payment) -> dict[str, str] | None:
    return payments.client_params(payment)


def close_open_payments(order) -> bool:
    return all(payments.close_payment(p) for p in order.payments.filter(status=PaymentStatus.CREATED))


def payment_in_progress(order) -> bool:
    return order.payments.filter(status=PaymentStatus.CREATED).exists()


def orders_with_open_payments(order_ids) -> set[int]:
    return set(
        Payment.objects.filter(order_id__in=list(order_ids), status=PaymentStatus.CREATED).values_list(
            "order_id", flat=True
        )
    )


def refund(order, amount: int, *, reason: str, after_sale=None):
    return refunds.refund_order(order, amount, reason=reason, after_sale=after_sale)
