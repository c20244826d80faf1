import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from fenxiao.core.money import format_fen

from .system_text import SystemText

PHONE_PATTERN = r"^1[3-9]\d{9}$"
phone_validator = RegexValidator(PHONE_PATTERN, _("请输入有效的中国大陆手机号"))


class User(AbstractUser):
    """Buyers sign in with a mainland phone number; staff keep a username as well."""

    phone = models.CharField(
        _("手机号"), max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    nickname = models.CharField(_("昵称"), max_length=40, blank=True)
    # Marketing by SMS needs the buyer's consent and a way to say no: a push
    # reaches those who turned this off only in the message center.
    accepts_marketing = models.BooleanField(
        _("接收活动推送"), default=True, help_text=_("通过短信接收商家的活动推送；站内消息不受影响")
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")

    def __str__(self):
        return self.nickname or self.phone or self.username

    @property
    def display_name(self) -> str:
        if self.nickname:
            return self.nickname
        if self.phone:
            return f"{self.phone[:3]}****{self.phone[-4:]}"
        return self.username


class Address(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("用户")
    )
    recipient = models.CharField(_("收货人"), max_length=40)
    phone = models.CharField(_("联系电话"), max_length=11, validators=[phone_validator])
    province = models.CharField(_("省"), max_length=20)
    city = models.CharField(_("市"), max_length=20)
    district = models.CharField(_("区/县"), max_length=20, blank=True)
    detail = models.CharField(_("详细地址"), max_length=200)
    is_default = models.BooleanField(_("默认地址"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("收货地址")
        verbose_name_plural = pgettext_lazy("plural", "收货地址")
        ordering = ["-is_default", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="one_default_address_per_user"
            ),
        ]

    def __str__(self):
        return f"{self.recipient} {self.full_text}"

    @property
    def full_text(self) -> str:
        return f"{self.province}{self.city}{self.district}{self.detail}"


class ApiToken(models.Model):
    """Bearer token for app and mini-program clients. Only a hash is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = pgettext_lazy("plural", "访问令牌")

    def __str__(self):
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class WalletEntry(models.Model):
    """A buyer's store credit (商城余额), append-only; balance is the sum of entries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="wallet_entries",
        verbose_name=_("用户"),
    )
    amount = models.BigIntegerField(_("金额"))
    source_key = models.CharField(_("来源"), max_length=60, unique=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("商城余额流水")
        verbose_name_plural = pgettext_lazy("plural", "商城余额流水")
        ordering = ["-id"]

    def __str__(self):
        sign = "+" if self.amount >= 0 else "-"
        return f"{sign}{format_fen(abs(self.amount))} {self.note}".strip()

    @property
    def note_text(self) -> str:
        """The note in the active language: the system writes its notes in Chinese from
        `WALLET_NOTES`; one staff typed (none today) reads as typed."""
        return WALLET_NOTES(self.note)


# The notes the system writes on store-credit entries (orders' tenders and distribution's
# withdrawals write them from these templates; the row keeps the Chinese sentence).
WALLET_ORDER_PAID = gettext_noop("订单 %(number)s 余额支付")
WALLET_ORDER_RELEASED = gettext_noop("订单 %(number)s 取消，余额退回")
WALLET_ORDER_REFUNDED = gettext_noop("订单 %(number)s 售后 %(after_sale)s 退回余额")
WALLET_WITHDRAWAL = gettext_noop("佣金提现到商城余额 %(number)s")
WALLET_NOTES = SystemText(
    WALLET_ORDER_PAID,
    WALLET_ORDER_RELEASED,
    WALLET_ORDER_REFUNDED,
    WALLET_WITHDRAWAL,
    patterns={"number": r"\S+", "after_sale": r"\S+"},
)


class RateCounter(models.Model):
    """A fixed-window counter shared by every web process (login and registration limits).

    Incremented with one `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement, so
    concurrent requests each get their own count; see `services/limits.py`.
    """

    key = models.CharField(max_length=80, unique=True)
    hits = models.PositiveIntegerField(default=0)
    # Unix seconds: compared in SQL, so no time-zone or adapter questions between databases.
    expires_at = models.BigIntegerField(db_index=True)

    class Meta:
        verbose_name = _("频率计数")
        verbose_name_plural = pgettext_lazy("plural", "频率计数")

    def __str__(self):
        return f"{self.key}={self.hits}"


class SmsCode(models.Model):
    """The one active verification code for a phone number and a purpose. Only a hash is
    stored; issuing a new code replaces the old one, using it deletes it."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("注册")
        RESET_PASSWORD = "reset_password", _("找回密码")

    phone = models.CharField(_("手机号"), max_length=20)
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("过期时间"))
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = pgettext_lazy("plural", "短信验证码")
        constraints = [
            models.UniqueConstraint(fields=["phone", "purpose"], name="one_sms_code_per_phone_purpose")
        ]

    def __str__(self):
        return f"{self.purpose}:{self.phone}"


class SmsMessage(models.Model):
    """An outgoing text message (the outbox). Written in the transaction that decides to
    send it and handed to the SMS gateway after commit; a row still pending past
    `next_attempt_at` is handed over again by the sweeper (at least once)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    class Template(models.TextChoices):
        """Which message this is. Chinese SMS gateways send only templates the merchant has
        had approved (a template code and its parameters), never free text."""

        REGISTER_CODE = "register_code", _("注册验证码")
        ALREADY_REGISTERED = "already_registered", _("已注册提醒")
        RESET_CODE = "reset_code", _("重置密码验证码")
        NOT_REGISTERED = "not_registered", _("未注册提醒")

    phone = models.CharField(_("手机号"), max_length=20)
    purpose = models.CharField(_("用途"), max_length=20, choices=SmsCode.Purpose.choices)
    template = models.CharField(_("短信模板"), max_length=30, choices=Template.choices, blank=True)
    # The template's parameters (the code and how many minutes it lasts), as the gateway takes them.
    params = models.JSONField(_("模板参数"), default=dict, blank=True)
    text = models.CharField(_("内容"), max_length=300)
    gateway = models.CharField(_("短信通道"), max_length=20)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"), db_index=True)
    last_error = models.CharField(_("最近错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = pgettext_lazy("plural", "短信")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sms_message_due")]

    def __str__(self):
        return f"{self.phone} {self.get_status_display()}"


# --- Customers (客户): buyers seen from the backend, their figures, tags and segments -----


class WechatIdentity(models.Model):
    """A buyer's WeChat openid under one app id (the 公众号 bound to the merchant's WeChat
    Pay): what WeChat Pay's in-app payment, and WeChat messages, address them by. Learnt
    silently (snsapi_base) when a signed-in buyer pays in WeChat's browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="wechat_identities",
        verbose_name=_("用户"),
    )
    appid = models.CharField(_("公众号 AppID"), max_length=32)
    openid = models.CharField("OpenID", max_length=64)
    created_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("微信身份")
        verbose_name_plural = pgettext_lazy("plural", "微信身份")
        constraints = [
            models.UniqueConstraint(fields=["appid", "openid"], name="one_account_per_openid"),
            models.UniqueConstraint(fields=["user", "appid"], name="one_openid_per_account_and_app"),
        ]

    def __str__(self):
        return f"{self.appid}:{self.openid}"


class BuyerManager(models.Manager):
    def get_queryset(self):
        # A buyer is any account that is not staff: distributors are buyers too.
        return super().get_queryset().filter(is_staff=False, is_superuser=False)


class Customer(User):
    """The backend's view of a buyer (客户); staff accounts stay on the 员工 page."""

    objects = BuyerManager()

    class Meta:
        proxy = True
        verbose_name = _("客户")
        verbose_name_plural = pgettext_lazy("plural", "客户")
        permissions = [("view_customer_phone", gettext_noop("可查看客户完整手机号"))]  # read via the catalog


class RegistrationSource(models.TextChoices):
    # All but the last are `distribution.TouchSource` values: the touch that came with the
    # registration. Staff adjustments (manual) are not a way of arriving.
    LINK = "link", _("推广链接")
    QR = "qr", _("二维码")
    POSTER = "poster", _("海报")
    STORE = "store", _("门店")
    COUPON = "coupon", _("优惠券")
    DIRECT = "direct", _("自然注册")


class CustomerFigures(models.Model):
    """One row per buyer: what the customer list, tags and segments read instead of
    aggregating orders. Kept up to date by the order hooks (paid order, refund) with
    increments, and rebuilt from the orders in chunks (`services/figures.py`)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="customer_figures",
        verbose_name=_("客户"),
    )
    paid_orders = models.PositiveIntegerField(_("付款订单数"), default=0)
    # Paid minus refunded, in fen.
    total_spend = models.BigIntegerField(_("累计消费"), default=0)
    refunded = models.BigIntegerField(_("累计退款"), default=0)
    first_paid_at = models.DateTimeField(_("首次付款"), null=True, blank=True)
    last_paid_at = models.DateTimeField(_("最近付款"), null=True, blank=True, db_index=True)
    # How the buyer came, settled once after registration (blank until then).
    source = models.CharField(
        _("注册来源"), max_length=10, choices=RegistrationSource.choices, blank=True, db_index=True
    )
    source_distributor = models.ForeignKey(
        "distribution.Distributor",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("注册时的分销商"),
    )

    class Meta:
        verbose_name = _("客户消费统计")
        verbose_name_plural = pgettext_lazy("plural", "客户消费统计")
        indexes = [
            models.Index(fields=["total_spend"], name="customer_fig_spend"),
            models.Index(fields=["paid_orders"], name="customer_fig_orders"),
        ]

    def __str__(self):
        return _("%(user)s: %(orders)s 单") % {"user": self.user_id, "orders": self.paid_orders}


class TagRule(models.TextChoices):
    NEW = "new", _("新客")
    RETURNING = "returning", _("回头客")
    HIGH_SPEND = "high_spend", _("高消费")
    DORMANT = "dormant", _("沉睡")


class Tag(models.Model):
    """A customer tag: automatic (one per rule, thresholds edited by the merchant) or
    manual (applied by staff from the customer list)."""

    name = models.CharField(_("标签名"), max_length=20, unique=True)
    rule = models.CharField(
        _("自动规则"), max_length=12, choices=TagRule.choices, blank=True, help_text=_("留空为手动标签")
    )
    days = models.PositiveIntegerField(_("天数 N"), null=True, blank=True)
    min_orders = models.PositiveIntegerField(_("付款订单数 ≥"), null=True, blank=True)
    min_spend = models.BigIntegerField(_("消费金额 ≥"), null=True, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    computed_at = models.DateTimeField(_("最近计算"), null=True, blank=True)

    class Meta:
        verbose_name = _("客户标签")
        verbose_name_plural = pgettext_lazy("plural", "客户标签")
        ordering = ["rule", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule"], condition=~Q(rule=""), name="one_tag_per_rule"),
            models.CheckConstraint(
                condition=Q(min_spend__isnull=True) | Q(min_spend__gte=0), name="tag_min_spend_not_negative"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_automatic(self) -> bool:
        return bool(self.rule)


class CustomerTag(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="customer_tags",
        verbose_name=_("客户"),
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("标签"))
    created_at = models.DateTimeField(_("打标时间"))

    class Meta:
        verbose_name = _("客户标签记录")
        verbose_name_plural = pgettext_lazy("plural", "客户标签记录")
        constraints = [models.UniqueConstraint(fields=["user", "tag"], name="one_customer_tag")]
        indexes = [models.Index(fields=["tag", "user"], name="customer_tag_by_tag")]

    def __str__(self):
        return f"{self.user_id}:{self.tag_id}"


class Segment(models.Model):
    """A saved filter over tags and behaviour (客户分群). `criteria` holds the cleaned
    filter (see `services/segments.py`); members are computed when asked, never stored."""

    name = models.CharField(_("分群名称"), max_length=40, unique=True)
    criteria = models.JSONField(_("筛选条件"), default=dict)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("客户分群")
        verbose_name_plural = pgettext_lazy("plural", "客户分群")
        ordering = ["-id"]

    def __str__(self):
        return self.name


class SignInDevice(models.Model):
    """A device (a browser, or an app install) an account signed in on, by the mall's
    first-party visitor id (the traffic cookie, or the id an app sends). Read by the
    abuse guards: two accounts signed in on one device may be one person."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    device = models.CharField(_("设备标识"), max_length=32)
    first_seen = models.DateTimeField(_("首次登录"), auto_now_add=True)
    last_seen = models.DateTimeField(_("最近登录"))

    class Meta:
        verbose_name = _("登录设备")
        verbose_name_plural = pgettext_lazy("plural", "登录设备")
        constraints = [models.UniqueConstraint(fields=["user", "device"], name="one_row_per_user_device")]
        # Who else signed in on a device.
        indexes = [models.Index(fields=["device"], name="sign_in_device")]

    def __str__(self):
        return f"{self.user_id} {self.device}"
