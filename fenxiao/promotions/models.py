"""Promotions: flash sales, 满减, group buys, coupons, and what buyers have taken of them.

Counters that must never overshoot (flash stock sold, a buyer's units, coupons issued, a
group's seats) are columns moved by conditional UPDATEs and guarded by CheckConstraints.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.customers.system_text import SystemText


class PromotionKind(models.TextChoices):
    FLASH = "flash", _("限时折扣")
    SPEND = "spend", _("满减")
    GROUP = "group", _("拼团")


class PromotionState(models.TextChoices):
    UPCOMING = "upcoming", _("未开始")
    RUNNING = "running", _("进行中")
    ENDED = "ended", _("已结束")


class Scope(models.TextChoices):
    SHOP = "shop", _("全店通用")
    CATEGORIES = "categories", _("指定分类")
    PRODUCTS = "products", _("指定商品")


class CommissionMode(models.TextChoices):
    NORMAL = "normal", _("按常规佣金规则")
    RATE = "rate", _("活动佣金比例")
    FIXED = "fixed", _("活动每件固定佣金")
    EXCLUDE = "exclude", _("不计佣金")


class Promotion(models.Model):
    Kind = PromotionKind

    kind = models.CharField(_("类型"), max_length=10, choices=PromotionKind.choices)
    name = models.CharField(_("活动名称"), max_length=40)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    ended_at = models.DateTimeField(_("提前结束时间"), null=True, blank=True)
    per_buyer_limit = models.PositiveIntegerField(_("每人限购（件）"), default=0, help_text=_("0 表示不限"))
    # 满减
    scope = models.CharField(_("适用范围"), max_length=12, choices=Scope.choices, default=Scope.SHOP)
    categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="+", verbose_name=pgettext_lazy("plural", "分类")
    )
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("商品"))
    repeat = models.BooleanField(_("每满减"), default=False, help_text=_("按第一档：每满 X 减 Y，上不封顶"))
    stackable = models.BooleanField(_("可与优惠券叠加"), default=True)
    # 拼团
    group_size = models.PositiveSmallIntegerField(_("成团人数"), default=2)
    group_hours = models.PositiveSmallIntegerField(_("成团时限（小时）"), default=24)
    virtual_fill = models.BooleanField(
        _("模拟成团"), default=False, help_text=_("到期未满员时以虚拟成员补足并成团（默认关闭）")
    )
    # Rule priority 1: the promotion's own commission on the lines it priced or discounted.
    commission_mode = models.CharField(
        _("佣金设置"), max_length=10, choices=CommissionMode.choices, default=CommissionMode.NORMAL
    )
    commission_level1 = models.PositiveIntegerField(_("一级佣金"), null=True, blank=True)
    commission_level2 = models.PositiveIntegerField(_("二级佣金"), null=True, blank=True)
    commission_level3 = models.PositiveIntegerField(_("三级佣金"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("营销活动")
        verbose_name_plural = pgettext_lazy("plural", "营销活动")
        ordering = ["-id"]
        indexes = [models.Index(fields=["kind", "ends_at"], name="promotion_kind_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="promotion_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(group_size__gte=2), name="promotion_group_size_min"),
            models.CheckConstraint(condition=Q(group_hours__gte=1), name="promotion_group_hours_min"),
        ]

    def __str__(self):
        return self.name

    @property
    def closes_at(self):
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if now >= self.closes_at:
            return PromotionState.ENDED
        if now < self.starts_at:
            return PromotionState.UPCOMING
        return PromotionState.RUNNING

    def state_label(self, now=None) -> str:
        return str(PromotionState(self.state(now)).label)

    def commission_value(self, level: int) -> int | None:
        return getattr(self, f"commission_level{level}")

    def commission_snapshot(self) -> dict | None:
        """What an order line keeps of the commission setting (OrderLine.commission_override)."""
        if self.commission_mode == CommissionMode.NORMAL:
            return None
        return {
            "promotion_id": self.pk,
            "name": self.name,
            "mode": self.commission_mode,
            **{f"level{n}": self.commission_value(n) for n in (1, 2, 3)},
        }


def running(now=None) -> Q:
    """Promotions in their window and not ended early."""
    now = now or timezone.now()
    return Q(starts_at__lte=now, ends_at__gt=now) & (Q(ended_at__isnull=True) | Q(ended_at__gt=now))


class PromotionItem(models.Model):
    """A product (or one of its SKUs) in a flash sale or group buy, at its promotion price."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, related_name="items", verbose_name=_("活动")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品")
    )
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="SKU",
        help_text=_("留空表示该商品的全部规格"),
    )
    price = models.PositiveIntegerField(_("活动价（分）"), null=True, blank=True)
    discount_bp = models.PositiveIntegerField(_("立减比例"), null=True, blank=True, help_text=_("如 20% off"))
    quota = models.PositiveIntegerField(
        _("活动库存"), null=True, blank=True, help_text=_("从商品库存中划出的活动件数；留空表示不限")
    )
    sold = models.PositiveIntegerField(_("已售"), default=0)

    class Meta:
        verbose_name = _("活动商品")
        verbose_name_plural = pgettext_lazy("plural", "活动商品")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quota__isnull=True) | Q(sold__lte=F("quota")), name="promotion_item_not_oversold"
            ),
            models.CheckConstraint(
                condition=(Q(price__isnull=False) & Q(discount_bp__isnull=True))
                | (Q(price__isnull=True) & Q(discount_bp__isnull=False)),
                name="promotion_item_price_or_discount",
            ),
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gt=0), name="promotion_item_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(discount_bp__isnull=True) | (Q(discount_bp__gt=0) & Q(discount_bp__lt=10000)),
                name="promotion_item_discount_range",
            ),
        ]

    def __str__(self):
        return f"{self.promotion} · {self.product_id}"

    def price_for(self, regular: int) -> int:
        """The promotion price of a SKU selling at `regular` fen: never above it."""
        if self.price is not None:
            return min(self.price, regular)
        return max(regular - regular * self.discount_bp // 10000, 1)

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else self.quota - self.sold

    @property
    def sold_out(self) -> bool:
        return self.quota is not None and self.sold >= self.quota

    @property
    def percent_sold(self) -> int:
        """已抢 x% of the flash stock (0 when the item has none)."""
        return min(100, self.sold * 100 // self.quota) if self.quota else 0


class SpendTier(models.Model):
    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("活动")
    )
    threshold = models.PositiveIntegerField(_("满（分）"))
    reduction = models.PositiveIntegerField(_("减（分）"), default=0)
    free_shipping = models.BooleanField(_("包邮"), default=False)

    class Meta:
        verbose_name = _("满减档位")
        verbose_name_plural = pgettext_lazy("plural", "满减档位")
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["promotion", "threshold"], name="one_spend_tier_per_threshold"),
            models.CheckConstraint(
                condition=Q(reduction__lt=F("threshold")), name="spend_tier_below_threshold"
            ),
        ]

    def __str__(self):
        return f"满{self.threshold}减{self.reduction}"


class BuyerAllowance(models.Model):
    """Units a buyer holds in a promotion with a per-buyer limit, across all their orders."""

    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("限购记录")
        verbose_name_plural = pgettext_lazy("plural", "限购记录")
        constraints = [
            models.UniqueConstraint(fields=["promotion", "buyer"], name="one_allowance_per_buyer"),
        ]

    def __str__(self):
        return f"{self.promotion_id} · {self.buyer_id} × {self.quantity}"


class PromotionUse(models.Model):
    """What one order took from a promotion item (flash stock, the buyer's allowance), so a
    cancelled order gives back exactly that, once.

    `stock_taken` and `allowance_taken` are the units taken from the item's quota and from
    the buyer's allowance at checkout, whatever the merchant sets later (a quota or a limit
    added or removed after the order). Null on rows written before they were recorded: those
    give back by the promotion's settings at the time."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="+")
    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="uses")
    item = models.ForeignKey(PromotionItem, on_delete=models.PROTECT, null=True, related_name="+")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    stock_taken = models.PositiveIntegerField(null=True)
    allowance_taken = models.PositiveIntegerField(null=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("活动占用")
        verbose_name_plural = pgettext_lazy("plural", "活动占用")
        constraints = [models.UniqueConstraint(fields=["order", "item"], name="one_use_per_order_item")]

    def __str__(self):
        return f"{self.order_id} · {self.item_id} × {self.quantity}"


class CouponKind(models.TextChoices):
    FIXED = "fixed", _("满减券")
    PERCENT = "percent", _("折扣券")


class Coupon(models.Model):
    Kind = CouponKind

    name = models.CharField(_("券名称"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10, choices=CouponKind.choices, default=CouponKind.FIXED)
    amount = models.PositiveIntegerField(_("面额（分）"), default=0)
    discount_bp = models.PositiveIntegerField(
        _("折扣比例"), default=0, help_text=_("减去的比例：如 10 表示减 10%，即 9折")
    )
    max_discount = models.PositiveIntegerField(
        _("最多优惠（分）"), default=0, help_text=_("折扣券封顶；0 表示不封顶")
    )
    min_spend = models.PositiveIntegerField(_("使用门槛（分）"), default=0)
    scope = models.CharField(_("适用范围"), max_length=12, choices=Scope.choices, default=Scope.SHOP)
    categories = models.ManyToManyField(
        "catalog.Category", blank=True, related_name="+", verbose_name=pgettext_lazy("plural", "分类")
    )
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+", verbose_name=_("商品"))
    valid_from = models.DateTimeField(_("有效期开始"), null=True, blank=True)
    valid_until = models.DateTimeField(_("有效期结束"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("领取后有效天数"), null=True, blank=True, help_text=_("填写后按领取时间计算有效期")
    )
    total_quantity = models.PositiveIntegerField(_("发行量"), default=0, help_text=_("0 表示不限"))
    issued = models.PositiveIntegerField(_("已发放"), default=0)
    per_buyer_limit = models.PositiveIntegerField(_("每人限领"), default=1)
    claimable = models.BooleanField(_("领券中心展示"), default=True, help_text=_("关闭后只能由商家发放"))
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("优惠券")
        verbose_name_plural = pgettext_lazy("plural", "优惠券")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_quantity=0) | Q(issued__lte=F("total_quantity")),
                name="coupon_not_over_issued",
            ),
            models.CheckConstraint(condition=Q(discount_bp__lt=10000), name="coupon_discount_below_full"),
        ]

    def __str__(self):
        return self.name


class BuyerCouponStatus(models.TextChoices):
    UNUSED = "unused", _("未使用")
    USED = "used", _("已使用")
    VOIDED = "voided", _("已作废")


class CouponSource(models.TextChoices):
    CLAIMED = "claimed", _("买家领取")
    ISSUED = "issued", _("商家发放")


# 发放对象 as the system writes it: the row keeps these Chinese sentences (an export or a
# search reads them as written), `CouponIssue.audience_text` puts them in the reader's
# language. What else lands in `audience` is shown as it is.
HANDED_OUT = gettext_noop("手动发放：%(count)s 个手机号（%(phones)s）")
PUSHED = gettext_noop("定向推送「%(title)s」")
# 备注 of a push's hand-outs; staff's own notes are shown as typed.
PUSH_NOTE = gettext_noop("推送 #%(id)s")
# The phones a hand-out names: the first three, then 等 when there were more.
SHOWN_PHONES = 3


def hand_out_audience(phones: list[str]) -> str:
    """The stored 发放对象 of a hand-out to pasted phones (always Chinese)."""
    shown = "、".join(phones[:SHOWN_PHONES]) + ("等" if len(phones) > SHOWN_PHONES else "")
    return HANDED_OUT % {"count": len(phones), "phones": shown}


def pushed_audience(title: str) -> str:
    return PUSHED % {"title": title}


def push_note(push_id: int) -> str:
    return PUSH_NOTE % {"id": push_id}


def _phones_text(shown: str) -> str:
    more = shown.endswith("等")
    names = pgettext("list separator", "、").join(shown.removesuffix("等").split("、"))
    return gettext("%(names)s 等") % {"names": names} if more else names


AUDIENCES = SystemText(
    HANDED_OUT,
    PUSHED,
    patterns={"count": r"\d+", "phones": ".*", "title": ".*"},
    values={"phones": _phones_text, "title": str},  # a push's title reads as staff typed it
)
PUSH_NOTES = SystemText(PUSH_NOTE, patterns={"id": r"\d+"})


class CouponIssue(models.Model):
    """The issuance log: one row per time staff handed a coupon out to buyers."""

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="issues", verbose_name=_("优惠券")
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    audience = models.CharField(_("发放对象"), max_length=200)
    requested = models.PositiveIntegerField(_("计划发放"), default=0)
    issued = models.PositiveIntegerField(_("实际发放"), default=0)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("发放时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("发券记录")
        verbose_name_plural = pgettext_lazy("plural", "发券记录")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.coupon} × {self.issued}"

    @property
    def audience_text(self) -> str:
        """发放对象 in the active language: the system's sentences through the catalog (a
        push's title and the phones stay as they are), anything else as written."""
        return AUDIENCES(self.audience)

    @property
    def note_text(self) -> str:
        return PUSH_NOTES(self.note)


class BuyerCoupon(models.Model):
    Status = BuyerCouponStatus

    coupon = models.ForeignKey(
        Coupon, on_delete=models.PROTECT, related_name="copies", verbose_name=_("优惠券")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coupons", verbose_name=_("买家")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=BuyerCouponStatus.choices, default=BuyerCouponStatus.UNUSED
    )
    source = models.CharField(
        _("来源"), max_length=10, choices=CouponSource.choices, default=CouponSource.CLAIMED
    )
    issue = models.ForeignKey(
        CouponIssue, on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    valid_from = models.DateTimeField(_("生效时间"))
    valid_until = models.DateTimeField(_("失效时间"))
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("使用订单"),
    )
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    returned_at = models.DateTimeField(_("退回时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("买家优惠券")
        verbose_name_plural = pgettext_lazy("plural", "买家优惠券")
        ordering = ["-id"]
        indexes = [models.Index(fields=["buyer", "status", "valid_until"], name="buyer_coupon_wallet")]

    def __str__(self):
        """The copy as its record page titles it: the coupon's name and the copy's number
        (the page shows the coupon anyway, so naming it costs no extra query). Not the buyer's
        database id, which tells staff nothing, nor their phone, which the page shows masked
        or whole by who is looking."""
        return gettext("%(coupon)s · 券 #%(id)s") % {"coupon": self.coupon, "id": self.pk}

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == BuyerCouponStatus.UNUSED and self.valid_from <= now < self.valid_until


class GroupStatus(models.TextChoices):
    OPEN = "open", _("拼团中")
    SUCCEEDED = "succeeded", _("拼团成功")
    FAILED = "failed", _("拼团失败")


class GroupBuy(models.Model):
    """One group (团) of a group-buy promotion: opened by its leader, full at `size` paid
    members before `deadline`, else failed and every paid member refunded."""

    Status = GroupStatus

    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="groups", verbose_name=_("活动")
    )
    item = models.ForeignKey(
        PromotionItem, on_delete=models.PROTECT, related_name="groups", verbose_name=_("商品")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("团长")
    )
    size = models.PositiveSmallIntegerField(_("成团人数"))
    seats_taken = models.PositiveSmallIntegerField(
        _("已占名额"), default=0, help_text=_("已下单（含未付款）")
    )
    paid_count = models.PositiveSmallIntegerField(_("已付款人数"), default=0)
    status = models.CharField(_("状态"), max_length=10, choices=GroupStatus.choices, default=GroupStatus.OPEN)
    deadline = models.DateTimeField(_("截止时间"))
    closed_at = models.DateTimeField(_("成团/失败时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("开团时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团")
        verbose_name_plural = pgettext_lazy("plural", "拼团")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["deadline"], condition=Q(status="open"), name="group_open_by_deadline"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seats_taken__lte=F("size")), name="group_seats_within_size"),
            models.CheckConstraint(
                condition=Q(paid_count__lte=F("seats_taken")), name="group_paid_within_seats"
            ),
        ]

    def __str__(self):
        return f"{self.promotion} #{self.pk}"


class GroupMemberStatus(models.TextChoices):
    JOINED = "joined", _("待付款")
    PAID = "paid", _("已付款")
    LEFT = "left", _("已取消")
    REFUNDED = "refunded", _("已退款")


class GroupMember(models.Model):
    Status = GroupMemberStatus

    group = models.ForeignKey(
        GroupBuy, on_delete=models.CASCADE, related_name="members", verbose_name=_("拼团")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="group_member"
    )
    is_leader = models.BooleanField(_("团长"), default=False)
    is_virtual = models.BooleanField(_("虚拟成员"), default=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=GroupMemberStatus.choices, default=GroupMemberStatus.JOINED
    )
    joined_at = models.DateTimeField(_("参团时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("拼团成员")
        verbose_name_plural = pgettext_lazy("plural", "拼团成员")
        ordering = ["id"]
        constraints = [
            # A buyer holds one seat per group (a cancelled order's seat is given back).
            models.UniqueConstraint(
                fields=["group", "buyer"],
                condition=Q(buyer__isnull=False) & ~Q(status="left"),
                name="one_seat_per_buyer_per_group",
            ),
        ]

    def __str__(self):
        """The seat as the group's page titles its row: the order that took it (团长 marked),
        or 虚拟成员. Never the buyer's phone, which the row shows masked or whole by who
        is looking; the group page's inline loads `order` with the rows."""
        if self.order_id:
            name = gettext("订单 %(number)s") % {"number": self.order.number}
        else:
            name = gettext("虚拟成员") if self.is_virtual else gettext("拼团成员")
        return f"{gettext('团长')} · {name}" if self.is_leader else name


# Targeted pushes live in their own module; importing them here makes them this app's models.
from .models_push import PUSH_FLOW, Push, PushCarries, PushRecipient, PushStatus  # noqa: E402, F401
