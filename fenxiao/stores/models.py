"""Offline stores (门店): where they are and when they open, their own stock per SKU next to
the online (warehouse) stock, their staff (店长, 导购) and their members.

Stores sit above orders and distribution: orders reach them only through
`orders.services.stores_port` (pickup, store stock), so an order keeps its pickup store by id.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

MAX_GUIDE_BP = 10_000  # a store's 导购 rate is at most 100 %
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read off posters


def new_code(length: int = 6) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


class MemberMode(models.TextChoices):
    FIRST = "first", _("首个门店（先扫码的门店）")
    LATEST = "latest", _("最新门店（最近扫码的门店）")


class BindTarget(models.TextChoices):
    STORE = "store", _("绑定到门店")
    STAFF = "staff", _("绑定到扫码的导购（门店码绑定到门店）")
    NONE = "none", _("只成为会员，不绑定")


class StoreSettings(models.Model):
    """The shop's store rules, one record edited in the backend (门店设置)."""

    member_mode = models.CharField(
        _("会员归属门店"),
        max_length=10,
        choices=MemberMode.choices,
        default=MemberMode.FIRST,
        help_text=_("顾客扫了多个门店的码时，算哪个门店的会员"),
    )
    bind_target = models.CharField(
        _("扫码绑定"),
        max_length=10,
        choices=BindTarget.choices,
        default=BindTarget.STAFF,
        help_text=_("扫门店码绑定到门店；扫导购个人码时绑定到该导购或门店"),
    )
    override_binding = models.BooleanField(
        _("扫码可改绑已有分销商"),
        default=False,
        help_text=_(
            "关闭时，已绑定分销商的顾客扫门店码只成为会员，不改绑；"
            "开启时按分销设置的绑定规则（首次绑定/最新绑定/有效期）决定"
        ),
    )
    member_distributor = models.BooleanField(
        _("扫码成为分销商"),
        default=False,
        help_text=_(
            "开启后，扫门店码或导购码的顾客在成为会员的同时成为分销商（无需申请），"
            "上级为其绑定的门店或导购；已是分销商或申请被拒、被暂停的顾客不变"
        ),
    )
    pos_commission = models.BooleanField(
        _("门店收银计佣"),
        default=False,
        help_text=_(
            "开启后，收银系统上报的门店销售中，已绑定分销商/导购的会员消费像线上订单一样计佣："
            "只有 SKU 编码与商城 SKU 一致的商品计佣，佣金直接进入冻结期，期满后随常规结算入账"
        ),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("门店设置")
        verbose_name_plural = pgettext_lazy("plural", "门店设置")

    def __str__(self):
        return str(_("门店设置"))


class Store(models.Model):
    name = models.CharField(_("门店名称"), max_length=40, unique=True)
    province = models.CharField(_("省"), max_length=20)
    city = models.CharField(_("市"), max_length=20)
    district = models.CharField(_("区/县"), max_length=20, blank=True)
    address_detail = models.CharField(_("详细地址"), max_length=200)
    # WGS-84 as a browser's geolocation gives it; empty when the merchant has not set it.
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    hours = models.CharField(
        _("营业时间"), max_length=60, blank=True, help_text=_("如 09:00-21:00，周一至周日")
    )
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_stores",
        verbose_name=_("店长"),
    )
    is_open = models.BooleanField(_("营业中"), default=True, db_index=True)
    # The code in the store QR's address (/s/<code>/); generated, never reused.
    code = models.CharField(_("门店码"), max_length=12, unique=True, null=True, blank=True, editable=False)
    # "Bound to the store itself" binds to this distributor: the store's own account, which is
    # the manager's distributor account, made on demand (see services.membership).
    distributor = models.ForeignKey(
        "distribution.Distributor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stores",
        verbose_name=_("门店分销账户"),
    )
    # Set only through services.rules.set_guide_rate, which holds it to the guard.
    guide_level1_bp = models.PositiveIntegerField(
        _("导购一级佣金比例（基点）"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_GUIDE_BP, message=_("导购一级佣金比例不能超过 100%%"))],
        help_text=_(
            "填写后，本店导购（及门店账户）作为一级获得的佣金按此比例计算，"
            "代替商品/分类/等级/默认比例；营销活动佣金与不计佣金商品仍优先。"
            "二、三级仍按常规规则，合计（含阶梯/团队奖励）不得超过单商品佣金上限。留空按常规规则"
        ),
    )
    pickup_enabled = models.BooleanField(_("支持到店自提"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("门店")
        verbose_name_plural = pgettext_lazy("plural", "门店")
        ordering = ["sort_order", "id"]
        # Staff outside the store's own roster who may verify pickups (核销) at any store.
        # Marked for the catalog: the role page reads permission names in the reader's language.
        permissions = [("verify_pickup", gettext_noop("核销自提订单"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="store_location_valid",
            ),
            models.CheckConstraint(
                condition=Q(guide_level1_bp__isnull=True) | Q(guide_level1_bp__lte=MAX_GUIDE_BP),
                name="store_guide_rate_at_most_100pct",
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = new_code()
        super().save(*args, **kwargs)

    @property
    def address_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"


class StoreStock(models.Model):
    """A store's own stock of one SKU, beside the online stock on the SKU itself. Taken and
    restored with conditional UPDATEs exactly like the online stock."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="stock", verbose_name=_("门店"))
    sku = models.ForeignKey(
        "catalog.Sku", on_delete=models.CASCADE, related_name="store_stock", verbose_name="SKU"
    )
    stock = models.IntegerField(_("门店库存"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("门店库存")
        verbose_name_plural = pgettext_lazy("plural", "门店库存")
        ordering = ["store_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="one_stock_row_per_store_sku"),
            models.CheckConstraint(condition=Q(stock__gte=0), name="store_stock_not_negative"),
        ]

    def __str__(self):
        # Named by the goods when they were read with the row (the admin reads them so), as
        # the SKU's id meant nothing to a merchant; otherwise by its id, so that printing a
        # row (a store's delete page lists every one) never costs a query.
        descriptor = type(self).sku
        if descriptor.is_cached(self) and type(self.sku).product.is_cached(self.sku):
            return f"{self.store} · {self.sku.product.name} {self.sku.spec_text}".strip()
        return f"{self.store} · SKU {self.sku_id}"


class StaffRole(models.TextChoices):
    MANAGER = "manager", _("店长")
    GUIDE = "guide", _("导购")


class StoreStaff(models.Model):
    """Who works in a store. A 导购 who is also a distributor earns commission on the members
    bound to them through their personal store QR."""

    Role = StaffRole

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="staff", verbose_name=_("门店"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_roles", verbose_name=_("员工")
    )
    role = models.CharField(_("岗位"), max_length=10, choices=StaffRole.choices, default=StaffRole.GUIDE)
    is_active = models.BooleanField(_("在职"), default=True)
    # The code in the staff member's personal store QR (/s/<store code>/<code>/).
    code = models.CharField(_("导购码"), max_length=12, unique=True, null=True, blank=True, editable=False)
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("门店员工")
        verbose_name_plural = pgettext_lazy("plural", "门店员工")
        ordering = ["store_id", "id"]
        constraints = [models.UniqueConstraint(fields=["store", "user"], name="one_role_per_store_user")]

    def __str__(self):
        # Wherever it is printed (a row's title, the history), the phone of a guide with no
        # nickname is masked: a guide's account is a buyer's.
        return f"{self.store} {self.get_role_display()} {self.user.display_name}"

    def save(self, *args, **kwargs):
        if not self.code:
            self.code = new_code(8)
        super().save(*args, **kwargs)


class MemberSource(models.TextChoices):
    STORE_QR = "store_qr", _("门店码")
    STAFF_QR = "staff_qr", _("导购码")
    PICKUP = "pickup", _("到店自提")
    POS = "pos", _("门店收银")


class StoreMember(models.Model):
    """A buyer who joined a store (scanned its QR, picked up there, or was registered by its
    POS). Which store a buyer counts for when there are several is a store setting."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="members", verbose_name=_("门店"))
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="store_memberships",
        verbose_name=_("会员"),
    )
    source = models.CharField(_("来源"), max_length=10, choices=MemberSource.choices)
    staff = models.ForeignKey(
        StoreStaff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("导购"),
    )
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True, db_index=True)
    # The store the buyer counts for (first or latest, by `StoreSettings.member_mode`): one
    # current row per buyer, kept by `services.membership.join` under the buyer's lock.
    is_current = models.BooleanField(_("当前归属"), default=True)

    class Meta:
        verbose_name = _("门店会员")
        verbose_name_plural = pgettext_lazy("plural", "门店会员")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "buyer"], name="one_membership_per_store_buyer")
        ]
        indexes = [models.Index(fields=["store", "is_current", "joined_at"], name="store_member_current")]

    def __str__(self):
        return f"{self.store} {self.buyer}"


class StoreQr(Store):
    """The backend's 门店码与导购 page over the stores (their QR, poster, staff codes and
    store-level 导购 rate), kept apart from the store editing pages."""

    class Meta:
        proxy = True
        verbose_name = _("门店码与导购")
        verbose_name_plural = pgettext_lazy("plural", "门店码与导购")


# The POS sync API's models live in their own module (keys, nonces, idempotent answers, offline sales).
from .pos_models import (  # noqa: E402, F401
    OfflineRefund,
    OfflineRefundLine,
    OfflineSale,
    OfflineSaleLine,
    PosApiKey,
    PosIdempotency,
    PosNonce,
)
