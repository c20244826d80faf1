"""Parcels (an order ships in one or several), their tracking subscriptions and the
tracking events a logistics provider pushes back.

Kept apart from `models.py` so shipping grows without touching the order core; Django
finds these models because `models.py` imports this module.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.statemachine import StateMachine
from fenxiao.shipping.carriers import Carrier, carrier_name

from .models import Order, OrderLine


class TrackingState(models.TextChoices):
    """Where a parcel is, in the terms every Chinese tracking service uses."""

    WAITING = "waiting", _("待揽收")
    COLLECTED = "collected", _("已揽收")
    IN_TRANSIT = "in_transit", _("运输中")
    DELIVERING = "delivering", _("派件中")
    SIGNED = "signed", _("已签收")
    PROBLEM = "problem", _("疑难件")
    RETURNED = "returned", _("退回")


class Parcel(models.Model):
    """One box that left the warehouse: a carrier, a tracking number and what is inside."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="parcels", verbose_name=_("订单"))
    carrier = models.CharField(_("物流公司"), max_length=20, choices=Carrier.choices)
    tracking_number = models.CharField(_("运单号"), max_length=40)
    shipped_at = models.DateTimeField(_("发货时间"))
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发货人"),
    )
    tracking_state = models.CharField(
        _("物流状态"), max_length=20, choices=TrackingState.choices, default=TrackingState.WAITING
    )
    tracking_updated_at = models.DateTimeField(_("物流更新时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("包裹")
        verbose_name_plural = pgettext_lazy("plural", "包裹")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "carrier", "tracking_number"], name="one_parcel_per_waybill_per_order"
            ),
        ]
        indexes = [
            models.Index(fields=["carrier", "tracking_number"], name="parcel_waybill"),
            # The order list's search by waybill, case-blind (admin/order_list.indexed_search).
            models.Index(Upper("tracking_number"), name="parcel_waybill_search"),
        ]

    def __str__(self):
        return f"{self.carrier_name} {self.tracking_number}"

    @property
    def carrier_name(self) -> str:
        return carrier_name(self.carrier)


class ParcelLine(models.Model):
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="lines", verbose_name=_("包裹"))
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="parcel_lines", verbose_name=_("订单商品")
    )
    quantity = models.PositiveIntegerField(_("数量"))

    class Meta:
        verbose_name = _("包裹商品")
        verbose_name_plural = pgettext_lazy("plural", "包裹商品")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="parcel_line_quantity_positive"),
            models.UniqueConstraint(fields=["parcel", "order_line"], name="one_parcel_line_per_order_line"),
        ]

    def __str__(self):
        return f"{self.order_line_id} ×{self.quantity}"


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("待订阅")
    SENDING = "sending", _("订阅中")
    SUBSCRIBED = "subscribed", _("已订阅")
    FAILED = "failed", _("订阅失败")
    # The service stopped following the waybill (Kuaidi100's "abort": no record for days, or
    # no change for months); staff check the waybill and subscribe again.
    STOPPED = "stopped", _("已停止跟踪")


SUBSCRIPTION_FLOW = StateMachine(
    SubscriptionStatus,
    {
        # A push shows the service has it, whatever the outbox thought.
        SubscriptionStatus.PENDING: {SubscriptionStatus.SENDING, SubscriptionStatus.SUBSCRIBED},
        SubscriptionStatus.SENDING: {
            SubscriptionStatus.SUBSCRIBED,
            SubscriptionStatus.PENDING,
            SubscriptionStatus.FAILED,
        },
        SubscriptionStatus.SUBSCRIBED: {SubscriptionStatus.STOPPED},
        # Another parcel's subscription under the same waybill, followed again after a stop.
        SubscriptionStatus.STOPPED: {SubscriptionStatus.PENDING, SubscriptionStatus.SUBSCRIBED},
        # Staff may retry a failed or stopped subscription from the backend; a push shows a
        # failed one stands after all (subscribed), or that the service stopped following.
        SubscriptionStatus.FAILED: {
            SubscriptionStatus.PENDING,
            SubscriptionStatus.SUBSCRIBED,
            SubscriptionStatus.STOPPED,
        },
    },
)


class TrackingSubscription(models.Model):
    """The request to a tracking service to push a parcel's trail to us: an outbox row,
    written with the parcel, sent by a task, re-driven by the sweeper until it is answered.

    `salt` is this subscription's own signing key, sent to the provider with the request and
    never shown: a push is accepted only when signed with it (Kuaidi100's `salt`)."""

    parcel = models.OneToOneField(
        Parcel, on_delete=models.CASCADE, related_name="subscription", verbose_name=_("包裹")
    )
    provider = models.CharField(_("物流服务"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.PENDING
    )
    salt = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    subscribed_at = models.DateTimeField(_("订阅时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("物流订阅")
        verbose_name_plural = pgettext_lazy("plural", "物流订阅")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="tracking_sub_due",
            )
        ]

    def __str__(self):
        return str(self.parcel)  # the backend titles the page with the parcel it follows

    @property
    def provider_name(self) -> str:
        from .logistics import provider_label  # the adapters import the models

        return provider_label(self.provider)


class TrackingEvent(models.Model):
    """One line of a parcel's trail (物流轨迹), as the carrier reported it. Providers send
    the whole trail with every push; the unique key makes a line seen twice one row."""

    parcel = models.ForeignKey(
        Parcel, on_delete=models.CASCADE, related_name="tracking_events", verbose_name=_("包裹")
    )
    occurred_at = models.DateTimeField(_("时间"))
    state = models.CharField(_("状态"), max_length=20, choices=TrackingState.choices)
    context = models.CharField(_("描述"), max_length=300)
    location = models.CharField(_("地点"), max_length=80, blank=True)
    # sha256 of state + context: the context is free text of any length.
    digest = models.CharField(max_length=64)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("物流轨迹")
        verbose_name_plural = pgettext_lazy("plural", "物流轨迹")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel", "occurred_at", "digest"], name="one_tracking_event_per_moment"
            ),
        ]

    def __str__(self):
        return self.context


class SandboxWaybill(models.Model):
    """The sandbox tracking service's own record of a subscribed waybill (its side, not the
    mall's): where to push, the salt to sign with, and how far the parcel has come."""

    carrier = models.CharField(max_length=20)
    number = models.CharField(max_length=40)
    callback_url = models.CharField(max_length=300)
    salt = models.CharField(max_length=64)
    destination = models.CharField(max_length=20, blank=True)
    steps_pushed = models.PositiveSmallIntegerField(default=0)
    # The trail so far, newest first, as pushed (each push carries all of it).
    trail = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("沙箱运单")
        verbose_name_plural = pgettext_lazy("plural", "沙箱运单")
        constraints = [
            models.UniqueConstraint(fields=["callback_url"], name="one_sandbox_waybill_per_callback"),
        ]

    def __str__(self):
        return f"{self.carrier} {self.number}"
