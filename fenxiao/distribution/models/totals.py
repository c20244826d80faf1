"""A distributor's running totals: every dashboard figure that grows with their history.

The dashboard used to aggregate the whole history on every view (commissions, ledger,
withdrawals, level-1 orders), which grows without bound. Instead each service that changes
one of these figures adds its signed delta here in the same transaction
(`services.totals.add`), so reading a dashboard is one row. `services.totals.rebuild`
recomputes the rows from history for repair, and the tests compare the two after every
flow.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .distributors import Distributor

# The figures kept, in the order `services.totals` reads and writes them.
TOTAL_FIELDS = ("pending", "frozen", "settled", "balance", "withdrawn", "orders", "sales")


class DistributorTotals(models.Model):
    distributor = models.OneToOneField(
        Distributor,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="totals",
        verbose_name=_("分销商"),
    )
    pending = models.BigIntegerField(_("待结算佣金（净额）"), default=0)
    frozen = models.BigIntegerField(_("冻结中佣金（净额）"), default=0)
    settled = models.BigIntegerField(_("已结算佣金（净额）"), default=0)
    balance = models.BigIntegerField(_("可提现余额"), default=0, help_text=_("账户流水之和"))
    withdrawn = models.BigIntegerField(_("已提现"), default=0, help_text=_("已打款的提现金额之和"))
    orders = models.BigIntegerField(_("一级推广已付款订单数"), default=0)
    sales = models.BigIntegerField(_("一级推广销售额"), default=0, help_text=_("实付减已退款"))

    class Meta:
        verbose_name = _("分销商累计数据")
        verbose_name_plural = pgettext_lazy("plural", "分销商累计数据")

    def __str__(self):
        return f"{self.distributor_id}"

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in TOTAL_FIELDS}
