"""Who a buyer belongs to: the current binding, and every touch that led to it.

`Touch` is the history (anonymous visits aggregated per visitor and day), `CustomerBinding`
the present state. Both depend only on the distributor.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from fenxiao.customers.system_text import SystemText

from .distributors import Distributor
from .texts import CLAIM_REBOUND


class TouchSource(models.TextChoices):
    LINK = "link", _("推广链接")
    QR = "qr", _("二维码")
    POSTER = "poster", _("海报")
    STORE = "store", _("门店")
    COUPON = "coupon", _("优惠券")
    MANUAL = "manual", _("后台调整")


class TouchRule(models.TextChoices):
    """What decided a touch: the binding mode in force (its codes are `BindMode`'s), or the
    setting, check or person that overrode it."""

    FIRST = "first", _("首次绑定永久有效")
    EXPIRING = "expiring", _("绑定有效期")
    LATEST = "latest", _("最新链接优先（含保护期）")
    NEW_BUYERS_ONLY = "new_buyers_only", _("仅绑定新客户")
    STORE_KEEP = "store_keep", _("门店码不改绑")
    INACTIVE = "inactive", _("分销商非正常状态")
    SELF = "self", _("不能绑定自己")
    LOOP = "loop", _("不能形成循环")
    MANUAL = "manual", _("人工指定")
    ANONYMOUS = "anonymous", _("访客未登录")


# A touch's reason is the Chinese sentence the system wrote (or what staff typed, for a
# hand-made binding), shown through the catalogs; these carry a date or a claim's number.
KEPT_UNTIL = gettext_noop("原绑定有效至 %(date)s，保留原分销商")
PROTECTED_UNTIL = gettext_noop("原绑定保护期至 %(date)s")
_REASONS = SystemText(
    KEPT_UNTIL, PROTECTED_UNTIL, CLAIM_REBOUND, patterns={"date": r"\d{4}-\d{2}-\d{2}", "claim": r"\d+"}
)


class TouchDecision(models.TextChoices):
    BOUND = "bound", _("已绑定")
    REBOUND = "rebound", _("改绑")
    RENEWED = "renewed", _("续期")
    KEPT = "kept", _("保留原绑定")
    PENDING_LOGIN = "pending_login", _("待登录后绑定")
    REFUSED = "refused", _("未绑定")


class Touch(models.Model):
    """Every arrival through a distributor's link, QR code, poster, store or shared coupon, and what it
    did."""

    distributor = models.ForeignKey(
        Distributor, on_delete=models.CASCADE, related_name="touches", verbose_name=_("分销商")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touches",
        verbose_name=_("客户"),
    )
    source = models.CharField(_("来源"), max_length=10, choices=TouchSource.choices)
    decision = models.CharField(_("结果"), max_length=20, choices=TouchDecision.choices)
    rule = models.CharField(_("依据规则"), max_length=20, choices=TouchRule.choices, blank=True)
    reason = models.CharField(_("说明"), max_length=200, blank=True)
    target = models.CharField(_("落地页"), max_length=300, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    # Anonymous visits are aggregated: one row per distributor, visitor (a keyed hash of the
    # client address) and day, counting repeats, so a script cannot grow the table at will.
    visitor = models.CharField(_("访客标识"), max_length=32, blank=True)
    day = models.DateField(_("日期"), null=True, blank=True)
    hits = models.PositiveIntegerField(_("访问次数"), default=1)
    last_seen_at = models.DateTimeField(_("最近访问"), null=True, blank=True)

    class Meta:
        verbose_name = _("推广访问记录")
        verbose_name_plural = pgettext_lazy("plural", "推广访问记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["distributor", "visitor", "day"],
                condition=Q(buyer__isnull=True) & Q(day__isnull=False),
                name="one_anonymous_touch_row_per_visitor_and_day",
            ),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.get_decision_display()}"

    @property
    def reason_text(self) -> str:
        """The reason in the active language: the system's sentences through the catalogs,
        what staff typed as typed."""
        return _REASONS(self.reason)


class BindingQuerySet(models.QuerySet):
    def in_force(self, now=None):
        """Bindings that have not expired (one without an end never does)."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now or timezone.now()))


class CustomerBinding(models.Model):
    """The buyer's current distributor. History is in `Touch`."""

    buyer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="binding", verbose_name=_("客户")
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="bindings", verbose_name=_("分销商")
    )
    source = models.CharField(_("来源"), max_length=10, choices=TouchSource.choices)
    bound_at = models.DateTimeField(_("绑定时间"))
    expires_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    protected_until = models.DateTimeField(_("保护期至"), null=True, blank=True)

    objects = BindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("客户关系")
        verbose_name_plural = pgettext_lazy("plural", "客户关系")
        ordering = ["-bound_at"]
        # 我的客户 pages a distributor's customers newest first by key: read in that order.
        indexes = [models.Index(fields=["distributor", "-id"], name="binding_distributor_newest")]

    def __str__(self):
        return f"{self.buyer} → {self.distributor}"
