"""Raw traffic facts (what the H5 pages and the API record) and, below them, the aggregate
tables the reports read.

Traffic is recorded as one row per visitor and day, and one row per buyer, product and day,
whose counters grow: a busy shop gets many page views but the tables grow with visitors and
days, not with clicks. The visitor is a random first-party cookie id; no IP address is kept.
"""

from django.conf import settings
from django.db import models


class VisitSource(models.TextChoices):
    LINK = "link", "推广链接"
    QR = "qr", "二维码"
    POSTER = "poster", "海报"
    STORE = "store", "门店"
    SEARCH = "search", "搜索"
    DIRECT = "direct", "直接访问"


class VisitorDay(models.Model):
    """A visitor's day in the mall: where they came from (the day's first source) and how
    far they went. Orders are joined through `buyer` for the funnel."""

    day = models.DateField("日期")
    visitor = models.CharField("访客标识", max_length=32)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="客户",
    )
    source = models.CharField("来源", max_length=10, choices=VisitSource.choices)
    distributor = models.ForeignKey(
        "distribution.Distributor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="带来访问的分销商",
    )
    page_views = models.PositiveIntegerField("浏览量", default=0)
    product_views = models.PositiveIntegerField("商品浏览次数", default=0)
    cart_adds = models.PositiveIntegerField("加购次数", default=0)
    first_seen_at = models.DateTimeField("首次访问")
    last_seen_at = models.DateTimeField("最近访问")

    class Meta:
        verbose_name = "访客日记录"
        verbose_name_plural = "访客日记录"
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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="客户"
    )
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, related_name="+", verbose_name="商品"
    )
    day = models.DateField("日期")
    views = models.PositiveIntegerField("浏览次数", default=1)
    first_viewed_at = models.DateTimeField("首次浏览")
    last_viewed_at = models.DateTimeField("最近浏览")

    class Meta:
        verbose_name = "浏览轨迹"
        verbose_name_plural = "浏览轨迹"
        constraints = [
            models.UniqueConstraint(fields=["buyer", "product", "day"], name="one_view_row_per_buyer_product_day")
        ]
        indexes = [models.Index(fields=["buyer", "-last_viewed_at"], name="product_view_trail")]

    def __str__(self):
        return f"{self.buyer_id} {self.product_id} {self.day}"
