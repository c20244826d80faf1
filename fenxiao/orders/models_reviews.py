"""商品评价: a buyer's rating of one line of a completed order, shown on the product page;
staff may hide an abusive one (the reason kept) and reply under it. Part of `orders`
(`models.py` imports this module, so Django finds the model)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Order, OrderLine

MAX_RATING = 5
# 好评: 4 and 5 stars, the share a Chinese shop shows as 好评率.
GOOD_RATING = 4
MAX_TEXT = 500


def mask_name(name: str) -> str:
    """爱**猫: the first and last character of a buyer's display name, so a review shows
    nobody's phone number or full nickname."""
    if len(name) <= 2:
        return f"{name[:1]}**"
    return f"{name[0]}**{name[-1]}"


class ProductReview(models.Model):
    # One review per order line, held by the database: a double submit cannot make two.
    order_line = models.OneToOneField(
        OrderLine, on_delete=models.PROTECT, related_name="review", verbose_name=_("订单商品")
    )
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+", verbose_name=_("订单"))
    # Copied from the line so the product page reads its reviews and figures from this table alone.
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("商品")
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("买家")
    )
    rating = models.PositiveSmallIntegerField(_("评分"))
    text = models.CharField(_("评价内容"), max_length=MAX_TEXT, blank=True)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)
    # Hidden by staff: out of the product's figures and pages; the reason stays after 取消隐藏.
    is_hidden = models.BooleanField(_("已隐藏"), default=False)
    hidden_reason = models.CharField(_("隐藏原因"), max_length=200, blank=True)
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("隐藏人"),
    )
    reply = models.CharField(_("商家回复"), max_length=MAX_TEXT, blank=True)
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回复人"),
    )

    class Meta:
        verbose_name = _("商品评价")
        verbose_name_plural = pgettext_lazy("plural", "商品评价")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=MAX_RATING), name="product_review_rating_1_to_5"
            ),
        ]
        indexes = [
            # The product page: its shown reviews, newest first, and their count and 好评率.
            models.Index(fields=["product", "is_hidden", "-id"], name="review_product_shown"),
        ]

    def __str__(self):
        # The backend's pages read the line with the review (select_related).
        return f"{self.order_line.product_name} {'★' * self.rating}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.buyer.display_name)

    @property
    def stars(self) -> str:
        return "★" * self.rating + "☆" * (MAX_RATING - self.rating)
