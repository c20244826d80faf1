from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError, NotFound


class MessageNotFound(NotFound):
    code = "MESSAGE_NOT_FOUND"
    message = _("消息不存在")


class DeliveryNotRetryable(DomainError):
    code = "DELIVERY_NOT_RETRYABLE"
    message = _("该通知已发送或正在发送，无需重试")
    status = 409
