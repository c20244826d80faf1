from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class GatewayUnavailable(DomainError):
    code = "PAYMENT_GATEWAY_UNAVAILABLE"
    message = _("不支持的支付方式")
    status = 400


class PaymentNotAllowed(DomainError):
    code = "PAYMENT_NOT_ALLOWED"
    message = _("订单当前不能支付")
    status = 409


class SignatureInvalid(DomainError):
    code = "PAYMENT_SIGNATURE_INVALID"
    message = _("支付通知签名校验失败")
    status = 400


class NotificationExpired(DomainError):
    code = "PAYMENT_NOTIFICATION_EXPIRED"
    message = _("支付通知已过期")
    status = 400


class NotificationMalformed(DomainError):
    code = "PAYMENT_NOTIFICATION_MALFORMED"
    message = _("支付通知格式错误")
    status = 400


class AmountMismatch(DomainError):
    code = "PAYMENT_AMOUNT_MISMATCH"
    message = _("支付金额与订单金额不符")
    status = 400


class PaymentNotFound(DomainError):
    code = "PAYMENT_NOT_FOUND"
    message = _("支付单不存在")
    status = 404


class RefundExceedsPayment(DomainError):
    code = "REFUND_EXCEEDS_PAID"
    message = _("退款金额不能超过实付金额")
    status = 400


class GatewayUnreachable(DomainError):
    code = "PAYMENT_GATEWAY_UNREACHABLE"
    message = _("支付渠道暂时无法连接，请稍后再试")
    status = 503


class GatewayRefused(DomainError):
    code = "PAYMENT_GATEWAY_REFUSED"
    message = _("支付渠道拒绝了本次支付，请稍后再试或换一种支付方式")
    status = 502


class NotificationIgnored(Exception):
    """A genuine notification about something other than a payment (a trade closed or
    refunded): acknowledged so the gateway stops sending it, and nothing is applied."""
