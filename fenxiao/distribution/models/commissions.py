"""What an order pays its distributors: who earns (frozen at checkout), one commission per
order line and beneficiary, and every reduction of one.

A commission keeps the rule, rule version, grade and settings version it was computed with,
so it explains itself after any of them changes. `COMMISSION_FLOW` is the status field's
table of allowed transitions, next to the model.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.money import format_fen
from fenxiao.core.statemachine import StateMachine

from .config import MAX_LEVELS
from .distributors import Distributor
from .rules import CommissionRule, RuleKind
from .settlement import SettlementBatch
from .texts import ADJUSTMENT_NOTES, ATTRIBUTION_REASONS


class OrderAttribution(models.Model):
    """Who earns on an order, frozen at checkout: a rebind before payment changes nothing."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="attribution", verbose_name=_("订单")
    )
    level1 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("一级")
    )
    level2 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("二级")
    )
    level3 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("三级")
    )
    self_purchase = models.BooleanField(_("自购"), default=False)
    reason = models.CharField(_("归属依据"), max_length=200, blank=True)
    settings_version = models.PositiveIntegerField(_("分销设置版本"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("订单分销归属")
        verbose_name_plural = pgettext_lazy("plural", "订单分销归属")
        # A distributor's orders (tier bonus, figures, order list) as an index-only scan
        # yielding order ids, newest last.
        indexes = [models.Index(fields=["level1", "order"], name="attribution_level1_order")]

    def __str__(self):
        return f"{self.order_id}"

    @property
    def reason_text(self) -> str:
        """归属依据 in the active language (the row keeps the system's Chinese sentence)."""
        return ATTRIBUTION_REASONS(self.reason)


class OfflineAttribution(models.Model):
    """Who earned on a sale made at a store's till (门店收银), decided when its POS pushed it.
    Like an order's attribution it counts the sale for the level-1 distributor's orders and
    sales (the running totals recompute them from here); `sale_key` makes it once per sale."""

    sale_key = models.CharField(_("门店收银单"), max_length=40, unique=True)
    level1 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="+", verbose_name=_("一级"), db_index=False
    )
    level2 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("二级")
    )
    level3 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("三级")
    )
    self_purchase = models.BooleanField(_("自购"), default=False)
    reason = models.CharField(_("归属依据"), max_length=200, blank=True)
    total = models.PositiveIntegerField(_("销售金额"))
    # Given back at the till since (门店退货): the sale counts for `total − refunded`, as an
    # order counts for its paid amount less refunds.
    refunded = models.PositiveIntegerField(_("已退款"), default=0)
    settings_version = models.PositiveIntegerField(_("分销设置版本"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("门店收银分销归属")
        verbose_name_plural = pgettext_lazy("plural", "门店收银分销归属")
        indexes = [
            # A distributor's till sales this month (the tier bonus), without reading the rest.
            models.Index(fields=["level1", "created_at"], name="offline_attribution_level1"),
            # The reports' refresh reads the till sales of its last few days.
            models.Index(fields=["created_at"], name="offline_attribution_created"),
        ]

    def __str__(self):
        return self.sale_key

    @property
    def reason_text(self) -> str:
        """归属依据 in the active language (the row keeps the system's Chinese sentence)."""
        return ATTRIBUTION_REASONS(self.reason)


class CommissionStatus(models.TextChoices):
    PENDING = "pending", _("待结算（预估）")
    FROZEN = "frozen", _("冻结中")
    SETTLED = "settled", _("已结算")
    CANCELLED = "cancelled", _("已取消")


COMMISSION_FLOW = StateMachine(
    CommissionStatus,
    {
        CommissionStatus.PENDING: {CommissionStatus.FROZEN, CommissionStatus.CANCELLED},
        CommissionStatus.FROZEN: {CommissionStatus.SETTLED, CommissionStatus.CANCELLED},
        CommissionStatus.SETTLED: set(),
        CommissionStatus.CANCELLED: set(),
    },
)


class RuleSource(models.TextChoices):
    # Rule priority 1: the promotion the line was bought in set its own commission.
    PROMOTION = "promotion", _("营销活动")
    SKU = "sku", _("SKU规则")
    PRODUCT = "product", _("商品规则")
    CATEGORY = "category", _("分类规则")
    # A store's own level-1 rate for its 导购 (stores.Store.guide_level1_bp), via store_rules.
    STORE = "store", _("门店导购比例")
    GRADE = "grade", _("等级比例")
    DEFAULT = "default", _("默认比例")


class Commission(models.Model):
    """One order line's commission for one beneficiary, with everything that explains it.

    A line sold at a store's till (门店收银, pushed by its POS) has no order: the commission
    names it by `offline_ref` instead and keeps what it shows (`offline_label`,
    `item_name`), since distribution never reads the stores app."""

    Status = CommissionStatus

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commissions",
        verbose_name=_("订单"),
    )
    # Settling rewrites every index of a commission row, so none is kept twice: the line is
    # led by the (line, beneficiary) constraint, the distributor by the two indexes below,
    # and status (with the hold's end) by the frozen-id index settlement walks.
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("订单商品"),
        null=True,
        blank=True,
        db_index=False,
    )
    # The till sale's line ("pos:<line id>"), unique per beneficiary like an order line.
    offline_ref = models.CharField(_("门店收银明细"), max_length=40, blank=True, default="")
    offline_label = models.CharField(_("门店收银单"), max_length=120, blank=True, default="")
    item_name = models.CharField(_("商品（门店收银）"), max_length=200, blank=True, default="")
    distributor = models.ForeignKey(
        Distributor,
        on_delete=models.PROTECT,
        related_name="commissions",
        verbose_name=_("分销商"),
        db_index=False,
    )
    level = models.PositiveSmallIntegerField(_("层级"))
    status = models.CharField(
        _("状态"), max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.PENDING
    )
    base = models.PositiveIntegerField(_("计佣金额"), help_text=_("该商品实付金额（已扣优惠，不含运费）"))
    quantity = models.PositiveIntegerField(_("数量"))
    rule_kind = models.CharField(_("计算方式"), max_length=10, choices=RuleKind.choices)
    rate_bp = models.PositiveIntegerField(_("比例（基点）"), default=0)
    fixed_per_unit = models.PositiveIntegerField(_("固定金额（分/件）"), default=0)
    bonus_bp = models.PositiveIntegerField(_("阶梯奖励（基点）"), default=0)
    team_bp = models.PositiveIntegerField(_("团队佣金（基点）"), default=0)
    capped = models.PositiveIntegerField(_("封顶扣减"), default=0)
    rule_source = models.CharField(_("规则来源"), max_length=10, choices=RuleSource.choices)
    # Indexed only where set (see Meta): default and grade rates have no rule.
    rule = models.ForeignKey(
        CommissionRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("规则"),
        db_index=False,
    )
    rule_version = models.PositiveIntegerField(_("规则版本"), default=0)
    rule_name = models.CharField(_("规则名称（当时）"), max_length=60, blank=True)
    grade_name = models.CharField(_("当时等级"), max_length=20, blank=True)
    settings_version = models.PositiveIntegerField(_("设置版本"))
    amount = models.PositiveIntegerField(_("佣金金额（原始）"))
    reversed_amount = models.PositiveIntegerField(_("已冲减"), default=0)
    created_at = models.DateTimeField(_("产生时间"), auto_now_add=True)
    # Not indexed: settlement finds what is held through the frozen-id index, and this
    # column would be one more index rewritten by every settled commission.
    frozen_until = models.DateTimeField(_("解冻时间"), null=True, blank=True)
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    # Held by an abuse guard (see risk.RiskReview) until staff clear or void it: settlement
    # leaves it frozen. A plain column, so a settlement claim re-tests it on the row it locks.
    under_review = models.BooleanField(_("风控审核中"), default=False)
    batch = models.ForeignKey(
        SettlementBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commissions",
        verbose_name=_("结算批次"),
    )

    class Meta:
        verbose_name = _("佣金记录")
        verbose_name_plural = pgettext_lazy("plural", "佣金记录")
        ordering = ["-id"]
        constraints = [
            # One live commission per line and beneficiary: a 掉单申诉 改判 cancels the old
            # chain's and may pay a distributor of both chains (a shared upline) afresh.
            models.UniqueConstraint(
                fields=["order_line", "distributor"],
                condition=~Q(status="cancelled"),
                name="one_live_commission_per_line_and_beneficiary",
            ),
            models.UniqueConstraint(
                fields=["offline_ref", "distributor"],
                condition=~Q(offline_ref=""),
                name="one_commission_per_offline_line_and_beneficiary",
            ),
            # An order line's commission, or a till sale line's: never both, never neither.
            models.CheckConstraint(
                condition=(Q(order_line__isnull=False, order__isnull=False) & Q(offline_ref=""))
                | (Q(order_line__isnull=True, order__isnull=True) & ~Q(offline_ref="")),
                name="commission_from_order_line_or_offline_sale",
            ),
            models.CheckConstraint(
                condition=Q(reversed_amount__lte=F("amount")), name="commission_reversal_not_above_amount"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=MAX_LEVELS), name="commission_level_1_to_3"
            ),
        ]
        indexes = [
            # A distributor's commissions of one status, newest first (the H5 tabs, a ban's
            # held commission). Settled ones are left out, so settling adds no entry: that
            # tab reads the distributor's index below, where settled rows are most of them.
            models.Index(
                fields=["distributor", "status", "id"],
                condition=~Q(status="settled"),
                name="commission_unsettled",
            ),
            # Deleting a rule sets its commissions' rule to null (`WHERE rule_id IN …`).
            models.Index(fields=["rule"], condition=Q(rule__isnull=False), name="commission_rule_set"),
            # The commission ranking ("since the start of the week / month").
            models.Index(fields=["created_at"], name="commission_created_at"),
            # A distributor's commission list, newest first, without sorting all of them.
            models.Index(fields=["distributor", "-id"], name="commission_distributor_recent"),
            # Settlement walks the frozen commissions by id, a window at a time; a settled
            # commission leaves this index, so it stays as small as what is held.
            models.Index(fields=["id"], condition=Q(status="frozen"), name="commission_frozen_by_id"),
        ]

    def __str__(self):
        """ "订单 FX… · 1级佣金 ¥3.58", as the commission page is titled (its pages load
        `order` with the row; a till sale's commission names the sale it keeps)."""
        return gettext("%(source)s · %(level)s级佣金 %(amount)s") % {
            "source": self.source_label,
            "level": self.level,
            "amount": format_fen(self.net_amount),
        }

    @property
    def net_amount(self) -> int:
        return self.amount - self.reversed_amount

    @property
    def is_offline(self) -> bool:
        return not self.order_line_id

    @property
    def source_label(self) -> str:
        """Where the commission comes from, as lists show it: the order number or the till sale."""
        return (
            self.offline_label
            if self.is_offline
            else gettext("订单 %(number)s") % {"number": self.order.number}
        )

    @property
    def item_label(self) -> str:
        """The product the line sold (a till line keeps its own snapshot)."""
        return self.item_name if self.is_offline else self.order_line.product_name


class CommissionAdjustment(models.Model):
    """A reduction of a commission (refund before settlement, or clawback after it)."""

    class Kind(models.TextChoices):
        REDUCED = "reduced", _("部分退款按比例扣减")
        CANCELLED = "cancelled", _("全额退款取消")
        CLAWBACK = "clawback", _("结算后退款追回")
        VOIDED = "voided", _("封禁作废")
        RELEASED = "released", _("封禁后保留结算")
        RISK_VOIDED = "risk_void", _("风控作废")
        RISK_CLEARED = "risk_clear", _("风控放行")
        # A missing-order claim moved the order to another distributor: what the old chain
        # held is cancelled, and the new chain's commission is computed afresh.
        REATTRIBUTED = "reassign", _("掉单申诉改判")

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    amount = models.PositiveIntegerField(_("冲减金额"))
    refunded_base = models.PositiveIntegerField(_("商品累计退款"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("佣金冲减记录")
        verbose_name_plural = pgettext_lazy("plural", "佣金冲减记录")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} -{format_fen(self.amount)}"

    @property
    def note_text(self) -> str:
        """The note in the active language: the system's sentences through the catalogs,
        the reason or note staff typed inside them as typed."""
        return ADJUSTMENT_NOTES(self.note)
