from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.fields import OrderedJSONField


class Category(models.Model):
    name = models.CharField(_("分类名称"), max_length=40)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级分类"),
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("显示"), default=True)

    class Meta:
        verbose_name = _("商品分类")
        verbose_name_plural = pgettext_lazy("plural", "商品分类")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.name


def _new_uuid() -> str:
    import uuid

    return uuid.uuid4().hex


def product_image_path(instance, filename):
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
    return f"products/{instance.product_id or 'new'}/{instance.uuid}.{ext}"


class Product(models.Model):
    name = models.CharField(_("商品名称"), max_length=80, db_index=True)
    subtitle = models.CharField(_("卖点"), max_length=120, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("分类")
    )
    description = models.TextField(
        _("商品详情"), blank=True, help_text=_("富文本，保存时会清除不安全的标签和脚本")
    )
    is_listed = models.BooleanField(_("上架"), default=False, db_index=True)
    # Denormalised from the SKUs so lists can sort and show a price without joining.
    price = models.PositiveIntegerField(_("售价（分，最低SKU价）"), default=0)
    list_price = models.PositiveIntegerField(_("划线价（分）"), default=0)
    sales_count = models.PositiveIntegerField(_("销量"), default=0)
    weight_grams = models.PositiveIntegerField(_("重量（克）"), default=0)
    # Null: the shop's flat fee and free-shipping threshold (订单设置).
    shipping_template = models.ForeignKey(
        "shipping.ShippingTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("运费模板"),
        help_text=_("不选则使用订单设置中的统一运费"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = pgettext_lazy("plural", "商品")
        ordering = ["-id"]
        indexes = [models.Index(fields=["is_listed", "category"])]

    def __str__(self):
        return self.name


class ProductImage(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("商品")
    )
    uuid = models.CharField(max_length=32, editable=False, default=_new_uuid)
    image = models.ImageField(_("图片"), upload_to=product_image_path)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("商品图片")
        verbose_name_plural = pgettext_lazy("plural", "商品图片")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return f"{self.product_id}-{self.sort_order}"


class Sku(models.Model):
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("商品")
    )
    code = models.CharField(_("SKU编码"), max_length=40, unique=True)
    # Spec values in display order, e.g. {"颜色": "红色", "尺码": "M"}.
    specs = OrderedJSONField(_("规格"), default=dict, blank=True)
    price = models.PositiveIntegerField(_("售价（分）"))
    list_price = models.PositiveIntegerField(_("划线价（分）"), default=0)
    stock = models.IntegerField(_("库存"), default=0)
    weight_grams = models.PositiveIntegerField(_("重量（克）"), default=0)
    is_active = models.BooleanField(_("可售"), default=True)
    # 规格图: one of the product's own gallery pictures (the editor sets it per value of the
    # first spec, e.g. each 颜色). Shown when the buyer picks the SKU and on its cart and
    # order lines; removing the picture from the gallery leaves the SKU on the cover.
    image = models.ForeignKey(
        ProductImage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("规格图"),
    )

    class Meta:
        verbose_name = "SKU"
        verbose_name_plural = "SKU"
        ordering = ["product_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="sku_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="sku_price_positive"),
            models.CheckConstraint(
                condition=Q(list_price=0) | Q(list_price__gte=F("price")),
                name="sku_list_price_not_below_price",
            ),
        ]

    def __str__(self):
        return f"{self.product.name} {self.spec_text}".strip()

    @property
    def own_picture(self) -> "ProductImage | None":
        """Its 规格图, read from the product's pictures (prefetch `product__images` to keep
        it free of queries)."""
        if not self.image_id:
            return None
        return next((image for image in self.product.images.all() if image.pk == self.image_id), None)

    @property
    def picture(self) -> "ProductImage | None":
        """What shows for this SKU: its 规格图, else the product's cover."""
        images = list(self.product.images.all())
        return self.own_picture or (images[0] if images else None)

    @property
    def spec_text(self) -> str:
        return " / ".join(str(v) for v in (self.specs or {}).values())
