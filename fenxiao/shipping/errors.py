from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class RegionUndeliverable(DomainError):
    code = "SHIPPING_REGION_UNDELIVERABLE"
    message = _("所选收货地区不在配送范围内")
    status = 400


class RegionNotFound(DomainError):
    code = "REGION_NOT_FOUND"
    message = _("地区不存在")
    status = 404


class TemplateCopyNameTaken(DomainError):
    code = "SHIPPING_TEMPLATE_COPY_NAME_TAKEN"
    message = _("复制失败：可用的副本名称都已被占用，请先重命名或删除多余的副本")
    status = 409
