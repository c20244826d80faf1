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
