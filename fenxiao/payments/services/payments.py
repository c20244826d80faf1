"""Starting a payment, and applying one the gateway has confirmed."""

import ipaddress
import logging
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.http import is_site_path
from fenxiao.orders.models import Order

from ..errors import AmountMismatch, PaymentNotAllowed, PaymentNotFound
from ..gateways import GatewayNotification, get_gateway
from ..models import NotificationOutcome, Payment, PaymentStatus

logger = logging.getLogger(__name__)


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
    # Only the gateways that want it are given it (the others do not take it).
    address = {"client_ip": client_ip} if gateway.needs_client_ip else {}
    if return_url and not is_site_path(return_url):
        # After paying, the gateway sends the buyer here: another site would be an open redirect.
        raise PaymentNotAllowed(_("支付完成后的返回地址只能是本站页面"))
    if order.status != Order.Status.PENDING_PAYMENT:
        raise PaymentNotAllowed(_("订单不是待付款状态，不能支付"))
    if order.pay_deadline <= timezone.now():
        raise PaymentNotAllowed(_("订单已超过付款时间"))
    existing = order.payments.filter(status=PaymentStatus.CREATED).order_by("-id")
    fresh_since = timezone.now() - gateway.pay_code_lifetime if gateway.pay_code_lifetime else None
    for payment in existing:
        # An in-app payment is opened for one payer: another WeChat user needs their own.
        if (payment.gateway, payment.amount, payment.payer_id) == (
            gateway_name,
            order.amount_due,
            payer_id,
        ) and (fresh_since is None or payment.created_at > fresh_since):
            return payment
    # An open payment for another amount (the price was adjusted), another gateway, another
    # payer, or whose QR code / prepay id has expired is closed at its gateway first, so the
    # buyer cannot pay twice.
    for payment in existing:
        close_payment(payment)
    with transaction.atomic():
        # Two taps on "pay" at once would both number their attempt P01 (a unique clash, a
        # 500): the order row serialises them, and the second reuses what the first opened.
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != Order.Status.PENDING_PAYMENT:
            raise PaymentNotAllowed(_("订单不是待付款状态，不能支付"))
        # An order has a handful of attempts at most: read them once for both questions.
        attempts = list(order.payments.order_by("-id"))
        wanted = (PaymentStatus.CREATED, gateway_name, order.amount_due, payer_id)
        opened = next(
            (
                p
                for p in attempts
                if (p.status, p.gateway, p.amount, p.payer_id) == wanted
                and (fresh_since is None or p.created_at > fresh_since)
            ),
            None,
        )
        if opened is not None:
            return opened
        # A random tail: an attempt whose answer was lost (and whose row was rolled back)
        # may exist at the gateway, which refuses its number for a trade with other details.
        out_trade_no = f"{order.number}P{len(attempts) + 1:02d}{secrets.token_hex(2).upper()}"
        amount = order.amount_due  # store credit, if any, has already paid the rest
        # The gateway is asked first so the row is written once, with its pay URL. Both happen
        # under the order's lock and in one transaction: if the insert failed, the gateway's
        # trade would be an unpaid one nobody is sent to (gateways are idempotent on the number).
        intent = gateway.create_payment(
            out_trade_no=out_trade_no,
            amount=amount,
            description=f"订单 {order.number}",
            return_url=return_url,
            expires_at=order.pay_deadline,
            payer_id=payer_id,
            **address,
        )
        payment = Payment.objects.create(
            order=order,
            gateway=gateway_name,
            amount=amount,
            out_trade_no=out_trade_no,
            pay_url=intent.pay_url,
            pay_code=intent.pay_code,
            return_url=return_url,
            payer_id=payer_id,
        )
    return payment


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
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


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
