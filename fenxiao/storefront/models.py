from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fenxiao.core.http import is_site_path


def is_safe_link(value: str) -> bool:
    """A site path ("/products/12/") or an http(s) address; never `javascript:` or `data:`."""
    value = (value or "").strip()
    if is_site_path(value):
        return True
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def validate_link(value: str) -> None:
    if not is_safe_link(value):
        raise ValidationError(_("链接只能是站内地址（以 / 开头）或 http(s):// 网址"), code="unsafe_link")


color_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("请填写 #RRGGBB 格式的颜色，例如 #e4393c"))


class Banner(models.Model):
    """A home-page banner: an image, or a coloured card with a title, linking anywhere in the shop."""

    title = models.CharField(_("标题"), max_length=40)
    subtitle = models.CharField(_("副标题"), max_length=80, blank=True)
    image = models.ImageField(_("图片"), upload_to="banners/", blank=True)
    link = models.CharField(
        _("链接"),
        max_length=200,
        default="/",
        validators=[validate_link],
        help_text=_("站内地址，例如 /products/12/ 或 /search/?q=T恤；或 https:// 开头的网址"),
    )
    color = models.CharField(_("底色"), max_length=7, default="#e4393c", validators=[color_validator])
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("显示"), default=True)

    class Meta:
        verbose_name = _("首页轮播图")
        verbose_name_plural = pgettext_lazy("plural", "首页轮播图")
        ordering = ["sort_order", "id"]

    def __str__(self):
        return self.title

    @property
    def safe_link(self) -> str:
        """What the page links to: a row saved before validation existed (or written around
        it) cannot put a script URL on the home page."""
        return self.link if is_safe_link(self.link) else "/"

    @property
    def safe_color(self) -> str:
        return self.color if color_validator.regex.match(self.color or "") else "#e4393c"
