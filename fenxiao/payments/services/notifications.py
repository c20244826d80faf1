"""Incoming gateway callbacks: verified, applied once, and always logged."""

import logging

from fenxiao.core.errors import DomainError

from ..errors import (
    AmountMismatch,
    NotificationExpired,
    PaymentNotFound,
    SignatureInvalid,
)
from ..gateways import get_gateway
from ..models import NotificationOutcome, PaymentNotification
from .payments import apply_gateway_payment

logger = logging.getLogger(__name__)

_OUTCOME_FOR = {
    SignatureInvalid: NotificationOutcome.BAD_SIGNATURE,
    NotificationExpired: NotificationOutcome.EXPIRED,
    AmountMismatch: NotificationOutcome.AMOUNT_MISMATCH,
    PaymentNotFound: NotificationOutcome.UNKNOWN_PAYMENT,
}


def handle_notification(gateway_name: str, headers: dict[str, str], body: bytes) -> str:
    gateway = get_gateway(gateway_name)
    log = PaymentNotification(gateway=gateway_name, body=body.decode("utf-8", "replace")[:4000])
    try:
        note = gateway.verify_notification(headers, body)
        log.out_trade_no = note.out_trade_no
        log.transaction_id = note.transaction_id
        log.amount = note.amount
        log.outcome = apply_gateway_payment(gateway_name, note)
    except DomainError as exc:
        log.outcome = _OUTCOME_FOR.get(type(exc), NotificationOutcome.MALFORMED)
        log.detail = exc.message
        log.save()
        logger.warning("payment notification refused: %s %s", exc.code, log.out_trade_no)
        raise
    log.save()
    return log.outcome
