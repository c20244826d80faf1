from fenxiao.core.errors import DomainError, NotFound


class MessageNotFound(NotFound):
    code = "MESSAGE_NOT_FOUND"
    message = "消息不存在"


class DeliveryNotRetryable(DomainError):
    code = "DELIVERY_NOT_RETRYABLE"
    message = "该通知已发送或正在发送，无需重试"
    status = 409
