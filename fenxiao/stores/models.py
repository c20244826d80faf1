"""Offline stores (门店): where they are and when they open, their own stock per SKU next to
the online (warehouse) stock, their staff (店长, 导购) and their members.

Stores sit above orders and distribution: orders reach them only through
`orders.services.stores_port` (pickup, store stock), so an order keeps its pickup store by id.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Store(models.Model):
    name = models.CharField("门店名称", max_length=40, unique=True)
    province = models.CharField("省", max_length=20)
    city = models.CharField("市", max_length=20)
    district = models.CharField("区/县", max_length=20, blank=True)
    address_detail = models.CharField("详细地址", max_length=200)
    # WGS-84 as a browser's geolocation gives it; empty when the merchant has not set it.
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    hours = models.CharField("营业时间", max_length=60, blank=True, help_text="如 09:00-21:00，周一至周日")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_stores",
        verbose_name="店长",
    )
    is_open = models.BooleanField("营业中", default=True, db_index=True)
    pickup_enabled = models.BooleanField("支持到店自提", default=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "门店"
        verbose_name_plural = "门店"
        ordering = ["sort_order", "id"]
        # Staff outside the store's own roster who may verify pickups (核销) at any store.
        permissions = [("verify_pickup", "核销自提订单")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="store_location_valid",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def address_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"


class StoreStock(models.Model):
    """A store's own stock of one SKU, beside the online stock on the SKU itself. Taken and
    restored with conditional UPDATEs exactly like the online stock."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock", verbose_name="门店")
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, related_name="store_stock", verbose_name="SKU"
    )
    stock = models.IntegerField("门店库存", default=0)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "门店库存"
        verbose_name_plural = "门店库存"
        ordering = ["store_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="one_stock_row_per_store_sku"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="store_stock_not_negative"),
        ]

    def __str__(self):
        return f"{self.store} {self.sku_id}: {self.stock}"


class StaffRole(models.TextChoices):
    MANAGER = "manager", "店长"
    GUIDE = "guide", "导购"


class StoreStaff(models.Model):
    """Who works in a store. A 导购 who is also a distributor earns commission on the members
    bound to them through their personal store QR."""

    Role = StaffRole

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff", verbose_name="门店")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_roles", verbose_name="员工"
    )
    role = models.CharField("岗位", max_length=10, choices=StaffRole.choices, default=StaffRole.GUIDE)
    is_active = models.BooleanField("在职", default=True)
    joined_at = models.DateTimeField("加入时间", auto_now_add=True)

    class Meta:
        verbose_name = "门店员工"
        verbose_name_plural = "门店员工"
        ordering = ["store_id", "id"]
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="one_role_per_store_user")]

    def __str__(self):
        return f"{self.store} {self.get_role_display()} {self.user}"


class MemberSource(models.TextChoices):
    STORE_QR = "store_qr", "门店码"
    STAFF_QR = "staff_qr", "导购码"
    PICKUP = "pickup", "到店自提"
    POS = "pos", "门店收银"


class StoreMember(models.Model):
    """A buyer who joined a store (scanned its QR, picked up there, or was registered by its
    POS). Which store a buyer counts for when there are several is a store setting."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="members", verbose_name="门店")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="store_memberships",
        verbose_name="会员",
    )
    source = models.CharField("来源", max_length=10, choices=MemberSource.choices)
    staff = models.ForeignKey(
        StoreStaff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name="导购",
    )
    joined_at = models.DateTimeField("加入时间", auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "门店会员"
        verbose_name_plural = "门店会员"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "buyer"], name="one_membership_per_store_buyer")
        ]

    def __str__(self):
        return f"{self.store} {self.buyer}"


# The POS sync API's models live in their own module (keys, nonces, idempotent answers, offline sales).
from .pos_models import OfflineSale, OfflineSaleLine, PosApiKey, PosIdempotency, PosNonce  # noqa: E402, F401
