import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

PHONE_PATTERN = r"^1[3-9]\d{9}$"
phone_validator = RegexValidator(PHONE_PATTERN, "请输入有效的中国大陆手机号")


class User(AbstractUser):
    """Buyers sign in with a mainland phone number; staff keep a username as well."""

    phone = models.CharField(
        "手机号", max_length=11, unique=True, null=True, blank=True, validators=[phone_validator]
    )
    nickname = models.CharField("昵称", max_length=40, blank=True)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses", verbose_name="用户"
    )
    recipient = models.CharField("收货人", max_length=40)
    phone = models.CharField("联系电话", max_length=11, validators=[phone_validator])
    province = models.CharField("省", max_length=20)
    city = models.CharField("市", max_length=20)
    district = models.CharField("区/县", max_length=20, blank=True)
    detail = models.CharField("详细地址", max_length=200)
    is_default = models.BooleanField("默认地址", default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "收货地址"
        verbose_name_plural = "收货地址"
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
        verbose_name = "访问令牌"
        verbose_name_plural = "访问令牌"

    def __str__(self):
        return f"{self.prefix}…"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class WalletEntry(models.Model):
    """A buyer's store credit (商城余额), append-only; balance is the sum of entries."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet_entries", verbose_name="用户"
    )
    amount = models.BigIntegerField("金额")
    source_key = models.CharField("来源", max_length=60, unique=True)
    note = models.CharField("说明", max_length=200, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "商城余额流水"
        verbose_name_plural = "商城余额流水"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.user_id} {self.amount:+d}"


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
        verbose_name = "频率计数"
        verbose_name_plural = "频率计数"

    def __str__(self):
        return f"{self.key}={self.hits}"


class SmsCode(models.Model):
    """The one active verification code for a phone number and a purpose. Only a hash is
    stored; issuing a new code replaces the old one, using it deletes it."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"

    phone = models.CharField("手机号", max_length=20)
    purpose = models.CharField("用途", max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField("过期时间")
    failed_attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
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
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    phone = models.CharField("手机号", max_length=20)
    purpose = models.CharField("用途", max_length=20, choices=SmsCode.Purpose.choices)
    text = models.CharField("内容", max_length=300)
    gateway = models.CharField("短信通道", max_length=20)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_attempt_at = models.DateTimeField("下次发送时间", db_index=True)
    last_error = models.CharField("最近错误", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信"
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sms_message_due")]

    def __str__(self):
        return f"{self.phone} {self.get_status_display()}"
