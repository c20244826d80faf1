"""Distributors, their grades, and the distributor status flow (apply, review, suspend, ban).

`DISTRIBUTOR_FLOW` is the status field's table of allowed transitions; it stays next to the
model so the states and the moves between them read together.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.statemachine import StateMachine

from .agreement import DistributorAgreement
from .texts import PLAIN


class ConditionLogic(models.TextChoices):
    ALL = "all", _("全部满足")
    ANY = "any", _("满足任一")


class DistributorGrade(models.Model):
    name = models.CharField(_("等级名称"), max_length=20, unique=True)
    weight = models.PositiveIntegerField(
        _("权重"), unique=True, help_text=_("数字越大等级越高；只会自动升级，不会自动降级")
    )
    is_default = models.BooleanField(_("新分销商默认等级"), default=False)
    level1_bp = models.PositiveIntegerField(
        _("一级佣金（基点）"), null=True, blank=True, help_text=_("留空则使用默认比例")
    )
    level2_bp = models.PositiveIntegerField(_("二级佣金（基点）"), null=True, blank=True)
    level3_bp = models.PositiveIntegerField(_("三级佣金（基点）"), null=True, blank=True)
    team_bp = models.PositiveIntegerField(
        _("团队佣金（基点）"), default=0, help_text=_("直属团队成员的销售额额外奖励")
    )
    logic = models.CharField(
        _("升级条件关系"), max_length=5, choices=ConditionLogic.choices, default=ConditionLogic.ALL
    )
    min_own_sales = models.PositiveBigIntegerField(_("个人推广销售额满（分）"), null=True, blank=True)
    min_own_orders = models.PositiveIntegerField(_("完成订单数满"), null=True, blank=True)
    min_single_order = models.PositiveIntegerField(_("单笔订单金额满（分）"), null=True, blank=True)
    min_direct_team = models.PositiveIntegerField(_("直属团队人数满"), null=True, blank=True)
    min_team_sales = models.PositiveBigIntegerField(_("团队销售额满（分）"), null=True, blank=True)
    min_team_orders = models.PositiveIntegerField(_("团队订单数满"), null=True, blank=True)
    min_settled_commission = models.PositiveBigIntegerField(_("已结算佣金满（分）"), null=True, blank=True)

    class Meta:
        verbose_name = _("分销等级")
        verbose_name_plural = pgettext_lazy("plural", "分销等级")
        ordering = ["weight"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_grade"
            ),
        ]

    def __str__(self):
        return self.name

    def level_bp(self, level: int) -> int | None:
        return [self.level1_bp, self.level2_bp, self.level3_bp][level - 1]

    CONDITION_FIELDS = (
        "min_own_sales",
        "min_own_orders",
        "min_single_order",
        "min_direct_team",
        "min_team_sales",
        "min_team_orders",
        "min_settled_commission",
    )


class DistributorStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", pgettext_lazy("distributor status", "正常")
    REJECTED = "rejected", _("已拒绝")
    # 暂停 is also the button that suspends (English: Suspend); the status reads Suspended.
    SUSPENDED = "suspended", pgettext_lazy("distributor status", "暂停")
    BANNED = "banned", _("已封禁")


DISTRIBUTOR_FLOW = StateMachine(
    DistributorStatus,
    {
        DistributorStatus.PENDING: {DistributorStatus.ACTIVE, DistributorStatus.REJECTED},
        DistributorStatus.REJECTED: {DistributorStatus.PENDING, DistributorStatus.ACTIVE},
        DistributorStatus.ACTIVE: {DistributorStatus.SUSPENDED, DistributorStatus.BANNED},
        DistributorStatus.SUSPENDED: {DistributorStatus.ACTIVE, DistributorStatus.BANNED},
        DistributorStatus.BANNED: set(),
    },
)


class BanDecision(models.TextChoices):
    """What becomes of a banned distributor's held (pending and frozen) commission."""

    VOID = "void", _("作废待结算佣金")
    RELEASE = "release", _("保留，照常结算")


class JoinSource(models.TextChoices):
    EVERYONE = "everyone", _("人人分销")
    APPLIED = "applied", _("申请")
    DESIGNATED = "designated", _("商家指定")
    CONDITION = "condition", _("满足条件")
    STORE = "store", _("扫门店码")


class Distributor(models.Model):
    Status = DistributorStatus

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="distributor", verbose_name=_("用户")
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=DistributorStatus.choices,
        default=DistributorStatus.PENDING,
        db_index=True,
    )
    grade = models.ForeignKey(
        DistributorGrade,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="distributors",
        verbose_name=_("等级"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    referral_code = models.CharField(_("推广码"), max_length=12, unique=True)
    real_name = models.CharField(_("真实姓名"), max_length=40, blank=True)
    apply_note = models.CharField(_("申请说明"), max_length=200, blank=True)
    reject_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True)
    status_reason = models.CharField(_("状态说明"), max_length=200, blank=True)
    ban_decision = models.CharField(
        _("封禁时待结算佣金处理"), max_length=10, choices=BanDecision.choices, blank=True
    )
    source = models.CharField(_("来源"), max_length=12, choices=JoinSource.choices)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    activated_at = models.DateTimeField(_("成为分销商时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    # The 分销商协议 version they agreed to and when: empty for one who joined without a
    # form (人人分销, 满足条件, designated, a store QR) until they agree in the center.
    agreement = models.ForeignKey(
        DistributorAgreement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("已同意的协议版本"),
    )
    agreed_at = models.DateTimeField(_("同意协议时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("分销商")
        verbose_name_plural = pgettext_lazy("plural", "分销商")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="distributor_not_own_parent"),
        ]
        # A team count reads one parent's members of one status from the index.
        indexes = [models.Index(fields=["parent", "status"], name="distributor_parent_status")]

    def __str__(self):
        return gettext("%(name)s（%(code)s）") % {"name": self.user.display_name, "code": self.referral_code}

    @property
    def status_reason_text(self) -> str:
        """状态说明 in the active language where the system wrote it (人人分销 …); the reason
        staff typed for a suspension or a ban reads as typed."""
        return PLAIN(self.status_reason)

    @property
    def is_active(self) -> bool:
        return self.status == DistributorStatus.ACTIVE

    @property
    def may_withdraw(self) -> bool:
        """Active distributors withdraw; so does a banned one whose held commission staff
        released on the ban, or the released money could never reach them."""
        return self.is_active or (
            self.status == DistributorStatus.BANNED and self.ban_decision == BanDecision.RELEASE
        )

    @property
    def sees_own_account(self) -> bool:
        """A suspended distributor still sees their own figures, commissions, ledger and
        withdrawals, read-only: earning and sharing stay with the active. A banned one whose
        commission was released sees the same and may withdraw it."""
        return self.status == DistributorStatus.SUSPENDED or self.may_withdraw
