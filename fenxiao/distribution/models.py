from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from fenxiao.core.money import format_bp, format_fen
from fenxiao.core.statemachine import StateMachine

MAX_LEVELS = 3  # three or more levels of team-based pay is pyramid selling under PRC law

# Upper bounds of the day counts: far beyond any real policy, far below a date overflow.
MAX_FREEZE_DAYS = 365
MAX_BIND_DAYS = 3650
MAX_PROTECT_DAYS = 365


class EnableMode(models.TextChoices):
    EVERYONE = "everyone", "人人分销"
    DESIGNATED = "designated", "指定分销"
    APPLY = "apply", "申请审核"
    CONDITION = "condition", "满足条件"


class ReviewMode(models.TextChoices):
    AUTO = "auto", "自动通过"
    MANUAL = "manual", "人工审核"


class ConditionKind(models.TextChoices):
    LIFETIME_SPEND = "lifetime_spend", "累计消费满额"
    COMPLETED_ORDERS = "completed_orders", "完成订单数"
    BOUGHT_PRODUCTS = "bought_products", "购买指定商品"


class BindMode(models.TextChoices):
    FIRST = "first", "首次绑定永久有效"
    EXPIRING = "expiring", "绑定有效期"
    LATEST = "latest", "最新链接优先（含保护期）"


class SettlementMode(models.TextChoices):
    AUTO = "auto", "自动结算"
    MANUAL = "manual", "人工审核结算"


class Cycle(models.TextChoices):
    DAILY = "daily", "日结"
    WEEKLY = "weekly", "周结"
    MONTHLY = "monthly", "月结"


class PayoutMethod(models.TextChoices):
    BANK = "bank", "银行卡（人工转账）"
    WECHAT = "wechat", "微信零钱"
    ALIPAY = "alipay", "支付宝"
    STORE_CREDIT = "store_credit", "商城余额"


class DistributionSettings(models.Model):
    """The merchant's distribution rules: one record, every change versioned and logged."""

    levels = models.PositiveSmallIntegerField("分销层级", default=2, help_text="1–3 级；超过 3 级不允许")
    enable_mode = models.CharField(
        "成为分销商方式", max_length=20, choices=EnableMode.choices, default=EnableMode.APPLY
    )
    review_mode = models.CharField(
        "申请审核方式", max_length=10, choices=ReviewMode.choices, default=ReviewMode.MANUAL
    )
    require_real_name = models.BooleanField("申请需填写真实姓名", default=True)
    condition_kind = models.CharField(
        "满足条件类型", max_length=20, choices=ConditionKind.choices, default=ConditionKind.LIFETIME_SPEND
    )
    condition_amount = models.PositiveIntegerField("累计消费满（分）", default=0)
    condition_orders = models.PositiveIntegerField("完成订单数", default=1)
    condition_products = models.ManyToManyField(
        "catalog.Product", blank=True, verbose_name="指定商品", related_name="+"
    )
    bind_mode = models.CharField(
        "客户绑定方式", max_length=10, choices=BindMode.choices, default=BindMode.FIRST
    )
    bind_days = models.PositiveIntegerField(
        "绑定有效期（天）", default=30, validators=[MaxValueValidator(MAX_BIND_DAYS)]
    )
    protect_days = models.PositiveIntegerField(
        "保护期（天）", default=7, validators=[MaxValueValidator(MAX_PROTECT_DAYS)]
    )
    new_buyers_only = models.BooleanField("仅绑定新客户（无付款订单）", default=False)
    self_purchase = models.BooleanField("自购返佣", default=False)
    level1_bp = models.PositiveIntegerField("默认一级佣金（基点）", default=1000, help_text="100 基点 = 1%")
    level2_bp = models.PositiveIntegerField("默认二级佣金（基点）", default=500)
    level3_bp = models.PositiveIntegerField("默认三级佣金（基点）", default=0)
    max_commission_bp = models.PositiveIntegerField("单商品佣金上限（基点）", default=5000)
    freeze_days = models.PositiveIntegerField(
        "冻结期（天）",
        default=7,
        validators=[MaxValueValidator(MAX_FREEZE_DAYS)],
        help_text="订单完成后佣金冻结的天数；售后期未结束的订单佣金也不会结算",
    )
    settlement_mode = models.CharField(
        "结算方式", max_length=10, choices=SettlementMode.choices, default=SettlementMode.AUTO
    )
    settlement_cycle = models.CharField("结算周期", max_length=10, choices=Cycle.choices, default=Cycle.DAILY)
    withdraw_min = models.PositiveIntegerField("最低提现（分）", default=100)
    withdraw_max = models.PositiveIntegerField("单次最高提现（分）", default=500000)
    withdraw_fee_bp = models.PositiveIntegerField("提现手续费（基点）", default=0)
    withdraw_limit = models.PositiveIntegerField("每周期最多提现次数", default=3)
    withdraw_period = models.CharField(
        "提现次数周期", max_length=10, choices=Cycle.choices, default=Cycle.MONTHLY
    )
    withdraw_methods = models.JSONField("提现方式", default=list, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "分销设置"
        verbose_name_plural = "分销设置"
        constraints = [
            models.CheckConstraint(
                condition=Q(levels__gte=1, levels__lte=MAX_LEVELS), name="distribution_levels_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(max_commission_bp__lte=10000), name="distribution_guard_at_most_100pct"
            ),
        ]

    def __str__(self):
        return "分销设置"

    def level_bp(self, level: int) -> int:
        return [self.level1_bp, self.level2_bp, self.level3_bp][level - 1]

    @property
    def methods(self) -> list[str]:
        return list(self.withdraw_methods or [m.value for m in PayoutMethod])


class SettingsChange(models.Model):
    version = models.PositiveIntegerField("版本")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="修改人",
    )
    changes = models.JSONField("变更内容", default=dict)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "分销设置变更记录"
        verbose_name_plural = "分销设置变更记录"
        ordering = ["-id"]

    def __str__(self):
        return f"v{self.version}"


class ConditionLogic(models.TextChoices):
    ALL = "all", "全部满足"
    ANY = "any", "满足任一"


class DistributorGrade(models.Model):
    name = models.CharField("等级名称", max_length=20, unique=True)
    weight = models.PositiveIntegerField(
        "权重", unique=True, help_text="数字越大等级越高；只会自动升级，不会自动降级"
    )
    is_default = models.BooleanField("新分销商默认等级", default=False)
    level1_bp = models.PositiveIntegerField(
        "一级佣金（基点）", null=True, blank=True, help_text="留空则使用默认比例"
    )
    level2_bp = models.PositiveIntegerField("二级佣金（基点）", null=True, blank=True)
    level3_bp = models.PositiveIntegerField("三级佣金（基点）", null=True, blank=True)
    team_bp = models.PositiveIntegerField(
        "团队佣金（基点）", default=0, help_text="直属团队成员的销售额额外奖励"
    )
    logic = models.CharField(
        "升级条件关系", max_length=5, choices=ConditionLogic.choices, default=ConditionLogic.ALL
    )
    min_own_sales = models.PositiveBigIntegerField("个人推广销售额满（分）", null=True, blank=True)
    min_own_orders = models.PositiveIntegerField("完成订单数满", null=True, blank=True)
    min_single_order = models.PositiveIntegerField("单笔订单金额满（分）", null=True, blank=True)
    min_direct_team = models.PositiveIntegerField("直属团队人数满", null=True, blank=True)
    min_team_sales = models.PositiveBigIntegerField("团队销售额满（分）", null=True, blank=True)
    min_team_orders = models.PositiveIntegerField("团队订单数满", null=True, blank=True)
    min_settled_commission = models.PositiveBigIntegerField("已结算佣金满（分）", null=True, blank=True)

    class Meta:
        verbose_name = "分销等级"
        verbose_name_plural = "分销等级"
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
    PENDING = "pending", "待审核"
    ACTIVE = "active", "正常"
    REJECTED = "rejected", "已拒绝"
    SUSPENDED = "suspended", "暂停"
    BANNED = "banned", "已封禁"


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

    VOID = "void", "作废待结算佣金"
    RELEASE = "release", "保留，照常结算"


class JoinSource(models.TextChoices):
    EVERYONE = "everyone", "人人分销"
    APPLIED = "applied", "申请"
    DESIGNATED = "designated", "商家指定"
    CONDITION = "condition", "满足条件"


class Distributor(models.Model):
    Status = DistributorStatus

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="distributor", verbose_name="用户"
    )
    status = models.CharField(
        "状态",
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
        verbose_name="等级",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name="上级"
    )
    referral_code = models.CharField("推广码", max_length=12, unique=True)
    real_name = models.CharField("真实姓名", max_length=40, blank=True)
    apply_note = models.CharField("申请说明", max_length=200, blank=True)
    reject_reason = models.CharField("拒绝原因", max_length=200, blank=True)
    status_reason = models.CharField("状态说明", max_length=200, blank=True)
    ban_decision = models.CharField(
        "封禁时待结算佣金处理", max_length=10, choices=BanDecision.choices, blank=True
    )
    source = models.CharField("来源", max_length=12, choices=JoinSource.choices)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    activated_at = models.DateTimeField("成为分销商时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )

    class Meta:
        verbose_name = "分销商"
        verbose_name_plural = "分销商"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("id")), name="distributor_not_own_parent"),
        ]
        # A team count reads one parent's members of one status from the index.
        indexes = [models.Index(fields=["parent", "status"], name="distributor_parent_status")]

    def __str__(self):
        return f"{self.user.display_name}（{self.referral_code}）"

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


class TouchSource(models.TextChoices):
    LINK = "link", "推广链接"
    QR = "qr", "二维码"
    POSTER = "poster", "海报"
    STORE = "store", "门店"
    MANUAL = "manual", "后台调整"


class TouchDecision(models.TextChoices):
    BOUND = "bound", "已绑定"
    REBOUND = "rebound", "改绑"
    RENEWED = "renewed", "续期"
    KEPT = "kept", "保留原绑定"
    PENDING_LOGIN = "pending_login", "待登录后绑定"
    REFUSED = "refused", "未绑定"


class Touch(models.Model):
    """Every arrival through a distributor's link, QR code, poster or store, and what it did."""

    distributor = models.ForeignKey(
        Distributor, on_delete=models.CASCADE, related_name="touches", verbose_name="分销商"
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="touches",
        verbose_name="客户",
    )
    source = models.CharField("来源", max_length=10, choices=TouchSource.choices)
    decision = models.CharField("结果", max_length=20, choices=TouchDecision.choices)
    rule = models.CharField("依据规则", max_length=20, blank=True)
    reason = models.CharField("说明", max_length=200, blank=True)
    target = models.CharField("落地页", max_length=300, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="操作人",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    # Anonymous visits are aggregated: one row per distributor, visitor (a keyed hash of the
    # client address) and day, counting repeats, so a script cannot grow the table at will.
    visitor = models.CharField("访客标识", max_length=32, blank=True)
    day = models.DateField("日期", null=True, blank=True)
    hits = models.PositiveIntegerField("访问次数", default=1)
    last_seen_at = models.DateTimeField("最近访问", null=True, blank=True)

    class Meta:
        verbose_name = "推广访问记录"
        verbose_name_plural = "推广访问记录"
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


class CustomerBinding(models.Model):
    """The buyer's current distributor. History is in `Touch`."""

    buyer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="binding", verbose_name="客户"
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="bindings", verbose_name="分销商"
    )
    source = models.CharField("来源", max_length=10, choices=TouchSource.choices)
    bound_at = models.DateTimeField("绑定时间")
    expires_at = models.DateTimeField("失效时间", null=True, blank=True)
    protected_until = models.DateTimeField("保护期至", null=True, blank=True)

    class Meta:
        verbose_name = "客户关系"
        verbose_name_plural = "客户关系"
        ordering = ["-bound_at"]

    def __str__(self):
        return f"{self.buyer} → {self.distributor}"


class OrderAttribution(models.Model):
    """Who earns on an order, frozen at checkout: a rebind before payment changes nothing."""

    order = models.OneToOneField(
        "orders.Order", on_delete=models.CASCADE, related_name="attribution", verbose_name="订单"
    )
    level1 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="一级"
    )
    level2 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="二级"
    )
    level3 = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="三级"
    )
    self_purchase = models.BooleanField("自购", default=False)
    reason = models.CharField("归属依据", max_length=200, blank=True)
    settings_version = models.PositiveIntegerField("分销设置版本")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "订单分销归属"
        verbose_name_plural = "订单分销归属"

    def __str__(self):
        return f"{self.order_id}"


class RuleKind(models.TextChoices):
    RATE = "rate", "按比例"
    FIXED = "fixed", "固定金额（分/件）"
    # Not 0 %: a line this rule decides pays no level, no tier bonus and no team commission.
    EXCLUDE = "exclude", "不计佣金"


class CommissionRule(models.Model):
    """A product, SKU or category commission rule, optionally for one grade only."""

    name = models.CharField("规则名称", max_length=60)
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="商品",
    )
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name="SKU"
    )
    category = models.ForeignKey(
        "catalog.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="分类",
    )
    grade = models.ForeignKey(
        DistributorGrade,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="仅限等级",
    )
    kind = models.CharField("计算方式", max_length=10, choices=RuleKind.choices, default=RuleKind.RATE)
    level1 = models.PositiveIntegerField(
        "一级", null=True, blank=True, help_text="按比例时为基点，固定金额时为每件的分"
    )
    level2 = models.PositiveIntegerField("二级", null=True, blank=True)
    level3 = models.PositiveIntegerField("三级", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "佣金规则"
        verbose_name_plural = "佣金规则"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(product__isnull=False, sku__isnull=True, category__isnull=True)
                    | Q(product__isnull=True, sku__isnull=False, category__isnull=True)
                    | Q(product__isnull=True, sku__isnull=True, category__isnull=False)
                ),
                name="commission_rule_one_target",
            ),
        ]

    def __str__(self):
        return self.name

    def value(self, level: int) -> int | None:
        return [self.level1, self.level2, self.level3][level - 1]

    @property
    def excludes(self) -> bool:
        return self.kind == RuleKind.EXCLUDE


class CommissionRuleVersion(models.Model):
    """A rule as it was at one version: written on every save, never changed, so a
    commission explains itself with the name and values it was computed with."""

    rule = models.ForeignKey(
        CommissionRule, on_delete=models.CASCADE, related_name="versions", verbose_name="规则"
    )
    version = models.PositiveIntegerField("版本")
    name = models.CharField("规则名称", max_length=60)
    target = models.CharField("适用于", max_length=200, blank=True)
    grade_name = models.CharField("仅限等级", max_length=20, blank=True)
    kind = models.CharField("计算方式", max_length=10, choices=RuleKind.choices)
    level1 = models.PositiveIntegerField("一级", null=True, blank=True)
    level2 = models.PositiveIntegerField("二级", null=True, blank=True)
    level3 = models.PositiveIntegerField("三级", null=True, blank=True)
    is_active = models.BooleanField("启用")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "佣金规则版本"
        verbose_name_plural = "佣金规则版本"
        ordering = ["rule", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "version"], name="one_row_per_rule_version"),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def value(self, level: int) -> int | None:
        return [self.level1, self.level2, self.level3][level - 1]


class SalesTier(models.Model):
    """Sales-amount bonus: level-1 paid sales this month ≥ threshold → + bonus bp."""

    threshold = models.PositiveBigIntegerField("本月销售额满（分）", unique=True)
    bonus_bp = models.PositiveIntegerField("额外一级佣金（基点）")

    class Meta:
        verbose_name = "销售额阶梯奖励"
        verbose_name_plural = "销售额阶梯奖励"
        ordering = ["threshold"]

    def __str__(self):
        return f"销售额满 {format_fen(self.threshold)} 一级佣金 +{format_bp(self.bonus_bp)}"


class CommissionStatus(models.TextChoices):
    PENDING = "pending", "待结算（预估）"
    FROZEN = "frozen", "冻结中"
    SETTLED = "settled", "已结算"
    CANCELLED = "cancelled", "已取消"


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
    SKU = "sku", "SKU规则"
    PRODUCT = "product", "商品规则"
    CATEGORY = "category", "分类规则"
    GRADE = "grade", "等级比例"
    DEFAULT = "default", "默认比例"


class SettlementBatch(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", "待审核"
        RUNNING = "running", "结算中"
        SETTLED = "settled", "已结算"
        CANCELLED = "cancelled", "已作废"

    mode = models.CharField("方式", max_length=10, choices=SettlementMode.choices)
    status = models.CharField("状态", max_length=20, choices=Status.choices)
    cutoff = models.DateTimeField("结算截止")
    commission_count = models.PositiveIntegerField("佣金笔数", default=0)
    total = models.BigIntegerField("结算金额", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="创建人",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        "最近进度", null=True, blank=True, help_text="结算中的批次长时间没有进度，视为中断，自动继续"
    )

    class Meta:
        verbose_name = "结算批次"
        verbose_name_plural = "结算批次"
        ordering = ["-id"]

    def __str__(self):
        return f"结算批次 #{self.pk}"


class SettlementCycleRun(models.Model):
    """A settlement cycle day that has run: the scheduled run catches up one that was missed."""

    cycle = models.CharField("结算周期", max_length=10, choices=Cycle.choices)
    day = models.DateField("结算日")
    batch = models.ForeignKey(
        SettlementBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="结算批次",
    )
    ran_at = models.DateTimeField("执行时间", auto_now_add=True)

    class Meta:
        verbose_name = "结算周期记录"
        verbose_name_plural = "结算周期记录"
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["cycle", "day"], name="one_run_per_settlement_cycle")]

    def __str__(self):
        return f"{self.get_cycle_display()} {self.day}"


class Commission(models.Model):
    """One order line's commission for one beneficiary, with everything that explains it."""

    Status = CommissionStatus

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="commissions", verbose_name="订单"
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, related_name="commissions", verbose_name="订单商品"
    )
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="commissions", verbose_name="分销商"
    )
    level = models.PositiveSmallIntegerField("层级")
    status = models.CharField(
        "状态",
        max_length=10,
        choices=CommissionStatus.choices,
        default=CommissionStatus.PENDING,
        db_index=True,
    )
    base = models.PositiveIntegerField("计佣金额", help_text="该商品实付金额（已扣优惠，不含运费）")
    quantity = models.PositiveIntegerField("数量")
    rule_kind = models.CharField("计算方式", max_length=10, choices=RuleKind.choices)
    rate_bp = models.PositiveIntegerField("比例（基点）", default=0)
    fixed_per_unit = models.PositiveIntegerField("固定金额（分/件）", default=0)
    bonus_bp = models.PositiveIntegerField("阶梯奖励（基点）", default=0)
    team_bp = models.PositiveIntegerField("团队佣金（基点）", default=0)
    capped = models.PositiveIntegerField("封顶扣减", default=0)
    rule_source = models.CharField("规则来源", max_length=10, choices=RuleSource.choices)
    rule = models.ForeignKey(
        CommissionRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="规则",
    )
    rule_version = models.PositiveIntegerField("规则版本", default=0)
    rule_name = models.CharField("规则名称（当时）", max_length=60, blank=True)
    grade_name = models.CharField("当时等级", max_length=20, blank=True)
    settings_version = models.PositiveIntegerField("设置版本")
    amount = models.PositiveIntegerField("佣金金额（原始）")
    reversed_amount = models.PositiveIntegerField("已冲减", default=0)
    created_at = models.DateTimeField("产生时间", auto_now_add=True)
    frozen_until = models.DateTimeField("解冻时间", null=True, blank=True, db_index=True)
    settled_at = models.DateTimeField("结算时间", null=True, blank=True)
    batch = models.ForeignKey(
        SettlementBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commissions",
        verbose_name="结算批次",
    )

    class Meta:
        verbose_name = "佣金记录"
        verbose_name_plural = "佣金记录"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line", "distributor"], name="one_commission_per_line_and_beneficiary"
            ),
            models.CheckConstraint(
                condition=Q(reversed_amount__lte=F("amount")), name="commission_reversal_not_above_amount"
            ),
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=MAX_LEVELS), name="commission_level_1_to_3"
            ),
        ]
        indexes = [models.Index(fields=["distributor", "status"])]

    def __str__(self):
        return f"{self.order_id}-{self.level}级 ¥{self.net_amount / 100:.2f}"

    @property
    def net_amount(self) -> int:
        return self.amount - self.reversed_amount


class CommissionAdjustment(models.Model):
    """A reduction of a commission (refund before settlement, or clawback after it)."""

    class Kind(models.TextChoices):
        REDUCED = "reduced", "部分退款按比例扣减"
        CANCELLED = "cancelled", "全额退款取消"
        CLAWBACK = "clawback", "结算后退款追回"
        VOIDED = "voided", "封禁作废"
        RELEASED = "released", "封禁后保留结算"

    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="adjustments")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    amount = models.PositiveIntegerField("冲减金额")
    refunded_base = models.PositiveIntegerField("商品累计退款")
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "佣金冲减记录"
        verbose_name_plural = "佣金冲减记录"
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} -{self.amount}"


class LedgerKind(models.TextChoices):
    COMMISSION = "commission", "佣金结算"
    CLAWBACK = "clawback", "退款追回"
    WITHDRAWAL_HOLD = "withdrawal_hold", "提现冻结"
    WITHDRAWAL_RELEASE = "withdrawal_release", "提现退回"
    BAN = "ban", "封禁处理"


class LedgerEntry(models.Model):
    """Append-only: a distributor's balance is the sum of their entries, nothing else."""

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="ledger", verbose_name="分销商"
    )
    kind = models.CharField("类型", max_length=20, choices=LedgerKind.choices)
    amount = models.BigIntegerField("金额", help_text="正数入账，负数出账")
    source_key = models.CharField("来源", max_length=60, unique=True)
    commission = models.ForeignKey(
        Commission, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    withdrawal = models.ForeignKey(
        "Withdrawal", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "账户流水"
        verbose_name_plural = "账户流水"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+d}"


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", "待审核"
    APPROVED = "approved", "已审核，打款中"
    PAID = "paid", "已打款"
    REJECTED = "rejected", "已拒绝"
    FAILED = "failed", "打款失败"


WITHDRAWAL_FLOW = StateMachine(
    WithdrawalStatus,
    {
        WithdrawalStatus.REQUESTED: {WithdrawalStatus.APPROVED, WithdrawalStatus.REJECTED},
        WithdrawalStatus.APPROVED: {WithdrawalStatus.PAID, WithdrawalStatus.FAILED},
        WithdrawalStatus.PAID: set(),
        WithdrawalStatus.REJECTED: set(),
        WithdrawalStatus.FAILED: set(),
    },
)


class PayoutStatus(models.TextChoices):
    """The electronic transfer of an approved withdrawal (WeChat / Alipay)."""

    NONE = "", "-"
    PENDING = "pending", "待打款"
    PROCESSING = "processing", "打款中"
    SUCCEEDED = "succeeded", "已到账"
    FAILED = "failed", "打款失败"


# A transfer in these states may be re-driven by staff or the sweeper: the payout adapter
# is idempotent on the withdrawal number, so a re-drive never pays twice.
RETRYABLE_PAYOUT = (PayoutStatus.PENDING, PayoutStatus.PROCESSING)


class Withdrawal(models.Model):
    Status = WithdrawalStatus

    number = models.CharField("提现单号", max_length=32, unique=True)
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="withdrawals", verbose_name="分销商"
    )
    amount = models.PositiveIntegerField("提现金额")
    fee = models.PositiveIntegerField("手续费")
    payout = models.PositiveIntegerField("实际到账")
    method = models.CharField("提现方式", max_length=20, choices=PayoutMethod.choices)
    account = models.JSONField("收款账户", default=dict, blank=True)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=WithdrawalStatus.choices,
        default=WithdrawalStatus.REQUESTED,
        db_index=True,
    )
    reject_reason = models.CharField("拒绝原因", max_length=200, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    payout_reference = models.CharField("打款凭证号", max_length=64, blank=True)
    payout_status = models.CharField(
        "打款进度", max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.NONE, blank=True
    )
    payout_attempts = models.PositiveIntegerField("打款尝试次数", default=0)
    # Pending: when the sweeper may (re)start the transfer. Processing: the claim's deadline,
    # after which the attempt is presumed dead (worker killed) and the transfer re-driven.
    payout_next_at = models.DateTimeField("下次打款尝试", null=True, blank=True, db_index=True)
    payout_last_error = models.CharField("最近一次打款错误", max_length=300, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="审核人",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    paid_at = models.DateTimeField("打款时间", null=True, blank=True)

    class Meta:
        verbose_name = "提现"
        verbose_name_plural = "提现"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(payout=F("amount") - F("fee")), name="withdrawal_payout_is_amount_less_fee"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
        ]

    def __str__(self):
        return self.number


class SandboxPayout(models.Model):
    """The sandbox payout service's own records (stands in for WeChat / Alipay transfers)."""

    out_biz_no = models.CharField(max_length=40, unique=True)
    channel = models.CharField(max_length=20)
    amount = models.PositiveIntegerField()
    reference = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "沙箱打款"
        verbose_name_plural = "沙箱打款"

    def __str__(self):
        return self.out_biz_no
