"""Raw traffic facts (what the H5 pages and the API record) and, below them, the aggregate
tables the reports read.

Traffic is recorded as one row per visitor and day, and one row per buyer, product and day,
whose counters grow: a busy shop gets many page views but the tables grow with visitors and
days, not with clicks. The visitor is a random first-party cookie id; no IP address is kept.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy


class VisitSource(models.TextChoices):
    LINK = "link", _("推广链接")
    QR = "qr", _("二维码")
    POSTER = "poster", _("海报")
    STORE = "store", _("门店")
    COUPON = "coupon", _("优惠券")
    SEARCH = "search", _("搜索")
    DIRECT = "direct", _("直接访问")


class VisitorDay(models.Model):
    """A visitor's day in the mall: where they came from (the day's first source) and how
    far they went. Orders are joined through `buyer` for the funnel."""

    day = models.DateField(_("日期"))
    visitor = models.CharField(_("访客标识"), max_length=32)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("客户"),
    )
    source = models.CharField(_("来源"), max_length=10, choices=VisitSource.choices)
    distributor = models.ForeignKey(
        "distribution.Distributor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("带来访问的分销商"),
    )
    page_views = models.PositiveIntegerField(_("浏览量"), default=0)
    product_views = models.PositiveIntegerField(_("商品浏览次数"), default=0)
    cart_adds = models.PositiveIntegerField(_("加购次数"), default=0)
    first_seen_at = models.DateTimeField(_("首次访问"))
    last_seen_at = models.DateTimeField(_("最近访问"))

    class Meta:
        verbose_name = _("访客日记录")
        verbose_name_plural = pgettext_lazy("plural", "访客日记录")
        constraints = [models.UniqueConstraint(fields=["day", "visitor"], name="one_row_per_visitor_and_day")]
        indexes = [
            models.Index(fields=["day", "source"], name="visitor_day_source"),
            models.Index(fields=["buyer", "day"], name="visitor_day_buyer"),
        ]

    def __str__(self):
        return f"{self.day} {self.visitor}"


class ProductView(models.Model):
    """The browsing trail (浏览轨迹): which products a signed-in buyer looked at, per day."""

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("客户")
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name=_("商品")
    )
    day = models.DateField(_("日期"))
    views = models.PositiveIntegerField(_("浏览次数"), default=1)
    first_viewed_at = models.DateTimeField(_("首次浏览"))
    last_viewed_at = models.DateTimeField(_("最近浏览"))

    class Meta:
        verbose_name = _("浏览轨迹")
        verbose_name_plural = pgettext_lazy("plural", "浏览轨迹")
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "product", "day"], name="one_view_row_per_buyer_product_day"
            )
        ]
        indexes = [models.Index(fields=["buyer", "-last_viewed_at"], name="product_view_trail")]

    def __str__(self):
        return f"{self.buyer_id} {self.product_id} {self.day}"


# ---------------------------------------------------------------------------------------
# Aggregates the reports and the dashboard read (kept by analytics/services/aggregates.py).
#
# Every table is keyed by the shop-local day an event happened on: an order counts on the
# day it was paid, a refund on the day it was granted, a commission's settlement on the day
# it settled. Rebuilding a day deletes its rows and recomputes them from raw rows, so any
# range can be rebuilt at any time with the same result. Figures that must be distinct over
# a period (paying buyers, visitors) are not summed from daily distinct counts: `BuyerDay`
# (one row per buyer and day with an order) and the raw `VisitorDay` (one row per visitor
# and day) are the per-day-per-person tables a period's distinct count is taken from.
# Distributor ids are plain integers (0 = none), not foreign keys, so a (day, …, 0) row
# takes part in the unique key an upsert matches on (NULLs never conflict).


class DailySales(models.Model):
    day = models.DateField(_("日期"), unique=True)
    paid_orders = models.PositiveIntegerField(_("付款订单数"), db_default=0)
    units = models.PositiveIntegerField(_("付款件数"), db_default=0)
    gmv = models.BigIntegerField(_("实付金额"), db_default=0)
    goods_amount = models.BigIntegerField(_("商品金额"), db_default=0)
    shipping = models.BigIntegerField(_("运费"), db_default=0)
    discount_flash = models.BigIntegerField(_("限时折扣"), db_default=0)
    discount_group = models.BigIntegerField(_("拼团价"), db_default=0)
    discount_spend = models.BigIntegerField(_("满减"), db_default=0)
    discount_coupon = models.BigIntegerField(_("优惠券"), db_default=0)
    discount_free_shipping = models.BigIntegerField(_("满额包邮"), db_default=0)
    discount_adjust = models.BigIntegerField(_("商家改价"), db_default=0)
    refund_count = models.PositiveIntegerField(_("退款笔数"), db_default=0)
    refunds = models.BigIntegerField(_("退款金额"), db_default=0)
    distributor_orders = models.PositiveIntegerField(_("分销订单数"), db_default=0)
    distributor_gmv = models.BigIntegerField(_("分销实付金额"), db_default=0)

    class Meta:
        verbose_name = _("每日销售")
        verbose_name_plural = pgettext_lazy("plural", "每日销售")
        # Names kept as they are in the database (a lazy string would be a migration);
        # the role table reads them through the catalog.
        permissions = [
            ("view_sales_report", gettext_noop("查看销售报表")),
            ("view_distribution_report", gettext_noop("查看分销报表")),
            ("view_traffic_report", gettext_noop("查看流量报表")),
            ("view_stores_report", gettext_noop("查看门店报表")),
        ]

    def __str__(self):
        return str(self.day)


class BuyerDay(models.Model):
    """One row per buyer and day on which they placed or paid an order: the distinct paying
    buyers of any period, and the order/paid steps of the traffic funnel."""

    day = models.DateField(_("日期"))
    buyer_id = models.BigIntegerField(_("客户"))
    placed_orders = models.PositiveIntegerField(_("下单数"), db_default=0)
    paid_orders = models.PositiveIntegerField(_("付款订单数"), db_default=0)
    paid_amount = models.BigIntegerField(_("实付金额"), db_default=0)

    class Meta:
        verbose_name = _("客户日交易")
        verbose_name_plural = pgettext_lazy("plural", "客户日交易")
        constraints = [models.UniqueConstraint(fields=["day", "buyer_id"], name="one_buyer_day")]
        indexes = [models.Index(fields=["buyer_id", "day"], name="buyer_day_buyer")]

    def __str__(self):
        return str(self.day)


class ProductDay(models.Model):
    day = models.DateField(_("日期"))
    product_id = models.BigIntegerField(_("商品"))
    category_id = models.BigIntegerField(_("分类"), db_default=0)
    orders = models.PositiveIntegerField(_("订单数"), db_default=0)
    units = models.PositiveIntegerField(_("件数"), db_default=0)
    sales = models.BigIntegerField(_("实付金额"), db_default=0)
    refunded_units = models.PositiveIntegerField(_("退款件数"), db_default=0)
    refunds = models.BigIntegerField(_("退款金额"), db_default=0)

    class Meta:
        verbose_name = _("商品日销售")
        verbose_name_plural = pgettext_lazy("plural", "商品日销售")
        constraints = [models.UniqueConstraint(fields=["day", "product_id"], name="one_product_day")]

    def __str__(self):
        return str(self.day)


class CategoryDay(models.Model):
    """Paid orders per category and day, each order once however many of the category's
    products it bought (summing `ProductDay.orders` would count it once per product).

    `orders` counts the category's own products; `tree_orders` also those of every
    category beneath it (a parent's 小计), each order once, by the tree as it was when the
    day was aggregated."""

    day = models.DateField(_("日期"))
    category_id = models.BigIntegerField(_("分类"))  # 0: products without a category
    orders = models.PositiveIntegerField(_("订单数"), db_default=0)
    tree_orders = models.PositiveIntegerField(_("含下级分类订单数"), db_default=0)

    class Meta:
        verbose_name = _("分类日订单")
        verbose_name_plural = pgettext_lazy("plural", "分类日订单")
        constraints = [models.UniqueConstraint(fields=["day", "category_id"], name="one_category_day")]

    def __str__(self):
        return str(self.day)


class DistributorDay(models.Model):
    day = models.DateField(_("日期"))
    distributor_id = models.BigIntegerField(_("分销商"))
    orders = models.PositiveIntegerField(_("一级推广订单数"), db_default=0)
    sales = models.BigIntegerField(_("一级推广实付金额"), db_default=0)
    # Refunded on the day of the refund (an online after-sale granted, a return at the till),
    # of the sales above whatever day they were made: over all days, sales − refunds is the
    # distributor's running total.
    refunds = models.BigIntegerField(_("一级推广退款"), db_default=0)
    commission_accrued = models.BigIntegerField(_("产生佣金"), db_default=0)
    commission_settled = models.BigIntegerField(_("结算佣金"), db_default=0)
    commission_clawed_back = models.BigIntegerField(_("追回佣金"), db_default=0)

    class Meta:
        verbose_name = _("分销商日业绩")
        verbose_name_plural = pgettext_lazy("plural", "分销商日业绩")
        constraints = [models.UniqueConstraint(fields=["day", "distributor_id"], name="one_distributor_day")]

    def __str__(self):
        return str(self.day)


class CommissionDay(models.Model):
    """Commission flows per day, level and grade (the commission's own snapshots)."""

    day = models.DateField(_("日期"))
    level = models.PositiveSmallIntegerField(_("层级"))
    grade_name = models.CharField(_("等级（当时）"), max_length=20)
    accrued_count = models.PositiveIntegerField(_("产生笔数"), db_default=0)
    accrued = models.BigIntegerField(_("产生佣金"), db_default=0)
    reduced = models.BigIntegerField(_("结算前扣减"), db_default=0)
    settled = models.BigIntegerField(_("结算佣金"), db_default=0)
    clawed_back = models.BigIntegerField(_("追回佣金"), db_default=0)
    # Of the commission accrued on this day, what is held now (kept fresh by the refresh,
    # which re-runs the creation days of commissions that moved since its last run).
    held_pending = models.BigIntegerField(_("待结算"), db_default=0)
    held_frozen = models.BigIntegerField(_("冻结中"), db_default=0)

    class Meta:
        verbose_name = _("佣金日汇总")
        verbose_name_plural = pgettext_lazy("plural", "佣金日汇总")
        constraints = [
            models.UniqueConstraint(fields=["day", "level", "grade_name"], name="one_commission_day")
        ]

    def __str__(self):
        return str(self.day)


class DistributionDay(models.Model):
    day = models.DateField(_("日期"), unique=True)
    new_distributors = models.PositiveIntegerField(_("新增分销商"), db_default=0)
    withdrawals_paid = models.PositiveIntegerField(_("打款笔数"), db_default=0)
    withdrawn_amount = models.BigIntegerField(_("提现金额"), db_default=0)
    withdrawal_fees = models.BigIntegerField(_("手续费"), db_default=0)

    class Meta:
        verbose_name = _("分销日汇总")
        verbose_name_plural = pgettext_lazy("plural", "分销日汇总")

    def __str__(self):
        return str(self.day)


class TrafficDay(models.Model):
    """Visitor-days per day, source and distributor, and how far they went that day."""

    day = models.DateField(_("日期"))
    source = models.CharField(_("来源"), max_length=10)
    distributor_id = models.BigIntegerField(_("分销商"), db_default=0)
    visits = models.PositiveIntegerField(_("访客日数"), db_default=0)
    page_views = models.PositiveIntegerField(_("浏览量"), db_default=0)
    product_visits = models.PositiveIntegerField(_("浏览商品"), db_default=0)
    cart_visits = models.PositiveIntegerField(_("加购"), db_default=0)
    order_visits = models.PositiveIntegerField(_("下单"), db_default=0)
    paid_visits = models.PositiveIntegerField(_("付款"), db_default=0)

    class Meta:
        verbose_name = _("流量日汇总")
        verbose_name_plural = pgettext_lazy("plural", "流量日汇总")
        constraints = [
            models.UniqueConstraint(fields=["day", "source", "distributor_id"], name="one_traffic_day")
        ]

    def __str__(self):
        return str(self.day)


class ReportWatermark(models.Model):
    """Where the incremental refresh got to: the moment its last run started."""

    REPORTS = "reports"  # the report aggregates' refresh (services/aggregates.py)

    name = models.CharField(max_length=40, unique=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("报表刷新进度")
        verbose_name_plural = pgettext_lazy("plural", "报表刷新进度")

    def __str__(self):
        return str(self.name)


class DistinctCount(models.Model):
    """A distinct count over a span of whole days (paying buyers, visitors, visitors of one
    source), computed once from the per-day-per-person rows and kept: a span that has ended
    does not change, unless a rebuild of one of its days deletes it. Spans that include
    today are never kept."""

    metric = models.CharField(_("指标"), max_length=40)
    first = models.DateField(_("开始日期"))
    last = models.DateField(_("结束日期"))
    value = models.PositiveIntegerField(_("去重数"))

    class Meta:
        verbose_name = _("去重计数")
        verbose_name_plural = pgettext_lazy("plural", "去重计数")
        constraints = [models.UniqueConstraint(fields=["metric", "first", "last"], name="one_distinct_count")]
        indexes = [models.Index(fields=["first", "last"], name="distinct_count_span")]

    def __str__(self):
        return f"{self.metric} {self.first}..{self.last}"
