from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class PromotionInvalid(DomainError):
    code = "PROMOTION_INVALID"
    message = _("活动设置有误")
    status = 400


class PromotionNotRunning(DomainError):
    code = "PROMOTION_NOT_RUNNING"
    message = _("活动未开始或已结束")
    status = 409


class FlashSoldOut(DomainError):
    code = "FLASH_SOLD_OUT"
    message = _("活动商品已抢光")
    status = 409


class FlashLimitExceeded(DomainError):
    code = "FLASH_LIMIT_EXCEEDED"
    message = _("超过活动每人限购数量")
    status = 409


class CouponNotFound(DomainError):
    code = "COUPON_NOT_FOUND"
    message = _("优惠券不存在")
    status = 404


class CouponUsed(DomainError):
    code = "COUPON_USED"
    message = _("优惠券已使用")
    status = 409


class CouponExpired(DomainError):
    code = "COUPON_EXPIRED"
    message = _("优惠券已过期")
    status = 409


class CouponNotStarted(DomainError):
    code = "COUPON_NOT_STARTED"
    message = _("优惠券未到使用时间")
    status = 409


class CouponBelowMinimum(DomainError):
    code = "COUPON_BELOW_MINIMUM"
    message = _("未达到优惠券使用门槛")
    status = 400


class CouponNotInScope(DomainError):
    code = "COUPON_NOT_IN_SCOPE"
    message = _("所选商品不适用该优惠券")
    status = 400


class CouponUnavailable(DomainError):
    code = "COUPON_UNAVAILABLE"
    message = _("优惠券已停用")
    status = 409


class CouponSoldOut(DomainError):
    code = "COUPON_SOLD_OUT"
    message = _("优惠券已领完")
    status = 409


class CouponLimitReached(DomainError):
    code = "COUPON_LIMIT_REACHED"
    message = _("已达到该券的领取上限")
    status = 409


class GroupNotFound(DomainError):
    code = "GROUP_NOT_FOUND"
    message = _("拼团不存在")
    status = 404


class GroupFull(DomainError):
    code = "GROUP_FULL"
    message = _("该团已满员，请开新团或参加其他团")
    status = 409


class GroupExpired(DomainError):
    code = "GROUP_EXPIRED"
    message = _("该团已结束，请开新团")
    status = 409


class GroupAlreadyJoined(DomainError):
    code = "GROUP_ALREADY_JOINED"
    message = _("您已在该团中")
    status = 409


class GroupInvalid(DomainError):
    code = "GROUP_INVALID"
    message = _("拼团只能购买一件活动商品")
    status = 400


# --- Targeted pushes (定向推送) ---


class PushInvalid(DomainError):
    code = "PUSH_INVALID"
    message = _("推送设置有误")
    status = 400


class PushEmptySegment(DomainError):
    code = "PUSH_EMPTY_SEGMENT"
    message = _("该客户分群当前没有客户，无法发送")
    status = 409


class PushNotFound(DomainError):
    code = "PUSH_NOT_FOUND"
    message = _("推送不存在")
    status = 404
