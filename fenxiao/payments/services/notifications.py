"""Incoming gateway callbacks: verified, applied once, and logged within bounds.

The notify URL is public. Every notification that is applied (or recognised as a
duplicate) is kept in full: each one is about a real payment. A refused one (bad
signature, expired, malformed, unknown payment, wrong amount) may come from anyone, so it
is counted in one `RefusedNotificationTally` row per gateway, reason and hour, and kept in
full only while that hour's count is within `REFUSED_KEPT_PER_HOUR`. However many an
anonymous client sends, the log grows by a bounded number of rows an hour.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation

from fenxiao.core.errors import DomainError

from ..errors import (
    AmountMismatch,
    NotificationExpired,
    NotificationIgnored,
    PaymentNotFound,
    SignatureInvalid,
)
from ..gateways import get_gateway
from ..models import NotificationOutcome, PaymentNotification, RefusedNotificationTally
from .payments import apply_gateway_payment

logger = logging.getLogger(__name__)

# Detailed rows kept per gateway, reason and hour; beyond that refusals are only counted.
REFUSED_KEPT_PER_HOUR = 20

_OUTCOME_FOR = {
    SignatureInvalid: NotificationOutcome.BAD_SIGNATURE,
    NotificationExpired: NotificationOutcome.EXPIRED,
    AmountMismatch: NotificationOutcome.AMOUNT_MISMATCH,
    PaymentNotFound: NotificationOutcome.UNKNOWN_PAYMENT,
}


def handle_notification(gateway_name: str, headers: dict[str, str], body: bytes) -> str:
    # A gateway calls, not a visitor: a refusal is kept on the row in the shop's language,
    # whatever Accept-Language the call carried.
    with translation.override(settings.LANGUAGE_CODE):
        return _handle_notification(gateway_name, headers, body)


def _handle_notification(gateway_name: str, headers: dict[str, str], body: bytes) -> str:
    gateway = get_gateway(gateway_name)
    log = PaymentNotification(gateway=gateway_name, body=body.decode("utf-8", "replace")[:4000])
    try:
        note = gateway.verify_notification(headers, body)
        log.out_trade_no = note.out_trade_no
        log.transaction_id = note.transaction_id
        log.amount = note.amount
        log.outcome = apply_gateway_payment(gateway_name, note)
    except NotificationIgnored:
        log.outcome = NotificationOutcome.IGNORED
    except DomainError as exc:
        log.outcome = _OUTCOME_FOR.get(type(exc), NotificationOutcome.MALFORMED)
        log.detail = exc.message
        _log_refused(log)
        logger.warning("payment notification refused: %s %s", exc.code, log.out_trade_no)
        raise
    log.save()
    return log.outcome


def _log_refused(log: PaymentNotification) -> None:
    if count_refused(log.gateway, log.outcome) <= REFUSED_KEPT_PER_HOUR:
        log.save()


def count_refused(gateway_name: str, outcome: str, now=None) -> int:
    """Add one to this hour's tally for the reason; returns the count including this one.

    The increment is one UPDATE on the tally row, which also serialises simultaneous
    refusals, so the cap on detailed rows holds under concurrency.
    """
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    key = {"gateway": gateway_name, "outcome": outcome, "hour": hour}
    with transaction.atomic():
        if not RefusedNotificationTally.objects.filter(**key).update(
            count=F("count") + 1, last_at=timezone.now()
        ):
            try:
                with transaction.atomic():
                    RefusedNotificationTally.objects.create(count=1, **key)
                    return 1
            except IntegrityError:  # created by a simultaneous refusal a moment ago
                RefusedNotificationTally.objects.filter(**key).update(
                    count=F("count") + 1, last_at=timezone.now()
                )
        return RefusedNotificationTally.objects.filter(**key).values_list("count", flat=True).get()
