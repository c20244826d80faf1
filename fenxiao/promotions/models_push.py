"""Targeted pushes (定向推送): staff send one message carrying a product or a coupon to a
customer segment. Imported by `promotions.models`, so these are `promotions` models."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from fenxiao.core.statemachine import StateMachine
from fenxiao.customers.system_text import SystemText


class PushStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SENDING = "sending", _("发送中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


PUSH_FLOW = StateMachine(
    PushStatus,
    {
        PushStatus.DRAFT: {PushStatus.SENDING, PushStatus.CANCELLED},
        PushStatus.SENDING: {PushStatus.DONE, PushStatus.CANCELLED},
        PushStatus.DONE: set(),
        PushStatus.CANCELLED: set(),
    },
)


class PushCarries(models.TextChoices):
    PRODUCT = "product", _("商品")
    COUPON = "coupon", _("优惠券（直接发到券包）")


# 取消原因 as the system writes it; the row keeps the Chinese, `Push.stop_reason_text`
# shows it in the reader's language.
CANCELLED_BY_STAFF = gettext_noop("人工取消")
COUPON_CLOSED = gettext_noop("优惠券不可再发放：%(reason)s")
STOP_REASONS = SystemText(COUPON_CLOSED)  # the coupon's refusal is a catalog sentence too


def coupon_closed_reason(refusal: str) -> str:
    """The stored 取消原因 of a push whose coupon closed; `refusal` is the coupon's own
    refusal in Chinese (a promotions error message, so the catalog has it)."""
    return (COUPON_CLOSED % {"reason": refusal})[:200]


class Push(models.Model):
    Status = PushStatus
    Carries = PushCarries

    title = models.CharField(_("标题"), max_length=40)
    body = models.CharField(_("内容"), max_length=300)
    carries = models.CharField(_("推送内容"), max_length=10, choices=PushCarries.choices)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("商品"),
    )
    coupon = models.ForeignKey(
        "promotions.Coupon",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("优惠券"),
    )
    segment = models.ForeignKey(
        "customers.Segment", on_delete=models.PROTECT, related_name="+", verbose_name=_("客户分群")
    )
    # The message center always gets the push; this adds an SMS, for the recipients who
    # accept marketing (`User.accepts_marketing`). Not WeChat: its template messages are for
    # service notices only, and WeChat blocks a 公众号 that sends promotions through them.
    via_sms = models.BooleanField(_("同时发短信"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=PushStatus.choices, default=PushStatus.DRAFT)
    # Frozen when the push starts: one PushRecipient per member of the segment at that moment.
    total = models.PositiveIntegerField(_("接收人数"), default=0)
    # Recipients the job has handled (progress); the report counts the messages themselves.
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    coupons_issued = models.PositiveIntegerField(_("已发券"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发送人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始发送"), null=True, blank=True)
    finished_at = models.DateTimeField(_("发送完成"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    stop_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    # Moved by every delivered chunk; a sending push whose heartbeat is old has lost its
    # job, and the sweeper queues a new one.
    heartbeat_at = models.DateTimeField(_("最近进展"), null=True, blank=True)

    class Meta:
        verbose_name = _("定向推送")
        verbose_name_plural = pgettext_lazy("plural", "定向推送")
        ordering = ["-id"]
        indexes = [models.Index(fields=["heartbeat_at"], condition=Q(status="sending"), name="push_sending")]
        constraints = [
            models.CheckConstraint(
                condition=(Q(carries="product") & Q(product__isnull=False) & Q(coupon__isnull=True))
                | (Q(carries="coupon") & Q(coupon__isnull=False) & Q(product__isnull=True)),
                name="push_carries_one_thing",
            ),
            models.CheckConstraint(
                condition=Q(processed__lte=F("total")), name="push_processed_within_total"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def stop_reason_text(self) -> str:
        """取消原因 in the active language: the system's reasons through the catalogs."""
        return STOP_REASONS(self.stop_reason)

    @property
    def external_channels(self) -> list[str]:
        """The external channels chosen, as `notices.channels` names them."""
        return ["sms"] if self.via_sms else []

    @property
    def percent(self) -> int:
        return self.processed * 100 // self.total if self.total else 0


class PushRecipient(models.Model):
    """One member of the push's segment, frozen when it started. `processed_at` is set in
    the same transaction that creates the member's message (and coupon), so nobody gets
    two. A coupon push sends no message to a member who got no copy (limit or quantity)."""

    push = models.ForeignKey(
        Push, on_delete=models.CASCADE, related_name="recipients", verbose_name=_("推送")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("买家")
    )
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    message = models.ForeignKey(
        "notices.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("消息"),
    )
    got_coupon = models.BooleanField(_("已发券"), default=False)

    class Meta:
        verbose_name = _("推送接收人")
        verbose_name_plural = pgettext_lazy("plural", "推送接收人")
        constraints = [models.UniqueConstraint(fields=["push", "user"], name="one_recipient_per_push")]
        indexes = [
            # What the delivery job walks: the push's undelivered recipients in id order.
            models.Index(
                fields=["push", "id"], condition=Q(processed_at__isnull=True), name="push_recipient_pending"
            ),
        ]

    def __str__(self):
        return f"{self.push_id} · {self.user_id}"
