from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.statemachine import StateMachine
from fenxiao.orders.texts import reason_text


class PaymentStatus(models.TextChoices):
    CREATED = "created", _("待支付")
    SUCCEEDED = "succeeded", _("已支付")
    CLOSED = "closed", _("已关闭")


PAYMENT_FLOW = StateMachine(
    PaymentStatus,
    {
        PaymentStatus.CREATED: {PaymentStatus.SUCCEEDED, PaymentStatus.CLOSED},
        # A gateway may still report success for a payment we closed on our side (the buyer
        # paid in the last second); the money is real, so it is accepted and then refunded.
        PaymentStatus.CLOSED: {PaymentStatus.SUCCEEDED},
        PaymentStatus.SUCCEEDED: set(),
    },
)


class Payment(models.Model):
    """One attempt to pay an order through a gateway."""

    Status = PaymentStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payments", verbose_name=_("订单")
    )
    gateway = models.CharField(_("支付渠道"), max_length=32)
    out_trade_no = models.CharField(_("商户支付单号"), max_length=40, unique=True)
    amount = models.PositiveIntegerField(_("金额"))
    status = models.CharField(
        _("状态"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    transaction_id = models.CharField(_("渠道交易号"), max_length=64, unique=True, null=True, blank=True)
    pay_url = models.CharField(_("支付地址"), max_length=300, blank=True)
    # What the buyer's client pays with, from the gateway: the code URL a QR code shows
    # (WeChat Pay Native), or the prepay id WeChat's in-app payment opens (JSAPI).
    pay_code = models.CharField(_("支付凭据"), max_length=300, blank=True)
    # A site path the pay page sends the buyer to once paid.
    return_url = models.CharField(_("支付后返回地址"), max_length=300, blank=True)
    # Who the trade was opened for, when the gateway must know (a WeChat openid for JSAPI).
    payer_id = models.CharField(_("付款人标识"), max_length=64, blank=True)
    # The buyer's network address the trade was opened with, when the gateway binds the trade
    # to it (WeChat Pay H5 lets only that address pay): a buyer who has changed networks gets
    # a new trade rather than one WeChat would refuse.
    client_ip = models.GenericIPAddressField(_("付款人网络地址"), null=True, blank=True)
    # The one successful payment that paid the order; any other success is refunded.
    applied = models.BooleanField(_("计入订单"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("支付记录")
        verbose_name_plural = pgettext_lazy("plural", "支付记录")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(applied=True), name="one_applied_payment_per_order"
            ),
        ]

    def __str__(self):
        return self.out_trade_no


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("退款中")
    PROCESSING = "processing", _("渠道处理中")
    SUCCEEDED = "succeeded", _("已退款")
    FAILED = "failed", _("退款失败")


REFUND_FLOW = StateMachine(
    RefundStatus,
    {
        # A worker claims the refund before it calls the gateway.
        RefundStatus.PENDING: {RefundStatus.PROCESSING},
        RefundStatus.PROCESSING: {
            RefundStatus.SUCCEEDED,
            RefundStatus.FAILED,
            # The call did not come back (network error, or the worker died and the
            # sweeper found the claim expired): try again with the same refund number.
            RefundStatus.PENDING,
        },
        # The gateway refused: staff may retry once the cause is fixed.
        RefundStatus.FAILED: {RefundStatus.PENDING},
        RefundStatus.SUCCEEDED: set(),
    },
)
# Staff may re-drive a refund in any of these states; the gateway call is idempotent on
# the refund number, so a re-drive never pays twice.
RETRYABLE_REFUND = (RefundStatus.PENDING, RefundStatus.PROCESSING, RefundStatus.FAILED)


class Refund(models.Model):
    Status = RefundStatus

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("支付记录")
    )
    after_sale = models.ForeignKey(
        "orders.AfterSale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("售后单"),
    )
    out_refund_no = models.CharField(_("商户退款单号"), max_length=40, unique=True)
    amount = models.PositiveIntegerField(_("退款金额"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    gateway_refund_id = models.CharField(_("渠道退款号"), max_length=64, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.CharField(_("最近一次错误"), max_length=300, blank=True)
    # Pending: when the sweeper may (re)start it. Processing: the claim's deadline, after
    # which the attempt is presumed dead (worker killed) and the refund is re-driven.
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("退款记录")
        verbose_name_plural = pgettext_lazy("plural", "退款记录")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]

    def __str__(self):
        return self.out_refund_no

    @property
    def reason_text(self) -> str:
        """The reason in the active language. A refund keeps its after-sale's reason (a listed
        reason's Chinese label, or one the system wrote: 取消订单, 拼团失败，全额退款 …) or,
        for a payment that came after its order closed, the system's own sentence: those are
        catalog entries and are translated; what a person typed is in no catalog and reads
        as typed (as `AfterSale.reason_text`)."""
        return reason_text(self.reason)


class NotificationOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("已入账")
    DUPLICATE = "duplicate", _("重复通知")
    BAD_SIGNATURE = "bad_signature", _("签名错误")
    EXPIRED = "expired", _("过期/重放")
    AMOUNT_MISMATCH = "amount_mismatch", _("金额不符")
    UNKNOWN_PAYMENT = "unknown_payment", _("未知支付单")
    MALFORMED = "malformed", _("格式错误")
    LATE_REFUNDED = "late_refunded", _("订单已关闭，已原路退回")
    IGNORED = "ignored", _("非支付通知，无需处理")


class PaymentNotification(models.Model):
    """Every callback a gateway sends, kept as received, with what we made of it."""

    Outcome = NotificationOutcome

    gateway = models.CharField(_("支付渠道"), max_length=32)
    out_trade_no = models.CharField(_("商户支付单号"), max_length=40, blank=True, db_index=True)
    transaction_id = models.CharField(_("渠道交易号"), max_length=64, blank=True)
    amount = models.BigIntegerField(_("通知金额"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=20, choices=NotificationOutcome.choices)
    detail = models.CharField(_("说明"), max_length=300, blank=True)
    body = models.TextField(_("原文"), blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("支付通知")
        verbose_name_plural = pgettext_lazy("plural", "支付通知")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.out_trade_no} {self.outcome}"


class RefusedNotificationTally(models.Model):
    """How many notifications were refused, per gateway, reason and hour.

    Anyone can post to the notify URL, so refused notifications are counted here and only
    the first few of each hour and reason are kept in full: an anonymous client cannot
    grow the database faster than a fixed number of rows an hour.
    """

    gateway = models.CharField(_("支付渠道"), max_length=32)
    outcome = models.CharField(_("拒绝原因"), max_length=20, choices=NotificationOutcome.choices)
    hour = models.DateTimeField(_("时段"))
    count = models.PositiveIntegerField(_("次数"), default=0)
    last_at = models.DateTimeField(_("最近一次"), auto_now=True)

    class Meta:
        verbose_name = _("被拒通知统计")
        verbose_name_plural = pgettext_lazy("plural", "被拒通知统计")
        ordering = ["-hour", "gateway", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "outcome", "hour"], name="one_tally_per_reason_hour"),
        ]

    def __str__(self):
        return f"{self.gateway} {self.outcome} {self.hour:%Y-%m-%d %H}:00 ×{self.count}"


class DeliveryStatus(models.TextChoices):
    NONE = "", _("无需通知")
    PENDING = "pending", _("待投递")
    SENDING = "sending", _("投递中")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("投递失败")


RETRYABLE_DELIVERY = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.FAILED)


class SandboxTradeStatus(models.TextChoices):
    OPEN = "open", _("待支付")
    PAID = "paid", _("已支付")
    CLOSED = "closed", _("已关闭")


class SandboxTrade(models.Model):
    """The sandbox gateway's own books: what the "bank side" knows about a payment.

    Kept apart from `Payment` on purpose, so the mall learns of a payment only through the
    signed notification, exactly as with a real gateway.
    """

    Status = SandboxTradeStatus

    out_trade_no = models.CharField(_("商户订单号"), max_length=40, unique=True)
    trade_no = models.CharField(_("渠道交易号"), max_length=64, unique=True, null=True, blank=True)
    amount = models.PositiveIntegerField(_("金额"))
    refunded_amount = models.PositiveIntegerField(_("已退款"), default=0)
    description = models.CharField(_("商品说明"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=SandboxTradeStatus.choices, default=SandboxTradeStatus.OPEN
    )
    notify_url = models.CharField(_("通知地址"), max_length=300)
    return_url = models.CharField(_("返回地址"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    notified_at = models.DateTimeField(_("通知送达时间"), null=True, blank=True)
    notify_attempts = models.PositiveIntegerField(_("通知次数"), default=0)
    # The gateway's own outbox for the payment notification: retried with backoff until
    # the mall answers SUCCESS, re-driven by the sweeper if a delivery dies mid-way.
    notify_status = models.CharField(
        _("通知状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.NONE, blank=True
    )
    notify_next_at = models.DateTimeField(_("下次投递时间"), null=True, blank=True, db_index=True)
    notify_last_error = models.CharField(_("最近一次错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("沙箱交易")
        verbose_name_plural = pgettext_lazy("plural", "沙箱交易")
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("amount")), name="sandbox_refund_not_above_amount"
            ),
        ]

    def __str__(self):
        return self.out_trade_no


def _sandbox_refund_id() -> str:
    import secrets

    return "SBR" + secrets.token_hex(10).upper()


class SandboxRefund(models.Model):
    """The sandbox gateway's refund book, unique on the merchant's refund number."""

    out_refund_no = models.CharField(max_length=40, unique=True)
    out_trade_no = models.CharField(max_length=40)
    amount = models.PositiveIntegerField()
    refund_id = models.CharField(max_length=64, unique=True, default=_sandbox_refund_id)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("沙箱退款")
        verbose_name_plural = pgettext_lazy("plural", "沙箱退款")

    def __str__(self):
        return self.out_refund_no
