"""What the POS sync API keeps: per-store API keys, the nonces seen inside the replay window,
the answers to idempotent writes, and the sales and returns a store's own till reports (门店收银).

Imported by `stores.models` so Django finds the models; the API lives in `stores.api_pos`,
the rules in `stores.services.pos_keys` and `stores.services.pos_sync`.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PosApiKey(models.Model):
    """A store's key for its POS or ERP. The secret is never stored: it is derived from the
    server's SECRET_KEY, the key id and a random salt (`pos_keys.secret_for`), shown once
    when the key is created, and recomputed to verify each signature. A database copy alone
    therefore signs nothing; rotating SECRET_KEY invalidates every key (create new ones)."""

    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="pos_keys", verbose_name=_("门店")
    )
    # Named in Chinese like the page's other columns; the API docs' term stays in English.
    key_id = models.CharField(_("密钥 ID"), max_length=40, unique=True)
    salt = models.CharField(max_length=64, editable=False)
    name = models.CharField(_("用途"), max_length=40, blank=True, help_text=_("如：前台收银机、ERP"))
    is_active = models.BooleanField(_("启用"), default=True, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("收银系统密钥")
        verbose_name_plural = pgettext_lazy("plural", "收银系统密钥（POS API）")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.store} {self.key_id}"


class PosNonce(models.Model):
    """A nonce a key used: unique per key, so a request replayed inside the timestamp window
    is refused by the constraint. Rows older than the window are swept (`stores.tasks`)."""

    key = models.ForeignKey(PosApiKey, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("收银系统请求随机数")
        verbose_name_plural = pgettext_lazy("plural", "收银系统请求随机数")
        constraints = [models.UniqueConstraint(fields=["key", "nonce"], name="one_use_per_pos_nonce")]

    def __str__(self):
        return self.nonce


class PosIdempotency(models.Model):
    """The answer to one idempotent write of a store's POS, by the caller's key: the same key
    again returns this answer without writing; the same key with another body is refused."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    operation = models.CharField(max_length=20)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("收银系统幂等记录")
        verbose_name_plural = pgettext_lazy("plural", "收银系统幂等记录")
        constraints = [models.UniqueConstraint(fields=["store", "key"], name="one_answer_per_pos_key")]

    def __str__(self):
        return self.key


class OfflineSale(models.Model):
    """A sale made at a store's till, pushed by its POS. It counts for the member's figures
    and automatic tags like a paid online order."""

    store = models.ForeignKey(
        "stores.Store", on_delete=models.PROTECT, related_name="offline_sales", verbose_name=_("门店")
    )
    sale_no = models.CharField(_("收银单号"), max_length=64)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="offline_sales",
        verbose_name=_("会员"),
    )
    buyer_phone = models.CharField(_("会员手机号"), max_length=20, blank=True)
    total = models.PositiveIntegerField(_("金额"))
    # What the till's returns (`OfflineRefund`) gave back so far: spend is total − refunded.
    refunded_amount = models.PositiveIntegerField(_("已退款"), default=0)
    sold_at = models.DateTimeField(_("销售时间"), db_index=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    api_key = models.ForeignKey(
        PosApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收银系统密钥"),
    )

    class Meta:
        verbose_name = _("门店销售")
        verbose_name_plural = pgettext_lazy("plural", "门店销售（收银系统）")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sale_no"], name="one_offline_sale_per_store_no"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("total")), name="offline_sale_refund_not_above_total"
            ),
        ]
        indexes = [models.Index(fields=["buyer", "sold_at"])]

    def __str__(self):
        return f"{self.store} {self.sale_no}"


class OfflineSaleLine(models.Model):
    sale = models.ForeignKey(
        OfflineSale, on_delete=models.CASCADE, related_name="lines", verbose_name=_("销售")
    )
    # The till may sell goods the online shop does not list: the code is kept as given,
    # the SKU linked when the shop has it.
    sku_code = models.CharField(_("SKU编码"), max_length=40)
    sku = models.ForeignKey(
        "catalog.Sku",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("商品规格"),
    )
    quantity = models.PositiveIntegerField(_("数量"))
    amount = models.PositiveIntegerField(_("金额"))
    # Returned so far at the till (the sum of this line's `OfflineRefundLine`s): what remains
    # refundable, and the share of commission the line still earns.
    refunded_quantity = models.PositiveIntegerField(_("已退数量"), default=0)
    refunded_amount = models.PositiveIntegerField(_("已退金额"), default=0)

    class Meta:
        verbose_name = _("门店销售明细")
        verbose_name_plural = pgettext_lazy("plural", "门店销售明细")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="offline_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=F("quantity")) & Q(refunded_amount__lte=F("amount")),
                name="offline_line_refund_not_above_sale",
            ),
        ]

    def __str__(self):
        return f"{self.sku_code} x{self.quantity}"


class OfflineRefund(models.Model):
    """A return (门店退货) of a till sale, pushed by the store's POS: once per (sale, the till's
    refund no.). Its lines say how much of each sale line went back; the sale lines' refunded
    counters are their running sums."""

    sale = models.ForeignKey(
        OfflineSale, on_delete=models.CASCADE, related_name="refunds", verbose_name=_("销售")
    )
    refund_no = models.CharField(_("退货单号"), max_length=64)
    total = models.PositiveIntegerField(_("退款金额"))
    refunded_at = models.DateTimeField(_("退货时间"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    api_key = models.ForeignKey(
        PosApiKey,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收银系统密钥"),
    )

    class Meta:
        verbose_name = _("门店退货")
        verbose_name_plural = pgettext_lazy("plural", "门店退货（收银系统）")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "refund_no"], name="one_offline_refund_per_sale_no"),
        ]

    def __str__(self):
        return f"{self.sale} 退货 {self.refund_no}"


class OfflineRefundLine(models.Model):
    refund = models.ForeignKey(
        OfflineRefund, on_delete=models.CASCADE, related_name="lines", verbose_name=_("退货")
    )
    sale_line = models.ForeignKey(
        OfflineSaleLine, on_delete=models.CASCADE, related_name="refund_lines", verbose_name=_("销售明细")
    )
    quantity = models.PositiveIntegerField(_("数量"))
    amount = models.PositiveIntegerField(_("金额"))

    class Meta:
        verbose_name = _("门店退货明细")
        verbose_name_plural = pgettext_lazy("plural", "门店退货明细")

    def __str__(self):
        return f"{self.sale_line.sku_code} x{self.quantity}"
