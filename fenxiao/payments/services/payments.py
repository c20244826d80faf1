"""Starting a payment, and applying one the gateway has confirmed.

Starting keeps one invariant: an unpaid order has at most one open trade at its gateways
(the one the buyer was last sent to), however many pay requests arrive at once. Whether to
reuse an open trade or open a new one is decided under the order's row lock (on SQLite, the
write lock its IMMEDIATE transactions take), so simultaneous requests queue up and all but
the first reuse what it opened. An open trade that does not fit the request (another gateway,
payer, amount or network address, or a pay code past its life) is closed at its gateway
first, outside the lock; one that another request opened in between is found under the lock,
and the request goes round again to close it rather than leave two trades the buyer could
both pay. A trade whose gateway would not close it is the one exception: the buyer may pay
another way, and should both be paid, the second payment is refunded when it arrives.
"""

import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.http import is_site_path
from fenxiao.orders.models import Order

from ..errors import (
    AmountMismatch,
    GatewayRefused,
    GatewayUnavailable,
    GatewayUnreachable,
    PaymentNotAllowed,
    PaymentNotFound,
)
from ..gateways import GatewayNotification, PaymentGateway, get_gateway
from ..models import NotificationOutcome, Payment, PaymentStatus

logger = logging.getLogger(__name__)

# How many times one pay request closes what other requests for the order opened meanwhile
# before it gives up (the buyer keeps switching gateways or networks in several tabs).
OPEN_ROUNDS = 3


@dataclass(frozen=True)
class _Wanted:
    """What a pay request may be given: an open trade at its gateway for the order's amount,
    opened for the same payer (WeChat openid) and network address (WeChat Pay H5), whose pay
    code is still good."""

    gateway: str
    payer_id: str
    client_ip: str
    fresh_since: datetime | None

    def fits(self, payment: Payment, amount: int) -> bool:
        return (
            payment.status == PaymentStatus.CREATED
            and (payment.gateway, payment.amount, payment.payer_id) == (self.gateway, amount, self.payer_id)
            and same_address(payment.client_ip, self.client_ip)
            and (self.fresh_since is None or payment.created_at > self.fresh_since)
        )


def start_payment(
    order: Order, gateway_name: str, *, return_url: str = "", payer_id: str = "", client_ip: str = ""
) -> Payment:
    """Open (or reuse) a payment for an unpaid order and return it with the URL to pay at.
    `payer_id` is the buyer's id at the gateway when it needs one (a WeChat openid);
    `client_ip` the address the buyer's request came from (`core.http.client_ip`), which
    some gateways (WeChat Pay H5) check against where the buyer pays from."""
    gateway = get_gateway(gateway_name)
    if gateway.payer_from_account:
        # The mini-program's payer is the openid bound to the buyer's own account when they
        # signed in there: never one the request names, which could be anyone's.
        payer_id = _bound_openid(order.buyer_id, gateway.payer_appid)
    if not gateway.needs_payer_id:
        payer_id = ""
    elif not payer_id:
        raise PaymentNotAllowed(_("请在微信中打开商城并授权后再用微信支付"), code="PAYER_ID_REQUIRED")
    if gateway.needs_client_ip and not _is_ip(client_ip):
        # Only a caller that forgot to pass it (or a proxy that hides it) gets here.
        raise PaymentNotAllowed(_("无法识别您的网络地址，请换一种支付方式"), code="CLIENT_IP_REQUIRED")
    # Only the gateways that want it are given it (the others do not take it), and only theirs
    # keep it: their trade can be paid from that address alone.
    client_ip = str(ipaddress.ip_address(client_ip)) if gateway.needs_client_ip else ""
    if return_url and not is_site_path(return_url):
        # After paying, the gateway sends the buyer here: another site would be an open redirect.
        raise PaymentNotAllowed(_("支付完成后的返回地址只能是本站页面"))
    if order.status != Order.Status.PENDING_PAYMENT:
        raise PaymentNotAllowed(_("订单不是待付款状态，不能支付"))
    if order.pay_deadline <= timezone.now():
        raise PaymentNotAllowed(_("订单已超过付款时间"))
    lifetime = gateway.pay_code_lifetime
    wanted = _Wanted(gateway_name, payer_id, client_ip, timezone.now() - lifetime if lifetime else None)
    for _round in range(OPEN_ROUNDS):
        existing = _open_payments(order)
        reusable = next((p for p in existing if wanted.fits(p, order.amount_due)), None)
        if reusable is not None:
            # Any other still open (its gateway could not close it earlier) is closed now;
            # one found paid meanwhile has paid the order, which is then no longer payable.
            if not _close_all([p for p in existing if p.pk != reusable.pk]):
                _close_all([reusable])
                raise PaymentNotAllowed(_("订单不是待付款状态，不能支付"))
            return reusable
        # An open payment for another amount (the price was adjusted), another gateway, another
        # payer or address, or whose QR code / prepay id / h5_url has expired is closed at its
        # gateway first, so the buyer cannot pay twice. Outside the order's lock: a gateway
        # call, and one that may apply a payment made meanwhile (which locks the order).
        _close_all(existing)
        tried = {payment.pk for payment in existing}
        with transaction.atomic():
            # Simultaneous taps on "pay" queue up here: each decides under the order's lock,
            # so the second reuses what the first opened (and never numbers its attempt P01
            # too, a unique clash).
            order = Order.objects.select_for_update().get(pk=order.pk)
            if order.status != Order.Status.PENDING_PAYMENT:
                raise PaymentNotAllowed(_("订单不是待付款状态，不能支付"))
            # An order has a handful of attempts at most: read them once for every question.
            attempts = list(order.payments.order_by("-id"))
            opened = next((p for p in attempts if wanted.fits(p, order.amount_due)), None)
            if opened is not None:
                return opened
            if not any(p.status == PaymentStatus.CREATED and p.pk not in tried for p in attempts):
                return _open(order, gateway, wanted, len(attempts), return_url)
        # Another request opened a trade this one cannot use (another gateway, payer or
        # address) after the closing above: round again to close it before opening ours.
    raise PaymentNotAllowed(_("该订单正在发起另一笔支付，请稍后再试"), code="PAYMENT_IN_PROGRESS")


def _close_all(payments: list[Payment]) -> bool:
    """Close each at its gateway; False if one of them turned out to be paid (and the
    payment was applied)."""
    none_paid = True
    for payment in payments:
        try:
            none_paid = close_payment(payment) and none_paid
        except (GatewayUnreachable, GatewayRefused, GatewayUnavailable) as exc:
            # Left as it was: the buyer may still pay another way (WeChat Pay down, or a
            # gateway since switched off), and should both be paid, the second payment is
            # refunded when it arrives.
            logger.warning("could not close trade %s: %r", payment.out_trade_no, exc)
    return none_paid


def _open_payments(order: Order) -> list[Payment]:
    """The order's open payments, newest first, read without a lock (whatever is found is
    checked again under it)."""
    return list(order.payments.filter(status=PaymentStatus.CREATED).order_by("-id"))


def _open(order: Order, gateway: PaymentGateway, wanted: _Wanted, attempts: int, return_url: str) -> Payment:
    """Open a trade at the gateway and record it; the order is locked by the caller."""
    # A random tail: an attempt whose answer was lost (and whose row was rolled back) may
    # exist at the gateway, which refuses its number for a trade with other details.
    out_trade_no = f"{order.number}P{attempts + 1:02d}{secrets.token_hex(2).upper()}"
    amount = order.amount_due  # store credit, if any, has already paid the rest
    address = {"client_ip": wanted.client_ip} if gateway.needs_client_ip else {}
    # The gateway is asked first so the row is written once, with its pay URL. Both happen
    # under the order's lock and in one transaction: if the insert failed, the gateway's
    # trade would be an unpaid one nobody is sent to (gateways are idempotent on the number).
    intent = gateway.create_payment(
        out_trade_no=out_trade_no,
        amount=amount,
        description=f"订单 {order.number}",
        return_url=return_url,
        expires_at=order.pay_deadline,
        payer_id=wanted.payer_id,
        **address,
    )
    return Payment.objects.create(
        order=order,
        gateway=wanted.gateway,
        amount=amount,
        out_trade_no=out_trade_no,
        pay_url=intent.pay_url,
        pay_code=intent.pay_code,
        return_url=return_url,
        payer_id=wanted.payer_id,
        client_ip=wanted.client_ip or None,
    )


def same_address(opened_with: str | None, address: str | None) -> bool:
    """Whether two network addresses are one (however an IPv6 one is written); two empty
    ones are (a trade bound to no address)."""
    if not opened_with or not address:
        return not opened_with and not address
    try:
        return ipaddress.ip_address(opened_with) == ipaddress.ip_address(address)
    except ValueError:
        return False


def _bound_openid(buyer_id: int, appid: str) -> str:
    from fenxiao.customers.models import WechatIdentity

    openid = (
        WechatIdentity.objects.filter(user_id=buyer_id, appid=appid).values_list("openid", flat=True).first()
        if appid
        else None
    )
    if not openid:
        raise PaymentNotAllowed(
            _("请先在小程序中用微信登录商城账号，再用微信支付"), code="WECHAT_MINIPROGRAM_NOT_BOUND"
        )
    return openid


def client_params(payment: Payment) -> dict[str, str] | None:
    """What an app opens its gateway's payment with (`wx.requestPayment` in the
    mini-program), signed afresh; None for gateways paid on a page or a cashier."""
    gateway = get_gateway(payment.gateway)
    if not gateway.app_only or payment.status != PaymentStatus.CREATED or not payment.pay_code:
        return None
    return gateway.client_params(payment.pay_code)


def _is_ip(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    # A zone (fe80::1%eth0) names an interface of the machine that saw the address: never a
    # buyer's address, and not one the database can store.
    return not getattr(address, "scope_id", None)


def close_payment(payment: Payment) -> bool:
    """Close an unpaid payment at its gateway. False if the buyer has in fact paid it."""
    if payment.status != PaymentStatus.CREATED:
        return payment.status != PaymentStatus.SUCCEEDED
    gateway = get_gateway(payment.gateway)
    if not gateway.close(payment.out_trade_no):
        state = gateway.query(payment.out_trade_no)
        if state.paid and state.transaction_id:
            # The notification is late; apply what the gateway told us when we asked.
            apply_gateway_payment(payment.gateway, _as_notification(payment, state))
        return False
    Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(status=PaymentStatus.CLOSED)
    return True


def query_gateway(payment: Payment) -> str | None:
    """Ask the gateway about a payment still waiting for its notification, and apply it if
    the buyer has paid. For staff when a notification never arrived (the gateway gave up,
    or its retries are still to come). Returns the outcome, or None if not paid yet."""
    from fenxiao.core.errors import InvalidTransition

    if payment.status != PaymentStatus.CREATED:
        raise InvalidTransition(_("支付单已有结果，无需查询"), code="PAYMENT_ALREADY_SETTLED")
    state = get_gateway(payment.gateway).query(payment.out_trade_no)
    if not (state.paid and state.transaction_id):
        return None
    return apply_gateway_payment(payment.gateway, _as_notification(payment, state))


def _as_notification(payment: Payment, state) -> GatewayNotification:
    """What the gateway answered when asked about a paid trade, applied like its notification."""
    return GatewayNotification(
        out_trade_no=payment.out_trade_no,
        transaction_id=state.transaction_id,
        # No amount in the answer is no confirmation: the amount check refuses it.
        amount=state.amount,
        paid_at=state.paid_at or timezone.now(),
    )


def apply_gateway_payment(gateway_name: str, note: GatewayNotification) -> str:
    """Record a confirmed payment exactly once; returns the notification outcome.

    The payment row is locked, so simultaneous deliveries of one notification queue up and
    all but the first find the payment already succeeded.
    """
    from fenxiao.orders.services import lifecycle
    from fenxiao.payments.services import refunds

    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(out_trade_no=note.out_trade_no, gateway=gateway_name)
            .first()
        )
        if payment is None:
            raise PaymentNotFound()
        if payment.status == PaymentStatus.SUCCEEDED:
            if payment.transaction_id == note.transaction_id:
                return NotificationOutcome.DUPLICATE
            logger.error("payment %s reported paid twice with different transactions", payment.out_trade_no)
            return NotificationOutcome.DUPLICATE
        if note.amount != payment.amount:
            logger.error(
                "amount mismatch for %s: gateway says %s, expected %s",
                payment.out_trade_no,
                note.amount,
                payment.amount,
            )
            raise AmountMismatch(expected=payment.amount, received=note.amount)
        try:
            with transaction.atomic():
                Payment.objects.filter(pk=payment.pk).update(
                    status=PaymentStatus.SUCCEEDED, transaction_id=note.transaction_id, paid_at=note.paid_at
                )
        except IntegrityError:
            # The transaction id is already on another payment: a replay dressed up as new.
            return NotificationOutcome.DUPLICATE
        payment.status = PaymentStatus.SUCCEEDED
        payment.transaction_id = note.transaction_id
        payment.paid_at = note.paid_at
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        if lifecycle.mark_paid(order, payment):
            Payment.objects.filter(pk=payment.pk).update(applied=True)
            return NotificationOutcome.ACCEPTED
        # The order was cancelled (timeout) or already paid by another attempt: the money
        # goes straight back to the buyer.
        refunds.refund_unapplied_payment(payment, order)
        return NotificationOutcome.LATE_REFUNDED
