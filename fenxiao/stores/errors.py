from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class StoreNotFound(DomainError):
    code = "STORE_NOT_FOUND"
    message = _("门店不存在或已停止营业")
    status = 404


class StoreClosed(StoreNotFound):
    """The code is a store's, but the store is closed (营业中 off): a scan joins nobody, and
    the H5 page says so instead of a bare 页面不存在."""

    message = _("该门店已停止营业")


class StaffNotFound(DomainError):
    code = "STAFF_NOT_FOUND"
    message = _("导购码无效")
    status = 404


class StaffUserNotFound(DomainError):
    code = "STAFF_USER_NOT_FOUND"
    message = _("没有找到该手机号的用户，请先让员工注册")
    status = 400


class StaffRefused(DomainError):
    code = "STAFF_REFUSED"
    message = _("无法添加该员工")
    status = 400


class GuideRateInvalid(DomainError):
    code = "STORE_GUIDE_RATE_INVALID"
    message = _("导购一级佣金比例必须是 0%–100% 之间的比例")
    status = 400


class StockSheetInvalid(DomainError):
    code = "STORE_STOCK_SHEET_INVALID"
    message = _("门店库存表无法读取")
    status = 400
