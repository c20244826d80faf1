"""The adapter interface every payment gateway (WeChat Pay, Alipay, the sandbox) implements."""

import abc
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PaymentIntent:
    pay_url: str
    # What the buyer's client pays with, if the mall's own page (or app) shows it: the URL a
    # QR code encodes (scan-to-pay), or a prepay id an in-app payment opens.
    pay_code: str = ""


@dataclass(frozen=True)
class TradeState:
    paid: bool
    closed: bool
    transaction_id: str | None = None
    amount: int | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class GatewayNotification:
    """A verified payment notification, in the mall's terms."""

    out_trade_no: str
    transaction_id: str
    amount: int
    paid_at: datetime


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    # The gateway took the refund and is still paying it out: ask again later.
    pending: bool = False
    gateway_refund_id: str = ""
    failure_reason: str = ""


class PaymentGateway(abc.ABC):
    name: str
    label: str
    # How the mall's own pay page (`views.payment_page`) lets the buyer pay: "" (the
    # gateway has its cashier), "qr" (show `pay_code` as a QR code), "jsapi" (open WeChat's
    # in-app payment with `client_params`), "h5" (send a phone's browser to `pay_link`, which
    # opens the WeChat app).
    pay_page: str = ""
    # Offered only inside WeChat's browser (True), only outside it (False), or anywhere.
    in_wechat: bool | None = None
    # Offered only on a phone or tablet (True), only on a computer (False), or anywhere.
    on_phone: bool | None = None
    # The payer must be known (`payer_id`) before a trade can be opened.
    needs_payer_id: bool = False
    # The payer is the account's own openid under `payer_appid` (bound when it signed in
    # there), which the payments service looks up; whatever the request says is ignored.
    payer_from_account: bool = False
    payer_appid: str = ""
    # Paid inside an app (a WeChat mini-program) with `client_params`, never on a web page:
    # offered through the API only, not listed by the H5 pages (`gateway_choices`).
    app_only: bool = False
    # The buyer's network address must go with the trade (`create_payment(client_ip=…)`):
    # the gateway checks it against where the buyer pays from.
    needs_client_ip: bool = False
    # What the gateway must read back to stop re-sending a notification (Alipay: "success");
    # empty: the mall's JSON answer with HTTP 200.
    ack_text: str = ""
    # How long a trade's `pay_code` can be paid with; an open payment older than this is
    # closed and opened afresh rather than handed out again (None: as long as the order).
    pay_code_lifetime: timedelta | None = None

    @abc.abstractmethod
    def create_payment(
        self,
        *,
        out_trade_no: str,
        amount: int,
        description: str,
        return_url: str,
        expires_at: datetime | None = None,
        payer_id: str = "",
    ) -> PaymentIntent:
        """Open a trade at the gateway; the buyer is sent to the returned URL to pay.
        Idempotent on `out_trade_no`. `expires_at` is when the order stops taking payment;
        `payer_id` is who pays, for gateways that must know (a WeChat openid). Gateways
        that declare `needs_client_ip` also take `client_ip`, the buyer's address."""

    @abc.abstractmethod
    def query(self, out_trade_no: str) -> TradeState:
        """Ask the gateway what it knows about a trade."""

    @abc.abstractmethod
    def close(self, out_trade_no: str) -> bool:
        """Close an unpaid trade. False when the buyer has already paid it."""

    def closed_unless_paid(self, out_trade_no: str, refusal: str) -> bool:
        """After the gateway refused to close a trade: paid meanwhile (False), closed already
        (True), or a real failure (GatewayRefused), as its query says."""
        from ..errors import GatewayRefused

        state = self.query(out_trade_no)
        if state.paid:
            return False
        if state.closed:
            return True
        raise GatewayRefused(gateway=refusal)

    @abc.abstractmethod
    def refund(
        self, *, out_trade_no: str, out_refund_no: str, amount: int, reason: str, total: int | None = None
    ) -> RefundResult:
        """Return money to the buyer. Must be idempotent on `out_refund_no`. `total` is what
        the trade took (some gateways want it with every refund)."""

    @abc.abstractmethod
    def verify_notification(self, headers: dict[str, str], body: bytes) -> GatewayNotification:
        """Check a callback's signature and freshness and parse it, or raise a DomainError."""
