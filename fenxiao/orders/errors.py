from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class OrderNotFound(DomainError):
    code = "ORDER_NOT_FOUND"
    message = _("订单不存在")
    status = 404


class CartEmpty(DomainError):
    code = "CART_EMPTY"
    message = _("请选择要购买的商品")
    status = 400


class TooManyLines(DomainError):
    code = "TOO_MANY_LINES"
    message = _("一次最多购买50种商品")
    status = 400


class QuantityTooLarge(DomainError):
    code = "QUANTITY_TOO_LARGE"
    message = _("单个商品一次最多购买999件")
    status = 400


class PriceChanged(DomainError):
    code = "PRICE_CHANGED"
    message = _("商品价格已变化，请确认后重新提交")
    status = 409


class PriceAdjustInvalid(DomainError):
    code = "PRICE_ADJUST_INVALID"
    message = _("改价金额有误")
    status = 400


class MerchantNoteInvalid(DomainError):
    code = "MERCHANT_NOTE_INVALID"
    message = _("商家备注有误")
    status = 400


class ShipmentInvalid(DomainError):
    code = "SHIPMENT_INVALID"
    message = _("请填写物流公司和运单号")
    status = 400


class AfterSaleNotFound(DomainError):
    code = "AFTER_SALE_NOT_FOUND"
    message = _("售后单不存在")
    status = 404


class AfterSaleInvalid(DomainError):
    code = "AFTER_SALE_INVALID"
    message = _("售后申请有误")
    status = 400


class RefundExceedsPaid(DomainError):
    code = "REFUND_EXCEEDS_PAID"
    message = _("退款金额不能超过实付金额")
    status = 400


class AfterSaleOpen(DomainError):
    code = "AFTER_SALE_ALREADY_OPEN"
    message = _("该商品已有处理中的售后申请")
    status = 409


class AfterSaleFinished(DomainError):
    code = "AFTER_SALE_FINISHED"
    message = _("该售后已结束，不能再留言或补充凭证")
    status = 409


class AfterSaleImageInvalid(DomainError):
    code = "AFTER_SALE_IMAGE_INVALID"
    message = _("图片格式有误，请上传 JPG、PNG 或 WEBP 图片")
    status = 400


class ReturnShipmentInvalid(DomainError):
    code = "RETURN_SHIPMENT_INVALID"
    message = _("请选择物流公司并填写正确的运单号")
    status = 400


class OrderTooLarge(DomainError):
    code = "ORDER_TOO_LARGE"
    message = _("单笔订单金额不能超过 ¥10,000,000.00，请分开下单")
    status = 400


class BatchShipFileInvalid(DomainError):
    code = "BATCH_SHIP_FILE_INVALID"
    message = _("发货文件有误")
    status = 400


class TrackingSignatureInvalid(DomainError):
    code = "TRACKING_SIGNATURE_INVALID"
    message = _("物流推送签名校验失败")
    status = 400


class TrackingPushMalformed(DomainError):
    code = "TRACKING_PUSH_MALFORMED"
    message = _("物流推送内容有误")
    status = 400


class TrackingSubscriptionNotFound(DomainError):
    code = "TRACKING_SUBSCRIPTION_NOT_FOUND"
    message = _("物流订阅不存在")
    status = 404


class PickupUnavailable(DomainError):
    code = "PICKUP_UNAVAILABLE"
    message = _("该门店暂不能自提这些商品，请选择其他门店或快递配送")
    status = 409


class PickupCodeInvalid(DomainError):
    code = "PICKUP_CODE_INVALID"
    message = _("提货码无效，请核对后重新输入")
    status = 400


class PickupCodeUsed(DomainError):
    code = "PICKUP_CODE_USED"
    message = _("该提货码已核销，不能重复使用")
    status = 409


class ReviewLineNotFound(DomainError):
    code = "REVIEW_LINE_NOT_FOUND"
    message = _("没有找到要评价的商品")
    status = 404


class ReviewNotFound(DomainError):
    code = "REVIEW_NOT_FOUND"
    message = _("评价不存在")
    status = 404


class ReviewInvalid(DomainError):
    code = "REVIEW_INVALID"
    message = _("评价内容有误")
    status = 400


class ReviewNotAllowed(DomainError):
    code = "REVIEW_NOT_ALLOWED"
    message = _("订单完成后才能评价")
    status = 409


class ReviewExists(DomainError):
    code = "REVIEW_EXISTS"
    message = _("该商品已评价")
    status = 409
