"""In-site messages and the outbox that carries them to external channels.

A `Message` is what the buyer reads under 我的 → 消息. A `Delivery` is one message on one
external channel (SMS, WeChat template message): a row with a status, an attempt count and
a next-attempt time, written in the transaction that writes the message and handed to the
channel's adapter after commit (at least once; `services/delivery.py`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Kind(models.TextChoices):
    ORDER_SHIPPED = "order_shipped", "订单发货"
    REFUND_DONE = "refund_done", "退款到账"
    AFTER_SALE_APPROVED = "after_sale_approved", "售后已同意"
    AFTER_SALE_CLOSED = "after_sale_closed", "售后已关闭"
    COMMISSION_ARRIVED = "commission_arrived", "新佣金"
    COMMISSION_SETTLED = "commission_settled", "佣金结算"
    WITHDRAWAL_PAID = "withdrawal_paid", "提现到账"
    WITHDRAWAL_REJECTED = "withdrawal_rejected", "提现被拒"
    DISTRIBUTOR_APPROVED = "distributor_approved", "分销商审核通过"
    DISTRIBUTOR_REJECTED = "distributor_rejected", "分销商审核未通过"
    CLAIM_DECIDED = "claim_decided", "掉单申诉结果"
    # To superusers and 运营: a webhook endpoint failing for a day was disabled.
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook 停用"
    # Staff's targeted push (a product or a coupon to a segment): written by a later step.
    PUSH = "push", "活动推送"


class Message(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name="接收人"
    )
    kind = models.CharField("类型", max_length=30, choices=Kind.choices)
    title = models.CharField("标题", max_length=60)
    body = models.CharField("内容", max_length=500)
    # An in-site path only ("/orders/…"); the click redirect refuses anything else.
    link = models.CharField("链接", max_length=200, blank=True)
    # What the message is about, for reports and pushes ("order", 123); optional.
    subject_type = models.CharField("关联对象", max_length=30, blank=True)
    subject_id = models.BigIntegerField("关联对象编号", null=True, blank=True)
    # One message per event and recipient ("order-shipped:123"): a repeated call adds nothing.
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    clicked_at = models.DateTimeField("点击时间", null=True, blank=True)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-id"]
        indexes = [
            # "My messages, newest first": ids grow with time.
            models.Index(fields=["user", "-id"], name="notice_user_newest"),
            # "My unread count": only unread rows are in it, so it stays small.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notice_user_unread"),
        ]

    def __str__(self):
        return self.title


class Channel(models.TextChoices):
    SMS = "sms", "短信"
    WECHAT = "wechat", "微信模板消息"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "待发送"
    PROCESSING = "processing", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"


# Staff may send these again (`services.delivery.retry`); a sent row is final.
RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Delivery(models.Model):
    """The outbox: one message on one external channel."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", verbose_name="消息"
    )
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    adapter = models.CharField("通道", max_length=20)
    status = models.CharField(
        "状态", max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", null=True, blank=True)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    # What was handed to the adapter, as it was sent (the sandbox's whole record).
    recipient = models.CharField("接收方", max_length=64, blank=True)
    content = models.CharField("发送内容", max_length=600, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "通知发送记录"
        verbose_name_plural = "通知发送记录"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="one_delivery_per_message_channel")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notice_delivery_due")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.get_status_display()}"
