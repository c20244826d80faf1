"""The merchant's distribution settings: one record, every change versioned and logged.

The choices and limits defined here (levels, bind modes, settlement cycles, payout methods)
are read by the later modules, so this one imports no other model module. It is named
`config`, like the service and the admin page, rather than `settings`: a submodule named
`settings` would become the attribute `fenxiao.distribution.models.settings` and be easy to
mistake for `django.conf.settings`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

MAX_LEVELS = 3  # three or more levels of team-based pay is pyramid selling under PRC law

# Upper bounds of the day counts: far beyond any real policy, far below a date overflow.
MAX_FREEZE_DAYS = 365
MAX_BIND_DAYS = 3650
MAX_PROTECT_DAYS = 365
# 月结 runs on a day every month has: 29–31 would skip February (and 31 the short months).
MAX_SETTLEMENT_MONTHDAY = 28


class EnableMode(models.TextChoices):
    EVERYONE = "everyone", _("人人分销")
    DESIGNATED = "designated", _("指定分销")
    APPLY = "apply", _("申请审核")
    CONDITION = "condition", _("满足条件")


class ReviewMode(models.TextChoices):
    AUTO = "auto", _("自动通过")
    MANUAL = "manual", _("人工审核")


class ConditionKind(models.TextChoices):
    LIFETIME_SPEND = "lifetime_spend", _("累计消费满额")
    COMPLETED_ORDERS = "completed_orders", _("完成订单数")
    BOUGHT_PRODUCTS = "bought_products", _("购买指定商品")


class BindMode(models.TextChoices):
    FIRST = "first", _("首次绑定永久有效")
    EXPIRING = "expiring", _("绑定有效期")
    LATEST = "latest", _("最新链接优先（含保护期）")


class SettlementMode(models.TextChoices):
    AUTO = "auto", _("自动结算")
    MANUAL = "manual", _("人工审核结算")


class Cycle(models.TextChoices):
    DAILY = "daily", _("日结")
    WEEKLY = "weekly", _("周结")
    MONTHLY = "monthly", _("月结")


class Weekday(models.IntegerChoices):
    """周结日, numbered as `date.weekday()` counts (Monday is 0)."""

    MONDAY = 0, _("周一")
    TUESDAY = 1, _("周二")
    WEDNESDAY = 2, _("周三")
    THURSDAY = 3, _("周四")
    FRIDAY = 4, _("周五")
    SATURDAY = 5, _("周六")
    SUNDAY = 6, _("周日")


def monthday_choices():
    return [(day, _("%(day)s日") % {"day": day}) for day in range(1, MAX_SETTLEMENT_MONTHDAY + 1)]


class WithdrawPeriod(models.TextChoices):
    """The window 每周期最多提现次数 counts in: the same values as `Cycle`, named as a span of
    time (每周 at most 3 times), not as a settlement term."""

    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")


class PayoutMethod(models.TextChoices):
    BANK = "bank", _("银行卡（人工转账）")
    WECHAT = "wechat", _("微信零钱")
    ALIPAY = "alipay", _("支付宝")
    STORE_CREDIT = "store_credit", _("商城余额")


class DistributionSettings(models.Model):
    """The merchant's distribution rules: one record, every change versioned and logged."""

    levels = models.PositiveSmallIntegerField(
        _("分销层级"), default=2, help_text=_("1–3 级；超过 3 级不允许")
    )
    enable_mode = models.CharField(
        _("成为分销商方式"), max_length=20, choices=EnableMode.choices, default=EnableMode.APPLY
    )
    review_mode = models.CharField(
        _("申请审核方式"), max_length=10, choices=ReviewMode.choices, default=ReviewMode.MANUAL
    )
    require_real_name = models.BooleanField(_("申请需填写真实姓名"), default=True)
    condition_kind = models.CharField(
        _("满足条件类型"), max_length=20, choices=ConditionKind.choices, default=ConditionKind.LIFETIME_SPEND
    )
    condition_amount = models.PositiveIntegerField(_("累计消费满（分）"), default=0)
    condition_orders = models.PositiveIntegerField(_("完成订单数"), default=1)
    condition_products = models.ManyToManyField(
        "catalog.Product", blank=True, verbose_name=_("指定商品"), related_name="+"
    )
    bind_mode = models.CharField(
        _("客户绑定方式"), max_length=10, choices=BindMode.choices, default=BindMode.FIRST
    )
    bind_days = models.PositiveIntegerField(
        _("绑定有效期（天）"), default=30, validators=[MaxValueValidator(MAX_BIND_DAYS)]
    )
    protect_days = models.PositiveIntegerField(
        _("保护期（天）"), default=7, validators=[MaxValueValidator(MAX_PROTECT_DAYS)]
    )
    new_buyers_only = models.BooleanField(_("仅绑定新客户（无付款订单）"), default=False)
    self_purchase = models.BooleanField(_("自购返佣"), default=False)
    level1_bp = models.PositiveIntegerField(
        _("默认一级佣金（基点）"), default=1000, help_text=_("100 基点 = 1%")
    )
    level2_bp = models.PositiveIntegerField(_("默认二级佣金（基点）"), default=500)
    level3_bp = models.PositiveIntegerField(_("默认三级佣金（基点）"), default=0)
    max_commission_bp = models.PositiveIntegerField(_("单商品佣金上限（基点）"), default=5000)
    freeze_days = models.PositiveIntegerField(
        _("冻结期（天）"),
        default=7,
        validators=[MaxValueValidator(MAX_FREEZE_DAYS)],
        help_text=_("订单完成后佣金冻结的天数；售后期未结束的订单佣金也不会结算"),
    )
    settlement_mode = models.CharField(
        _("结算方式"), max_length=10, choices=SettlementMode.choices, default=SettlementMode.AUTO
    )
    settlement_cycle = models.CharField(
        _("结算周期"), max_length=10, choices=Cycle.choices, default=Cycle.DAILY
    )
    settlement_weekday = models.PositiveSmallIntegerField(
        _("周结日"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("结算周期为周结时，每周哪天结算，如选“周五”：每周五 02:30 结算已过冻结期的佣金"),
    )
    settlement_monthday = models.PositiveSmallIntegerField(
        _("月结日"),
        choices=monthday_choices,
        default=1,
        help_text=_(
            "结算周期为月结时，每月哪天结算（1–28 日，29–31 日并非每月都有），"
            "如选“15日”：每月15日 02:30 结算已过冻结期的佣金"
        ),
    )
    withdraw_min = models.PositiveIntegerField(_("最低提现（分）"), default=100)
    withdraw_max = models.PositiveIntegerField(_("单次最高提现（分）"), default=500000)
    withdraw_fee_bp = models.PositiveIntegerField(_("提现手续费（基点）"), default=0)
    withdraw_limit = models.PositiveIntegerField(_("每周期最多提现次数"), default=3)
    withdraw_period = models.CharField(
        _("提现次数周期"), max_length=10, choices=WithdrawPeriod.choices, default=WithdrawPeriod.MONTHLY
    )
    withdraw_methods = models.JSONField(_("提现方式"), default=list, blank=True)
    risk_guard = models.BooleanField(
        _("可疑订单暂扣佣金"),
        default=True,
        help_text=_(
            "买家与分销商疑似同一人（同一手机号、收货地址、设备或收款账户）、上下级疑似同一人、"
            "或买家频繁退款时，该笔佣金暂不结算，待风控审核放行或作废"
        ),
    )
    risk_refund_orders = models.PositiveSmallIntegerField(
        _("频繁退款：近 90 天退款订单数达到"), default=3, help_text=_("0 表示不按退款判断")
    )
    risk_refund_rate_bp = models.PositiveIntegerField(
        _("频繁退款：且退款订单占比达到（基点）"), default=5000, help_text=_("100 基点 = 1%")
    )
    agreement_text = models.TextField(
        _("分销商协议"),
        blank=True,
        default="",
        help_text=_(
            "申请成为分销商时展示的协议（纯文本，空行分段）；每次修改保存为新版本，"
            "已同意旧版本的分销商会在分销中心看到新版本并被提示同意。留空则不展示协议"
        ),
    )
    agreement_required = models.BooleanField(
        _("申请时须同意协议"),
        default=True,
        help_text=_("填写了分销商协议时生效：申请须勾选“我已阅读并同意《分销商协议》”"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分销设置")
        verbose_name_plural = pgettext_lazy("plural", "分销设置")
        constraints = [
            models.CheckConstraint(
                condition=Q(levels__gte=1, levels__lte=MAX_LEVELS), name="distribution_levels_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(max_commission_bp__lte=10000), name="distribution_guard_at_most_100pct"
            ),
            models.CheckConstraint(
                condition=Q(settlement_weekday__lte=6), name="distribution_settlement_weekday_valid"
            ),
            models.CheckConstraint(
                condition=Q(settlement_monthday__gte=1, settlement_monthday__lte=MAX_SETTLEMENT_MONTHDAY),
                name="distribution_settlement_monthday_1_to_28",
            ),
        ]

    def __str__(self):
        return gettext("分销设置")

    def level_bp(self, level: int) -> int:
        return [self.level1_bp, self.level2_bp, self.level3_bp][level - 1]

    @property
    def methods(self) -> list[str]:
        return list(self.withdraw_methods or [m.value for m in PayoutMethod])


class SettingsChange(models.Model):
    version = models.PositiveIntegerField(_("版本"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    changes = models.JSONField(_("变更内容"), default=dict)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("分销设置变更记录")
        verbose_name_plural = pgettext_lazy("plural", "分销设置变更记录")
        ordering = ["-id"]

    def __str__(self):
        return f"v{self.version}"
