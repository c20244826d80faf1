import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core.statemachine import StateMachine
from fenxiao.shipping.carriers import carrier_name

from .texts import reason_text

# Upper bounds of the order rules' time counts: far beyond any real policy, far below a
# date overflow (a huge value used to make every confirm-receipt fail).
MAX_PAYMENT_TIMEOUT_MINUTES = 7 * 24 * 60
MAX_AUTO_COMPLETE_DAYS = 90
MAX_AFTER_SALE_DAYS = 365
MAX_LOW_STOCK_THRESHOLD = 1_000_000
# After-sale deadlines (days): the merchant's answer, the buyer's parcel back, the receipt.
MAX_AFTER_SALE_RESPOND_DAYS = 30
MAX_RETURN_SHIP_DAYS = 30
MAX_RETURN_RECEIVE_DAYS = 60


class OrderSettings(models.Model):
    """The shop's order rules, one record edited in the backend."""

    payment_timeout_minutes = models.PositiveIntegerField(
        _("未付款自动取消（分钟）"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PAYMENT_TIMEOUT_MINUTES)],
        help_text=_("下单后在此时间内未付款的订单自动取消并恢复库存"),
    )
    auto_complete_days = models.PositiveIntegerField(
        _("发货后自动确认收货（天）"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AUTO_COMPLETE_DAYS)],
    )
    signed_auto_complete_days = models.PositiveIntegerField(
        _("签收后自动确认收货（天）"),
        default=3,
        validators=[MaxValueValidator(MAX_AUTO_COMPLETE_DAYS)],
        help_text=_("快递签收后经过此天数自动确认收货（不晚于发货后的期限）；0 表示签收即确认"),
    )
    after_sale_days = models.PositiveIntegerField(
        _("完成后可申请售后（天）"),
        default=15,
        validators=[MaxValueValidator(MAX_AFTER_SALE_DAYS)],
        help_text=_("订单完成后买家可在此期限内申请售后；商家发起的退款不受限制"),
    )
    shipping_fee = models.PositiveIntegerField(_("运费（分）"), default=0)
    free_shipping_threshold = models.PositiveIntegerField(
        _("满额包邮（分）"), default=0, help_text=_("商品金额达到此数免运费；0 表示始终收取运费")
    )
    # Stock is taken and restored by orders, so the warning level lives with the order rules.
    low_stock_threshold = models.PositiveIntegerField(
        _("库存预警（件）"),
        default=10,
        validators=[MaxValueValidator(MAX_LOW_STOCK_THRESHOLD)],
        help_text=_("上架商品的可售 SKU 库存低于此数时，在经营概况的待办中提醒；0 表示不提醒"),
    )
    after_sale_respond_days = models.PositiveIntegerField(
        _("商家处理售后期限（天）"),
        default=2,
        validators=[MaxValueValidator(MAX_AFTER_SALE_RESPOND_DAYS)],
        help_text=(
            _(
                "买家申请后商家在此期限内未处理的，系统自动同意"
                "（退货退款进入待买家退货，仅退款直接退款）；0 表示不自动同意"
            )
        ),
    )
    return_ship_days = models.PositiveIntegerField(
        _("买家退货期限（天）"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETURN_SHIP_DAYS)],
        help_text=_("商家同意退货后买家在此期限内未填写退货物流的，售后自动关闭"),
    )
    return_receive_days = models.PositiveIntegerField(
        _("商家确认收货期限（天）"),
        default=10,
        validators=[MaxValueValidator(MAX_RETURN_RECEIVE_DAYS)],
        help_text=_("买家寄回后商家在此期限内未确认收货的，系统自动确认收货并退款；0 表示不自动确认"),
    )
    return_recipient = models.CharField(_("退货收件人"), max_length=40, blank=True)
    return_phone = models.CharField(_("退货联系电话"), max_length=20, blank=True)
    return_address = models.CharField(
        _("退货地址"), max_length=200, blank=True, help_text=_("买家退货时寄回的地址，在售后详情页展示给买家")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("订单设置")
        verbose_name_plural = pgettext_lazy("plural", "订单设置")

    def __str__(self):
        return gettext("订单设置")

    @classmethod
    def current(cls) -> "OrderSettings":
        obj = cls.objects.order_by("pk").first()
        if obj is None:
            # get_or_create on a fixed key: two first readers at once still make one record.
            obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @property
    def return_address_text(self) -> str:
        return " ".join(p for p in (self.return_recipient, self.return_phone, self.return_address) if p)

    def shipping_for(self, goods_amount: int) -> int:
        if self.free_shipping_threshold and goods_amount >= self.free_shipping_threshold:
            return 0
        return self.shipping_fee


class Cart(models.Model):
    buyer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("购物车")
        verbose_name_plural = pgettext_lazy("plural", "购物车")

    def __str__(self):
        return f"{self.buyer}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("购物车商品")
        verbose_name_plural = pgettext_lazy("plural", "购物车商品")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="one_cart_line_per_sku"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.sku_id} ×{self.quantity}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("待付款")
    PENDING_SHIPMENT = "pending_shipment", _("待发货")
    SHIPPED = "shipped", _("已发货")
    COMPLETED = "completed", _("已完成")
    CANCELLED = "cancelled", _("已取消")


ORDER_FLOW = StateMachine(
    OrderStatus,
    {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PENDING_SHIPMENT, OrderStatus.CANCELLED},
        # A paid order not yet shipped may be cancelled, always with a full refund.
        OrderStatus.PENDING_SHIPMENT: {OrderStatus.SHIPPED, OrderStatus.CANCELLED},
        OrderStatus.SHIPPED: {OrderStatus.COMPLETED},
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
)


class Fulfilment(models.TextChoices):
    DELIVERY = "delivery", _("快递配送")
    PICKUP = "pickup", _("到店自提")


# A pickup order is never shipped: paid, it waits at the store (待自提, still
# PENDING_SHIPMENT) and completes when store staff verify its code. Its own table, so the
# delivery flow above never allows skipping the parcel.
PICKUP_FLOW = StateMachine(
    OrderStatus,
    {
        OrderStatus.PENDING_PAYMENT: {OrderStatus.PENDING_SHIPMENT, OrderStatus.CANCELLED},
        OrderStatus.PENDING_SHIPMENT: {OrderStatus.COMPLETED, OrderStatus.CANCELLED},
        OrderStatus.SHIPPED: set(),
        OrderStatus.COMPLETED: set(),
        OrderStatus.CANCELLED: set(),
    },
)
# Where a pickup code still opens something: unique among these only, so codes are reused.
OPEN_PICKUP_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_SHIPMENT)


# An order closed by refunding all of it before shipping keeps why in its cancel reason as
# "<one of these>：<the after-sale's reason>" (see after_sale_outcome.close_if_nothing_left).
CLOSED_BY_REFUND = (gettext_noop("全额退款"), gettext_noop("商品已全部退款"))
CLOSED_BY_REFUND_REASON = gettext_noop("%(what)s：%(reason)s")


def awaiting_pickup() -> Q:
    """Paid pickup orders waiting at their store (待自提): a paid group-buy order waits for
    its group first. The order list's 待自提 tab and the store list's count both read this."""
    return Q(status=OrderStatus.PENDING_SHIPMENT, awaiting_group=False, fulfilment=Fulfilment.PICKUP)


class Order(models.Model):
    Status = OrderStatus

    number = models.CharField(_("订单号"), max_length=32, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("买家")
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        db_index=True,
    )
    # Amounts in fen. total = goods_amount - discount_amount + shipping_fee.
    goods_amount = models.PositiveIntegerField(_("商品金额"))
    discount_amount = models.IntegerField(_("优惠/改价"), default=0, help_text=_("正数为优惠，负数为加价"))
    shipping_fee = models.PositiveIntegerField(_("运费"), default=0)
    total = models.PositiveIntegerField(_("应付金额"))
    paid_amount = models.PositiveIntegerField(_("实付金额"), default=0)
    refunded_amount = models.PositiveIntegerField(_("已退款"), default=0)
    # Store credit is a way to pay, not a discount: the lines' paid amounts (the commission
    # base) are the same whether the buyer pays by gateway, by wallet or by both.
    wallet_amount = models.PositiveIntegerField(_("余额支付"), default=0)
    wallet_refunded = models.PositiveIntegerField(_("已退回余额"), default=0)
    # Delivery address, copied at checkout so later edits to the address book change nothing.
    recipient = models.CharField(_("收货人"), max_length=40)
    recipient_phone = models.CharField(_("联系电话"), max_length=11)
    province = models.CharField(_("省"), max_length=20)
    city = models.CharField(_("市"), max_length=20)
    district = models.CharField(_("区/县"), max_length=20, blank=True)
    address_detail = models.CharField(_("详细地址"), max_length=200)
    note = models.CharField(_("买家留言"), max_length=200, blank=True)
    # Staff's own note (加急, 送赠品, 客户要求周五发货): on the backend and the packing slip,
    # never shown to the buyer.
    merchant_note = models.CharField(_("商家备注"), max_length=200, blank=True)
    # The app's own name for one checkout (its Idempotency token): a request it sends again
    # after a timeout finds the order the first one placed instead of placing another.
    client_token = models.CharField(_("客户端请求标识"), max_length=64, blank=True, default="")
    carrier = models.CharField(_("物流公司"), max_length=40, blank=True)
    tracking_number = models.CharField(_("运单号"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("下单时间"), auto_now_add=True, db_index=True)
    pay_deadline = models.DateTimeField(_("付款截止"))
    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    auto_complete_at = models.DateTimeField(_("自动确认收货时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    # A group-buy (拼团) order is paid at once but ships only once its group is full.
    awaiting_group = models.BooleanField(_("待成团"), default=False)
    fulfilment = models.CharField(
        _("配送方式"), max_length=10, choices=Fulfilment.choices, default=Fulfilment.DELIVERY
    )
    # Kept by id: orders sit below stores (see services/stores_port.py). The store's address
    # is copied into the address fields above at checkout, for the record.
    pickup_store_id = models.PositiveIntegerField(_("自提门店"), null=True, blank=True, db_index=True)
    pickup_code = models.CharField(_("提货码"), max_length=12, blank=True)
    picked_up_at = models.DateTimeField(_("提货时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = pgettext_lazy("plural", "订单")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "pay_deadline"]),
            models.Index(fields=["status", "auto_complete_at"]),
            models.Index(fields=["buyer", "-id"]),
            # The sweeps take due orders in id order after a cursor (orders/services/sweeps.py).
            # Partial, so they hold only the orders waiting for a sweep: one stale unpaid order
            # at a low id no longer makes each run scan every order after it.
            models.Index(fields=["id"], condition=Q(status="pending_payment"), name="order_unpaid_by_id"),
            models.Index(fields=["id"], condition=Q(status="shipped"), name="order_shipped_by_id"),
            # The sales-tier bonus (a distributor's paid sales this month, read while paying)
            # and the sales ranking both start from "paid since".
            models.Index(fields=["paid_at"], name="order_paid_at"),
            # The order list's search finds a whole phone or waybill through these (with the
            # number's and the buyer phone's unique indexes), not by reading every order
            # (admin/order_list.indexed_search). Upper: a waybill is matched case-blind.
            models.Index(fields=["recipient_phone"], name="order_recipient_phone"),
            models.Index(Upper("tracking_number"), name="order_waybill"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("paid_amount")), name="order_refund_not_above_paid"
            ),
            models.CheckConstraint(
                condition=Q(wallet_amount__lte=F("total")), name="order_wallet_not_above_total"
            ),
            models.CheckConstraint(
                condition=Q(wallet_refunded__lte=F("wallet_amount")),
                name="order_wallet_refund_not_above_wallet",
            ),
            models.CheckConstraint(
                condition=Q(total=F("goods_amount") - F("discount_amount") + F("shipping_fee")),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(fulfilment="delivery", pickup_store_id__isnull=True)
                | Q(fulfilment="pickup", pickup_store_id__isnull=False, shipping_fee=0),
                name="order_pickup_has_store_no_fee",
            ),
            models.UniqueConstraint(
                fields=["pickup_code"],
                condition=Q(fulfilment="pickup", status__in=["pending_payment", "pending_shipment"]),
                name="order_pickup_code_unique_open",
            ),
            models.UniqueConstraint(
                fields=["buyer", "client_token"],
                condition=~Q(client_token=""),
                name="order_one_per_client_token",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def address_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.address_detail}"

    @property
    def is_pickup(self) -> bool:
        return self.fulfilment == Fulfilment.PICKUP

    @property
    def flow(self) -> StateMachine:
        return PICKUP_FLOW if self.is_pickup else ORDER_FLOW

    @property
    def status_label(self) -> str:
        """What the buyer and staff read: a paid 拼团 order waits for its group (待成团, not
        to be shipped yet), a paid pickup order waits at the store (待自提)."""
        if self.status == OrderStatus.PENDING_SHIPMENT and self.awaiting_group:
            return gettext("待成团")
        if self.is_pickup and self.status == OrderStatus.PENDING_SHIPMENT:
            return gettext("待自提")
        return self.get_status_display()

    @property
    def cancel_reason_text(self) -> str:
        """The cancel reason in the active language. The system writes its reasons in
        Chinese from the catalogs (超时未付款，系统自动取消, 拼团失败，订单已取消 …), so they are
        translated; what a person typed is in no catalog and reads as typed."""
        what, colon, reason = self.cancel_reason.partition("：")
        if colon and what in CLOSED_BY_REFUND:
            return gettext(CLOSED_BY_REFUND_REASON) % {"what": gettext(what), "reason": reason_text(reason)}
        return reason_text(self.cancel_reason)

    @property
    def refundable_amount(self) -> int:
        return self.paid_amount - self.refunded_amount

    @property
    def amount_due(self) -> int:
        """What the payment gateway is to collect: the total less the store credit used."""
        return self.total - self.wallet_amount


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("订单"))
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    # Snapshot at checkout: what the buyer saw and agreed to pay.
    product_name = models.CharField(_("商品名称"), max_length=80)
    sku_code = models.CharField(_("SKU编码"), max_length=40)
    spec_text = models.CharField(_("规格"), max_length=120, blank=True)
    image_url = models.CharField(_("图片"), max_length=300, blank=True)
    unit_price = models.PositiveIntegerField(_("单价"))
    list_price = models.PositiveIntegerField(_("划线价"), default=0)
    # The SKU's own price at checkout; above `unit_price` when a flash or group price applied.
    original_price = models.PositiveIntegerField(_("原价"), default=0)
    quantity = models.PositiveIntegerField(_("数量"))
    subtotal = models.PositiveIntegerField(_("小计"))
    discount_share = models.IntegerField(_("分摊优惠"), default=0)
    paid_amount = models.PositiveIntegerField(_("实付"))
    refunded_amount = models.PositiveIntegerField(_("已退款"), default=0)
    refunded_quantity = models.PositiveIntegerField(_("已退数量"), default=0)
    # A promotion's own commission rates for this line, copied at checkout (rule priority 1):
    # {"promotion_id", "name", "mode": rate|fixed|exclude, "level1", "level2", "level3"};
    # null when the normal rules decide.
    commission_override = models.JSONField(_("活动佣金"), null=True, blank=True)

    class Meta:
        verbose_name = _("订单商品")
        verbose_name_plural = pgettext_lazy("plural", "订单商品")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(subtotal=F("unit_price") * F("quantity")), name="order_line_subtotal_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount=F("subtotal") - F("discount_share")), name="order_line_paid_adds_up"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("paid_amount")), name="order_line_refund_not_above_paid"
            ),
            models.CheckConstraint(
                condition=Q(refunded_quantity__lte=F("quantity")), name="order_line_refund_qty_not_above_qty"
            ),
        ]

    def __str__(self):
        return f"{self.product_name} {self.spec_text} ×{self.quantity}"

    @property
    def refundable_amount(self) -> int:
        return self.paid_amount - self.refunded_amount


class DiscountKind(models.TextChoices):
    FLASH = "flash", _("限时折扣")
    GROUP = "group", _("拼团价")
    SPEND = "spend", _("满减")
    COUPON = "coupon", _("优惠券")
    FREE_SHIPPING = "free_shipping", _("满额包邮")
    ADJUST = "adjust", _("商家改价")


# Discounts that lower a line's unit price (its `unit_price` is already the promotion price)
# rather than being part of its `discount_share`.
PRICE_KINDS = (DiscountKind.FLASH, DiscountKind.GROUP)


class OrderDiscount(models.Model):
    """One discount on an order, per line (which promotion, how much), so refunds, commission
    and reports see it. A line's `discount_share` is the sum of its 满减, coupon and
    adjustment rows; flash and group rows record how far below `original_price` it was sold.
    A row without a line is shipping waived by a 包邮 tier.

    Promotions sit above orders, so the promotion and the buyer's coupon are kept by id."""

    Kind = DiscountKind

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, null=True, blank=True, related_name="discounts"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=DiscountKind.choices)
    promotion_id = models.PositiveIntegerField(_("活动"), null=True, blank=True, db_index=True)
    coupon_id = models.PositiveIntegerField(_("优惠券"), null=True, blank=True, db_index=True)
    name = models.CharField(_("名称"), max_length=80)
    amount = models.IntegerField(_("金额"))

    class Meta:
        verbose_name = _("订单优惠")
        verbose_name_plural = pgettext_lazy("plural", "订单优惠")
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.name}"


class ActorKind(models.TextChoices):
    BUYER = "buyer", _("买家")
    STAFF = "staff", _("商家")
    SYSTEM = "system", _("系统")
    GATEWAY = "gateway", _("支付网关")


class OrderEvent(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("事件"), max_length=40)
    actor_kind = models.CharField(_("操作方"), max_length=10, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    # The line in Chinese, as written: exports, search, and rows from before templates.
    message = models.CharField(_("说明"), max_length=300)
    # What happened, for code; also the line's template (its Chinese msgid, under TEMPLATE)
    # and arguments (under ARGS), so each reader gets it in their own language (`text`).
    data = models.JSONField(default=dict, blank=True)
    # The buyer's order page lists the events as the order's history; staff-only ones (a
    # 商家备注 written or changed) stay on the backend.
    buyer_visible = models.BooleanField(_("买家可见"), default=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("订单日志")
        verbose_name_plural = pgettext_lazy("plural", "订单日志")
        ordering = ["id"]

    TEMPLATE, ARGS = "_template", "_args"

    def __str__(self):
        return self.text

    @property
    def text(self) -> str:
        """The line in the active language. Pure Python (a page of events costs no query):
        the template through gettext, its arguments as stored, codes (a carrier, an
        after-sale's kind or reason) by their label. A line without arguments is its own
        template; an older row written with its values in shows as written."""
        data = self.data if isinstance(self.data, dict) else {}
        template = data.get(self.TEMPLATE)
        if not template:
            return gettext(self.message) if self.message else ""
        return self.render_text(template, data.get(self.ARGS) or {}) or self.message

    @classmethod
    def render_text(cls, template: str, args: dict) -> str:
        """`template` in the active language with `args`; "" if they do not fit (an older
        row whose template has since changed its placeholders)."""
        try:
            return gettext(template) % {name: _event_arg(value) for name, value in args.items()}
        except (KeyError, TypeError, ValueError):
            return ""


def _event_arg(value):
    """An argument as the reader sees it: a code stored as {kind: code} by its label in the
    active language (an unknown code as it is), anything else as stored."""
    if not (isinstance(value, dict) and len(value) == 1):
        return value
    ((kind, code),) = value.items()
    show = _EVENT_CODES.get(kind)
    if show is None or not isinstance(code, str):
        return code
    return show(code) if code else code


def evidence_image_path(instance, filename):
    # Unguessable names, in the private storage: reachable only through signed links.
    return f"after_sales/{timezone.now():%Y%m}/{uuid.uuid4().hex}.{instance.extension}"


# After-sales (refund only, returns), parcels with their tracking and product reviews live in
# modules of their own (see their docstrings); imported here so Django finds their models.
from .models_after_sales import *  # noqa: E402, F403
from .models_after_sales import AfterSaleKind, AfterSaleReason  # noqa: E402
from .models_reviews import *  # noqa: E402, F403
from .models_shipping import *  # noqa: E402, F403
from .models_shipping import TrackingState  # noqa: E402


def _label_of(choices):
    return lambda code: str(dict(choices.choices).get(code, code))


# What an event's {kind: code} argument means. "text" is a Chinese text the system wrote (a
# cancel reason, a default reason): a catalog entry, so translated; one a person typed is
# in no catalog and reads as typed.
_EVENT_CODES = {
    "text": reason_text,
    "carrier": carrier_name,
    "after_sale_kind": _label_of(AfterSaleKind),
    "after_sale_reason": _label_of(AfterSaleReason),
    "tracking_state": _label_of(TrackingState),
}
