"""In-site messages and the outbox that carries them to external channels.

A `Message` is what the buyer reads under 我的 → 消息. A `Delivery` is one message on one
external channel (SMS, WeChat template message): a row with a status, an attempt count and
a next-attempt time, written in the transaction that writes the message and handed to the
channel's adapter after commit (at least once; `services/delivery.py`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ORDER_SHIPPED = "order_shipped", _("订单发货")
    REFUND_DONE = "refund_done", _("退款到账")
    AFTER_SALE_APPROVED = "after_sale_approved", _("售后已同意")
    AFTER_SALE_CLOSED = "after_sale_closed", _("售后已关闭")
    COMMISSION_ARRIVED = "commission_arrived", _("新佣金")
    COMMISSION_SETTLED = "commission_settled", _("佣金结算")
    WITHDRAWAL_PAID = "withdrawal_paid", _("提现到账")
    WITHDRAWAL_REJECTED = "withdrawal_rejected", _("提现被拒")
    WITHDRAWAL_TO_CONFIRM = "withdrawal_to_confirm", _("提现待确认收款")
    WITHDRAWAL_FAILED = "withdrawal_failed", _("提现打款失败")
    DISTRIBUTOR_APPROVED = "distributor_approved", _("分销商审核通过")
    DISTRIBUTOR_REJECTED = "distributor_rejected", _("分销商审核未通过")
    CLAIM_DECIDED = "claim_decided", _("掉单申诉结果")
    GRADE_UPGRADED = "grade_upgraded", _("分销等级提升")
    # To superusers and 运营: a webhook endpoint failing for a day was disabled.
    WEBHOOK_DISABLED = "webhook_disabled", _("Webhook 停用")
    # Staff's targeted push (a product or a coupon to a segment; promotions.services.push).
    PUSH = "push", _("活动推送")


class Message(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices", verbose_name=_("接收人")
    )
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=60)
    body = models.CharField(_("内容"), max_length=500)
    # An in-site path only ("/orders/…"); the click redirect refuses anything else.
    link = models.CharField(_("链接"), max_length=200, blank=True)
    # What the message is about, for reports and pushes ("order", 123); optional.
    subject_type = models.CharField(_("关联对象"), max_length=30, blank=True)
    subject_id = models.BigIntegerField(_("关联对象编号"), null=True, blank=True)
    # One message per event and recipient ("order-shipped:123"): a repeated call adds nothing.
    source_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("点击时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    # The body's template (a catalog's Chinese text) and its arguments, so the reader sees
    # it in their language; `body` keeps the Chinese text (search, and the SMS that went out).
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = pgettext_lazy("plural", "站内消息")
        ordering = ["-id"]
        indexes = [
            # "My messages, newest first": ids grow with time.
            models.Index(fields=["user", "-id"], name="notice_user_newest"),
            # "My unread count": only unread rows are in it, so it stays small.
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notice_user_unread"),
        ]

    def __str__(self):
        return self.title

    TEMPLATE, ARGS = "_template", "_args"

    @property
    def title_text(self) -> str:
        """The title in the active language: the system's titles are catalog entries, what
        staff typed for a push is in none and reads as typed."""
        return gettext(self.title) if self.title else ""

    @property
    def body_text(self) -> str:
        """The body in the active language (pure Python: a page of messages costs no query).
        An argument stored as {"text": …} is a text the system may have written (a carrier's
        name, a payout's failure) and is translated when a catalog has it; a message
        without a template (a push, an older row) is its own text."""
        data = self.data if isinstance(self.data, dict) else {}
        template = data.get(self.TEMPLATE)
        if not template:
            return gettext(self.body) if self.body else ""
        args = {name: _message_arg(value) for name, value in (data.get(self.ARGS) or {}).items()}
        try:
            return gettext(template) % args
        except (KeyError, TypeError, ValueError):
            return self.body


def _message_arg(value):
    if isinstance(value, dict) and set(value) == {"text"}:
        return gettext(value["text"]) if value["text"] else ""
    return value


class Channel(models.TextChoices):
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信模板消息")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    PROCESSING = "processing", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


# Staff may send these again (`services.delivery.retry`); a sent row is final.
RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


class Delivery(models.Model):
    """The outbox: one message on one external channel."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("消息")
    )
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    adapter = models.CharField(_("通道"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    # What was handed to the adapter, as it was sent (the sandbox's whole record).
    recipient = models.CharField(_("接收方"), max_length=64, blank=True)
    content = models.CharField(_("发送内容"), max_length=600, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知发送记录")
        verbose_name_plural = pgettext_lazy("plural", "通知发送记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="one_delivery_per_message_channel")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notice_delivery_due")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.get_status_display()}"
