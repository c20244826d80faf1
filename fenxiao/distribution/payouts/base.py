"""What every payout adapter offers: a transfer, idempotent on the merchant's number, and
what the far side says of it."""

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class PayoutResult:
    """The far side's word on one transfer: paid (`succeeded`), refused (`failure_reason`,
    the money did not move), or `waiting`: accepted, with the outcome still to come (asked
    again with `query`, or told by a notification).

    `confirm_package` is WeChat 商家转账's 收款确认 package: the money reaches the recipient
    only once they confirm receipt in WeChat with it.
    """

    succeeded: bool
    reference: str = ""
    failure_reason: str = ""
    waiting: bool = False
    confirm_package: str = ""

    @classmethod
    def paid(cls, reference: str) -> "PayoutResult":
        return cls(True, reference=reference)

    @classmethod
    def refused(cls, reason: str, reference: str = "") -> "PayoutResult":
        return cls(False, reference=reference, failure_reason=reason)

    @classmethod
    def pending(cls, reference: str = "", confirm_package: str = "") -> "PayoutResult":
        return cls(False, reference=reference, waiting=True, confirm_package=confirm_package)


@dataclass(frozen=True)
class PayoutNotice:
    """A verified notification of a transfer's outcome: which transfer, how much, and what
    became of it."""

    out_biz_no: str
    amount: int
    result: PayoutResult


class PayoutGateway(abc.ABC):
    """One payout channel. Any exception from a call means "no answer": the caller asks
    again later with the same number, which never pays twice."""

    def __init__(self, channel: str):
        self.channel = channel

    @abc.abstractmethod
    def transfer(self, *, out_biz_no: str, amount: int, account: dict) -> PayoutResult:
        """Send `amount` fen to the account; the same out_biz_no never pays twice."""

    def query(self, *, out_biz_no: str, amount: int, account: dict) -> PayoutResult:
        """The present state of a transfer that answered `waiting`. Asking `transfer` again
        with the same number answers with the first transfer, where the service allows it."""
        return self.transfer(out_biz_no=out_biz_no, amount=amount, account=account)

    def parse_notification(self, headers: dict[str, str], body: bytes) -> PayoutNotice:
        """A verified notification (headers in lower case). Raises on anything not signed by
        the service, or not about a transfer."""
        from ..errors import PayoutNotificationUnsupported

        raise PayoutNotificationUnsupported()
