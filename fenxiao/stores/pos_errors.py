"""Refusals of the POS sync API (code + Chinese message). Kept beside `stores` rather than in
its `errors.py` so the POS work merges cleanly with the rest of the stores app."""

from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class PosAuthError(DomainError):
    code = "POS_AUTH_FAILED"
    message = _("收银系统认证失败")
    status = 401


class PosKeyMissing(PosAuthError):
    code = "POS_KEY_MISSING"
    message = _("缺少签名请求头（X-Fenxiao-Key、X-Fenxiao-Timestamp、X-Fenxiao-Nonce、X-Fenxiao-Signature）")


class PosKeyUnknown(PosAuthError):
    code = "POS_KEY_INVALID"
    message = _("密钥不存在或已停用")


class PosTimestampInvalid(PosAuthError):
    code = "POS_TIMESTAMP_EXPIRED"
    message = _("请求时间戳无效或与服务器时间相差超过 300 秒")


class PosNonceInvalid(PosAuthError):
    code = "POS_NONCE_INVALID"
    message = _("随机串（nonce）需为 8-64 位字母、数字、- 或 _")


class PosReplayed(PosAuthError):
    code = "POS_REQUEST_REPLAYED"
    message = _("该请求已处理过（随机串重复使用），请使用新的随机串")


class PosSignatureInvalid(PosAuthError):
    code = "POS_SIGNATURE_INVALID"
    message = _("签名校验失败")


class IdempotencyKeyMissing(DomainError):
    code = "IDEMPOTENCY_KEY_MISSING"
    message = _("写入请求需要 Idempotency-Key 请求头（1-100 个可见字符）")
    status = 400


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    message = _("该幂等键已用于内容不同的请求")
    status = 409


class UnknownSku(DomainError):
    code = "POS_UNKNOWN_SKU"
    message = _("存在商城中没有的 SKU 编码")
    status = 400


class PosPayloadInvalid(DomainError):
    code = "POS_PAYLOAD_INVALID"
    message = _("请求内容有误")
    status = 400


class PosSaleNotFound(DomainError):
    code = "POS_SALE_NOT_FOUND"
    message = _("该门店没有这个收银单号的销售")
    status = 404


class PosRefundExceedsSale(DomainError):
    code = "POS_REFUND_EXCEEDS_SALE"
    message = _("退货数量或金额超过该笔销售剩余可退的部分")
    status = 409
