"""After-sales: refund only or return and refund, their flow as data, the reasons, lines,
negotiation history and the buyer's photos. Part of `orders` (`models.py` imports this
module, so Django finds these models)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from fenxiao.core import private_files
from fenxiao.core.statemachine import StateMachine
from fenxiao.shipping.carriers import Carrier, carrier_name

from .models import ActorKind, Order, OrderEvent, OrderLine, evidence_image_path
from .texts import reason_text


class AfterSaleKind(models.TextChoices):
    REFUND_ONLY = "refund_only", _("仅退款")
    RETURN_REFUND = "return_refund", _("退货退款")


class AfterSaleStatus(models.TextChoices):
    REQUESTED = "requested", _("待商家处理")
    # Refund only: approved; a return: received. The refund is on its way back.
    APPROVED = "approved", _("退款中")
    AWAITING_RETURN = "awaiting_return", _("待买家退货")
    RETURN_SHIPPED = "return_shipped", _("待商家收货")
    REFUNDED = "refunded", _("已退款")
    REJECTED = "rejected", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤销")
    CLOSED = "closed", _("已关闭")


# 仅退款: requested → approved → refunded (one step for staff).
# 退货退款: requested → awaiting_return (the buyer ships back) → return_shipped → approved
# (received; the refund runs) → refunded. A refused receipt ends the request (rejected);
# the buyer may file a new one while the after-sale window is open, which is how the two
# sides go back to negotiating. A buyer who does not ship back in time finds it closed.
AFTER_SALE_FLOW = StateMachine(
    AfterSaleStatus,
    {
        AfterSaleStatus.REQUESTED: {
            AfterSaleStatus.APPROVED,
            AfterSaleStatus.AWAITING_RETURN,
            AfterSaleStatus.REJECTED,
            AfterSaleStatus.WITHDRAWN,
        },
        AfterSaleStatus.AWAITING_RETURN: {
            AfterSaleStatus.RETURN_SHIPPED,
            AfterSaleStatus.WITHDRAWN,
            AfterSaleStatus.CLOSED,
        },
        AfterSaleStatus.RETURN_SHIPPED: {AfterSaleStatus.APPROVED, AfterSaleStatus.REJECTED},
        AfterSaleStatus.APPROVED: {AfterSaleStatus.REFUNDED},
        AfterSaleStatus.REFUNDED: set(),
        AfterSaleStatus.REJECTED: set(),
        AfterSaleStatus.WITHDRAWN: set(),
        AfterSaleStatus.CLOSED: set(),
    },
)
# Open requests block further requests on their lines, shipping, and commission settlement.
OPEN_AFTER_SALE = [
    AfterSaleStatus.REQUESTED,
    AfterSaleStatus.AWAITING_RETURN,
    AfterSaleStatus.RETURN_SHIPPED,
    AfterSaleStatus.APPROVED,
]
# Ended without money moving: their shipping share and lines are free again.
DROPPED_AFTER_SALE = [AfterSaleStatus.REJECTED, AfterSaleStatus.WITHDRAWN, AfterSaleStatus.CLOSED]


class AfterSaleReason(models.TextChoices):
    NOT_WANTED = "not_wanted", _("不想要了")
    WRONG_ORDER = "wrong_order", _("拍错了/多拍了")
    NOT_RECEIVED = "not_received", _("未收到货")
    QUALITY = "quality", _("商品质量问题")
    NOT_AS_DESCRIBED = "not_as_described", _("与描述不符")
    MISSING = "missing", _("少件/漏发")
    WRONG_ITEM = "wrong_item", _("发错货")
    DAMAGED = "damaged", _("物流破损")
    AGREED = "agreed", _("与商家协商一致")
    OTHER = "other", _("其他")


# A return needs goods in the buyer's hands: "not received" is a refund-only reason.
RETURN_REASONS = [r for r in AfterSaleReason if r != AfterSaleReason.NOT_RECEIVED]
# Before shipping only the buyer's change of mind makes sense.
UNSHIPPED_REASONS = [
    AfterSaleReason.NOT_WANTED,
    AfterSaleReason.WRONG_ORDER,
    AfterSaleReason.AGREED,
    AfterSaleReason.OTHER,
]
MAX_EVIDENCE_IMAGES = 6  # per request or message
MAX_AFTER_SALE_IMAGES = 24  # per after-sale, messages included


class AfterSale(models.Model):
    Status = AfterSaleStatus
    Kind = AfterSaleKind

    number = models.CharField(_("售后单号"), max_length=32, unique=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="after_sales", verbose_name=_("订单")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=AfterSaleKind.choices)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=AfterSaleStatus.choices,
        default=AfterSaleStatus.REQUESTED,
        db_index=True,
    )
    amount = models.PositiveIntegerField(_("退款金额"), help_text=_("含退运费"))
    shipping_amount = models.PositiveIntegerField(_("退运费"), default=0)
    reason = models.CharField(_("原因"), max_length=200)
    reason_code = models.CharField(_("原因类型"), max_length=20, choices=AfterSaleReason.choices, blank=True)
    description = models.CharField(_("问题描述"), max_length=500, blank=True)
    restock = models.BooleanField(_("退回库存"), default=False)
    # The deadline of the current step (the merchant's answer, the buyer's parcel, the
    # receipt); null when nobody is waited for. The periodic sweep acts on it.
    deadline = models.DateTimeField(_("处理期限"), null=True, blank=True)
    return_carrier = models.CharField(_("退货物流公司"), max_length=20, choices=Carrier.choices, blank=True)
    return_tracking_number = models.CharField(_("退货运单号"), max_length=40, blank=True)
    return_shipped_at = models.DateTimeField(_("买家寄回时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("商家收货时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    requested_by = models.CharField(_("发起方"), max_length=10, choices=ActorKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    reject_reason = models.CharField(_("拒绝原因"), max_length=200, blank=True)
    refunded_at = models.DateTimeField(_("退款时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("售后")
        verbose_name_plural = pgettext_lazy("plural", "售后")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "deadline"], name="after_sale_due")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="after_sale_amount_positive"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_AFTER_SALE

    @property
    def return_carrier_name(self) -> str:
        return carrier_name(self.return_carrier)

    @property
    def reason_text(self) -> str:
        """The reason in the active language: a listed reason by its label (the row keeps the
        Chinese one), a reason the system wrote (拼团失败，全额退款) through the catalogs, what
        a person typed as typed."""
        if self.reason_code:
            return self.get_reason_code_display()
        return reason_text(self.reason)


class AfterSaleLine(models.Model):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(
        OrderLine, on_delete=models.PROTECT, related_name="+", verbose_name=_("订单商品")
    )
    quantity = models.PositiveIntegerField(_("数量"), default=0)
    amount = models.PositiveIntegerField(_("金额"))

    class Meta:
        verbose_name = _("售后商品")
        verbose_name_plural = pgettext_lazy("plural", "售后商品")
        constraints = [
            models.UniqueConstraint(
                fields=["after_sale", "order_line"], name="one_after_sale_line_per_order_line"
            ),
        ]

    def __str__(self):
        """The product and how many, as the after-sale page titles the row (its inline
        loads `order_line` with the rows)."""
        line = self.order_line
        return " ".join(part for part in (line.product_name, line.spec_text, f"×{self.quantity}") if part)


class AfterSaleLog(models.Model):
    """The negotiation history of one after-sale: every step and every message, by whom."""

    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="logs")
    actor_kind = models.CharField(_("操作方"), max_length=10, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    kind = models.CharField(_("事件"), max_length=30)
    # The line in Chinese, as written: exports, search, and rows from before templates.
    message = models.CharField(_("内容"), max_length=500)
    # The line's template (a Chinese msgid, under OrderEvent.TEMPLATE) and its arguments
    # (under OrderEvent.ARGS), as an order event keeps them, so each reader gets the line
    # in their own language (`text`).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("售后协商记录")
        verbose_name_plural = pgettext_lazy("plural", "售后协商记录")
        ordering = ["id"]

    # What a person wrote in the negotiation: shown as written, never looked up in a catalog
    # (`text`), except the words the system puts on photos sent without any (SYSTEM_WORDS).
    TYPED_KINDS = ("message",)
    IMAGES_ONLY = gettext_noop("上传了图片")
    # The API's evidence upload (`api.upload_evidence`).
    EVIDENCE = gettext_noop("补充凭证")
    SYSTEM_WORDS = (IMAGES_ONLY, EVIDENCE)

    def __str__(self):
        return self.text

    @classmethod
    def typed(cls, kind: str, message: str) -> bool:
        """Whether a line is a person's own words (kept and shown as written)."""
        return kind in cls.TYPED_KINDS and message not in cls.SYSTEM_WORDS

    @property
    def text(self) -> str:
        """The line in the active language, rendered as `OrderEvent.text` renders an event's
        (pure Python: a page of history costs no query). A message someone typed reads as
        typed; an older row without a template shows its stored sentence, translated when
        it is a fixed one."""
        data = self.data if isinstance(self.data, dict) else {}
        template = data.get(OrderEvent.TEMPLATE)
        if template:
            return OrderEvent.render_text(template, data.get(OrderEvent.ARGS) or {}) or self.message
        if not self.message or self.typed(self.kind, self.message):
            return self.message
        return gettext(self.message)


class AfterSaleImage(models.Model):
    after_sale = models.ForeignKey(AfterSale, on_delete=models.CASCADE, related_name="images")
    log = models.ForeignKey(
        AfterSaleLog, on_delete=models.CASCADE, null=True, blank=True, related_name="images"
    )
    # Private: a buyer's photos are opened through signed links that expire (`url`).
    image = models.ImageField(_("图片"), upload_to=evidence_image_path, storage=private_files.storage)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    extension = "jpg"  # set from the validated format before saving

    class Meta:
        verbose_name = _("售后凭证")
        verbose_name_plural = pgettext_lazy("plural", "售后凭证")
        ordering = ["id"]

    def __str__(self):
        return self.image.name

    @property
    def url(self) -> str:
        return private_files.url(self.image.name)
