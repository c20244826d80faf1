"""Webhooks: endpoints a merchant registers, the events the mall emits, and the outbox that
carries each event to each subscribed endpoint.

An `Event` is written by the service that makes its fact true, inside its transaction, keyed
by a `source_key` naming the fact ("order-paid:123"), so one business change is one event
whatever calls it twice. A `Delivery` is one event on one endpoint (unique): a row with a
status, attempts and a next-attempt time, claimed by a worker before each POST so a sent
row is never sent again; every POST is logged as a `DeliveryAttempt`.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.customers.system_text import SystemText


class EventType(models.TextChoices):
    ORDER_PAID = "order.paid", _("订单已付款")
    ORDER_SHIPPED = "order.shipped", _("订单已发货")
    ORDER_COMPLETED = "order.completed", _("订单已完成")
    ORDER_REFUNDED = "order.refunded", _("订单已退款")
    COMMISSION_SETTLED = "commission.settled", _("佣金已结算")
    WITHDRAWAL_PAID = "withdrawal.paid", _("提现已打款")
    DISTRIBUTOR_APPROVED = "distributor.approved", _("分销商审核通过")
    # Sent only by 测试推送 in the backend, to one endpoint; never subscribed to.
    PING = "ping", _("测试推送")


SUBSCRIBABLE = [choice for choice in EventType.choices if choice[0] != EventType.PING]
ALL_EVENTS = [value for value, _ in SUBSCRIBABLE]


# What the system writes in Chinese on endpoints and deliveries (the rows keep it; pages show
# it through the catalogs). A failed connection reads "<what happened>（<technical detail>）":
# the words are translated, the detail (for whoever runs the receiver) is as it came.
DISABLED_AUTOMATICALLY = gettext_noop("连续 24 小时推送失败，已自动停用")
DISABLED_BY_HAND = gettext_noop("已手动停用")
ENDPOINT_DISABLED = gettext_noop("推送地址已停用")
FAILED_WITH_DETAIL = gettext_noop("%(words)s（%(detail)s）")
_ERRORS = SystemText(FAILED_WITH_DETAIL, patterns={"words": "[^（）]+"})


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


class Endpoint(models.Model):
    url = models.URLField(_("推送地址"), max_length=500)
    description = models.CharField(_("备注"), max_length=100, blank=True)
    secret = models.CharField(_("签名密钥"), max_length=80, default=new_secret)
    # The event types (EventType values) this endpoint receives.
    events = models.JSONField(_("订阅事件"), default=list)
    is_active = models.BooleanField(_("启用"), default=True)
    disabled_reason = models.CharField(_("停用原因"), max_length=200, blank=True)
    disabled_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    # The first failure since the last success; cleared by a success. A day of this
    # without a success disables the endpoint.
    failing_since = models.DateTimeField(_("连续失败起始"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("最近成功"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook 推送地址")
        verbose_name_plural = pgettext_lazy("plural", "Webhook 推送地址")
        ordering = ["-id"]

    def __str__(self):
        return self.url

    @property
    def disabled_reason_text(self) -> str:
        """停用原因 in the active language (the system writes it; the row keeps the Chinese)."""
        return gettext(self.disabled_reason) if self.disabled_reason else ""


class Event(models.Model):
    event_id = models.UUIDField(_("事件编号"), default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("事件类型"), max_length=40, choices=EventType.choices)
    payload = models.JSONField(_("数据"), default=dict)
    # The fact this event reports ("order-paid:123"): a repeated call writes nothing more.
    source_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(_("发生时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Webhook 事件")
        verbose_name_plural = pgettext_lazy("plural", "Webhook 事件")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    SENDING = "sending", _("投递中")
    SUCCEEDED = "succeeded", _("已送达")
    FAILED = "failed", _("投递失败")
    # The endpoint was disabled before this row got through: kept for the record.
    CANCELLED = "cancelled", _("已取消")


class Delivery(models.Model):
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("事件")
    )
    endpoint = models.ForeignKey(
        Endpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("推送地址")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("投递次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次投递时间"), null=True, blank=True)
    last_response_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(_("最近耗时(ms)"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 投递记录")
        verbose_name_plural = pgettext_lazy("plural", "Webhook 投递记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_event_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def last_error_text(self) -> str:
        return _ERRORS(self.last_error)


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("投递记录")
    )
    number = models.PositiveSmallIntegerField(_("第几次"))
    started_at = models.DateTimeField(_("时间"))
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时(ms)"), default=0)
    error = models.CharField(_("错误"), max_length=300, blank=True)
    response_excerpt = models.CharField(_("响应内容（节选）"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("投递尝试")
        verbose_name_plural = pgettext_lazy("plural", "投递尝试")
        ordering = ["-id"]

    def __str__(self):
        return f"#{self.number} {self.response_code or self.error}"

    @property
    def error_text(self) -> str:
        return _ERRORS(self.error)
