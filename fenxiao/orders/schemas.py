from datetime import datetime
from typing import Annotated, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator, model_validator

from fenxiao.core.http import is_site_path
from fenxiao.core.money import format_fen
from fenxiao.shipping.carriers import carrier_name

from .services.events import buyer_events

# Ids beyond a 64-bit integer cannot exist; refused here, SQLite would fail on them (a 500).
MAX_ID = 2**63 - 1


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class CartLineIn(Strict):
    sku_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=999)


class CartLineChangeIn(Strict):
    """A cart line's quantity, its spec (another SKU of the same product: 选规格), or both."""

    quantity: int | None = Field(default=None, ge=1, le=999)
    sku_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        strict=True,  # JSON true or "5" is not an id
        description="换成同一商品的另一个规格；购物车里已有这个规格时两行合并、数量相加",
    )

    @model_validator(mode="after")
    def _something_to_change(self):
        if self.quantity is None and self.sku_id is None:
            raise ValueError("请提供 quantity 或 sku_id")
        return self


class CartLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    spec_text: str
    image_url: str | None = Field(description="这个规格的规格图，没有时为商品封面")
    unit_price: int
    quantity: int
    subtotal: int
    stock: int
    available: bool


class CartOut(Schema):
    lines: list[CartLineOut]
    total_quantity: int
    goods_amount: int
    goods_amount_display: str


class CheckoutLineIn(Strict):
    sku_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=999)


# Strict: JSON `true` or "5" is not an id (lax parsing would read them as 1 and 5).
Id = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


class PromotionChoiceIn(Strict):
    """The coupon and group buy a checkout asks for (the same in preview and place)."""

    coupon_id: Id | Literal["auto"] | None = Field(
        default="auto",
        description=(
            '优惠券：不传或传 "auto" 时自动选用优惠最多的券；传买家优惠券 ID（GET /me/coupons 的 id）'
            "使用该券；传 null 表示不用券"
        ),
    )
    group_promotion_id: Id | None = Field(
        default=None, description="开新团：拼团活动 ID（只能买一件活动商品）"
    )
    join_group_id: Id | None = Field(default=None, description="参加已有的团：拼团 ID")

    @model_validator(mode="after")
    def _one_group_at_most(self):
        if self.group_promotion_id is not None and self.join_group_id is not None:
            raise ValueError("开团与参团只能选一个")
        return self


class FulfilmentIn(Schema):
    fulfilment: Literal["delivery", "pickup"] = Field(
        default="delivery", description="delivery 快递配送 / pickup 到店自提（无需地址、无运费）"
    )
    pickup_store_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="自提门店（pickup 时必填）"
    )


class CheckoutIn(PromotionChoiceIn, FulfilmentIn):
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=50)
    address_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="收货地址（快递配送时必填）")
    note: str = Field(default="", max_length=200)
    expected_total: int | None = Field(default=None, ge=0)
    from_cart: bool = False
    use_wallet: bool = Field(default=False, description="用商城余额支付（全部或部分）")
    client_token: str = Field(
        default="",
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]*$",
        description="客户端为这次下单生成的唯一标识（如 UUID）：超时重发或重复点击时带同一标识，"
        "返回第一次下的订单，不会重复下单",
    )


class PreviewIn(PromotionChoiceIn, FulfilmentIn):
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=50)
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="买家位置（浏览器定位），自提门店由近到远"
    )
    lng: float | None = Field(default=None, ge=-180, le=180)
    address_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="收货地址：运费按其省份计算；不传则按默认运费"
    )


class PickupStoreOut(Schema):
    id: int
    name: str
    address_text: str
    hours: str
    phone: str
    distance_m: int | None = Field(description="与买家的距离（米），未提供位置时为空")


class ShippingErrorOut(Schema):
    code: str = Field(description="SHIPPING_REGION_UNDELIVERABLE")
    message: str


class DiscountOut(Schema):
    kind: str = Field(
        description="flash 限时折扣 / group 拼团价 / spend 满减 / coupon 优惠券 / free_shipping 包邮"
    )
    name: str
    amount: int


class CouponOptionOut(Schema):
    id: int = Field(description="买家优惠券 ID")
    name: str
    discount: int = Field(description="用在这一单能减多少（分）")
    usable: bool
    reason: str = Field(description="不可用的原因（可用时为空）")
    valid_until: datetime


class GroupChoiceOut(Schema):
    promotion_id: int
    name: str
    group_id: int | None = Field(description="参加的团；开新团时为空")
    group_size: int


class QuoteLineOut(Schema):
    sku_id: int
    product_name: str
    spec_text: str
    image_url: str | None = Field(description="这个规格的规格图，没有时为商品封面")
    original_price: int = Field(description="商品原价（分）")
    unit_price: int = Field(description="成交单价（分）：限时折扣或拼团价后")
    quantity: int
    subtotal: int
    discount_share: int = Field(description="分摊到本行的满减和优惠券（分）")
    paid_amount: int
    discounts: list[DiscountOut]


class QuoteOut(Schema):
    lines: list[QuoteLineOut]
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    shipping_error: ShippingErrorOut | None = Field(
        default=None, description="收货地区不在某商品的配送范围内（下单会被拒绝）"
    )
    total: int
    total_display: str
    discounts: list[DiscountOut] = Field(description="整单优惠：满减、优惠券、包邮，各一次")
    coupon_options: list[CouponOptionOut] = Field(description="买家的优惠券，可用的在前、优惠多的在前")
    coupon_id: int | None = Field(description="这一单用的券（自动选择或买家所选）")
    hints: list[str] = Field(description="凑单提示，如“满200减15：再买 ¥50.00 可减 ¥15.00”")
    saved_amount: int = Field(description="比原价共省（分，含包邮）")
    saved_amount_display: str
    group: GroupChoiceOut | None
    wallet_balance: int = Field(description="买家的商城余额（分），下单时 use_wallet 可用于支付")
    fulfilment: str = Field(description="delivery 快递配送 / pickup 到店自提")
    pickup_stores: list[PickupStoreOut] = Field(description="自提：有货、营业且支持自提的门店，由近到远")
    pickup_store_id: int | None = Field(description="自提：所选门店（仍可自提时）")
    pickup_error: ShippingErrorOut | None = Field(default=None, description="自提：未选门店或门店无货")


class OrderLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    spec_text: str
    image_url: str
    original_price: int
    unit_price: int
    quantity: int
    subtotal: int
    discount_share: int
    paid_amount: int
    refunded_amount: int
    refunded_quantity: int


class OrderEventOut(Schema):
    kind: str
    actor_kind: str
    message: str = Field(description="订单日志内容，按请求的语言（Accept-Language）显示")
    created_at: datetime

    @staticmethod
    def resolve_message(obj):
        return obj.text


class OrderOut(Schema):
    number: str
    status: str
    status_display: str
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    total: int
    total_display: str
    paid_amount: int
    refunded_amount: int
    wallet_amount: int
    amount_due: int
    recipient: str
    recipient_phone: str
    address_text: str
    note: str
    carrier: str = Field(description="物流公司代码（最近一个包裹）")
    carrier_name: str
    tracking_number: str
    created_at: datetime
    pay_deadline: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str = Field(description="取消原因，系统写入的原因按请求的语言（Accept-Language）显示")
    awaiting_group: bool = Field(description="拼团订单：成团前不发货")
    fulfilment: str = Field(description="delivery 快递配送 / pickup 到店自提")
    pickup_store_id: int | None
    pickup_code: str = Field(description="提货码：付款后可见，到店出示核销")
    picked_up_at: datetime | None
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_status_display(obj):
        return obj.status_label

    @staticmethod
    def resolve_cancel_reason(obj):
        return obj.cancel_reason_text

    @staticmethod
    def resolve_pickup_code(obj):
        # Shown once paid: an unpaid order's code opens nothing at the store anyway.
        return obj.pickup_code if obj.paid_at else ""

    @staticmethod
    def resolve_carrier_name(obj):
        return carrier_name(obj.carrier) if obj.carrier else ""

    @staticmethod
    def resolve_total_display(obj):
        return format_fen(obj.total)

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class OrderStatusOut(Schema):
    """What a payment-result screen polls while the gateway's notification is on its way."""

    number: str
    status: str
    status_display: str
    paid: bool = Field(description="已付款（付款通知已到达）")
    amount_due: int
    pay_deadline: datetime

    @staticmethod
    def resolve_status_display(obj):
        return obj.status_label

    @staticmethod
    def resolve_paid(obj):
        return obj.paid_at is not None


class OrderDiscountOut(Schema):
    line_id: int | None = Field(description="所属订单行；包邮为空")
    kind: str
    kind_display: str
    name: str
    amount: int

    @staticmethod
    def resolve_kind_display(obj):
        return obj.get_kind_display()


class ParcelLineOut(Schema):
    order_line_id: int
    product_name: str
    quantity: int

    @staticmethod
    def resolve_product_name(obj):
        return obj.order_line.product_name


class TrackingEventOut(Schema):
    occurred_at: datetime
    state: str
    state_display: str
    context: str
    location: str

    @staticmethod
    def resolve_state_display(obj):
        return obj.get_state_display()


class ParcelOut(Schema):
    id: int
    carrier: str = Field(description="物流公司代码（快递100 编码）")
    carrier_name: str
    tracking_number: str
    shipped_at: datetime
    tracking_state: str
    tracking_state_display: str
    signed_at: datetime | None
    lines: list[ParcelLineOut]
    trail: list[TrackingEventOut] = Field(description="物流轨迹，最新在前")

    @staticmethod
    def resolve_tracking_state_display(obj):
        return obj.get_tracking_state_display()

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())

    @staticmethod
    def resolve_trail(obj):
        return list(obj.tracking_events.all())


class OrderDetailOut(OrderOut):
    parcels: list[ParcelOut] = Field(description="包裹（可拆单发货），每个包裹的商品和物流轨迹")
    events: list[OrderEventOut]
    discounts: list[OrderDiscountOut] = Field(
        description="每行的每一项优惠（限时/拼团价、满减、优惠券）及包邮"
    )

    @staticmethod
    def resolve_parcels(obj):
        return list(obj.parcels.all())

    @staticmethod
    def resolve_events(obj):
        return buyer_events(obj)

    @staticmethod
    def resolve_discounts(obj):
        return list(obj.discounts.all())


class PayIn(Strict):
    gateway: str = Field(default="sandbox", max_length=32)
    # Where the cashier sends the buyer after paying: a path on this site only ("/orders/…"),
    # never another host, so a payment link cannot be turned into a phishing redirect.
    return_url: str = Field(default="", max_length=300)
    # The buyer's openid under the 公众号 bound to WeChat Pay, for `wechatpay_jsapi` (an H5
    # app in WeChat's browser learns it through 网页授权). Ignored by other gateways, and by
    # `wechatpay_miniprogram`, which pays with the openid bound at the mini-program sign-in.
    openid: str = Field(default="", max_length=64)

    @field_validator("return_url")
    @classmethod
    def _site_path_only(cls, value: str) -> str:
        if value and not is_site_path(value):
            raise ValueError("return_url 只能是本站地址，例如 /orders/<订单号>/result/")
        return value


class PayOut(Schema):
    out_trade_no: str
    amount: int
    gateway: str
    pay_url: str
    # WeChat Pay Native: the URL to show as a QR code; H5: WeChat's h5_url, for reference
    # only: open pay_url, which sends WeChat the Referer and return address it insists on;
    # JSAPI: the prepay id (pay_url shows each); empty for gateways with a cashier page of
    # their own.
    pay_code: str = ""
    pay_params: dict[str, str] | None = Field(
        default=None,
        description=(
            "wechatpay_miniprogram：直接传给 wx.requestPayment 的参数（timeStamp、nonceStr、"
            "package、signType、paySign）；其他支付方式为 null"
        ),
    )


class CancelIn(Strict):
    reason: str = Field(default="", max_length=200)


class AfterSaleLineIn(Strict):
    line_id: int
    quantity: int | None = Field(default=None, ge=0, le=999)
    amount: int | None = Field(default=None, ge=1)


class AfterSaleIn(Strict):
    kind: str = Field(pattern="^(refund_only|return_refund)$")
    reason_code: str = Field(
        default="",
        max_length=20,
        description=(
            "售后原因：not_wanted 不想要了、wrong_order 拍错了、not_received 未收到货、"
            "quality 商品质量问题、not_as_described 与描述不符、missing 少件/漏发、"
            "wrong_item 发错货、damaged 物流破损、agreed 协商一致、other 其他"
        ),
    )
    reason: str = Field(default="", max_length=200, description="不选原因类型时填写的原因文字")
    description: str = Field(default="", max_length=500, description="问题描述")
    lines: list[AfterSaleLineIn] = Field(min_length=1, max_length=50)


class ShipBackIn(Strict):
    carrier: str = Field(min_length=1, max_length=40, description="物流公司代码（如 shunfeng）或名称")
    tracking_number: str = Field(min_length=1, max_length=40)


class AfterSaleLineOut(Schema):
    order_line_id: int
    quantity: int
    amount: int


class AfterSaleOut(Schema):
    number: str
    order_number: str
    kind: str
    status: str
    status_display: str
    amount: int
    shipping_amount: int
    reason: str = Field(description="售后原因，列表中的原因按请求的语言（Accept-Language）显示")
    reason_code: str
    description: str
    reject_reason: str
    restock: bool
    requested_by: str
    created_at: datetime
    decided_at: datetime | None
    deadline: datetime | None = Field(description="当前步骤的处理期限（商家处理、买家寄回或商家收货）")
    return_carrier: str
    return_carrier_name: str
    return_tracking_number: str
    return_shipped_at: datetime | None
    received_at: datetime | None
    refunded_at: datetime | None
    closed_at: datetime | None
    lines: list[AfterSaleLineOut]

    @staticmethod
    def resolve_order_number(obj):
        return obj.order.number

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_reason(obj):
        return obj.reason_text

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class AfterSaleLogOut(Schema):
    actor_kind: str
    kind: str
    message: str = Field(description="协商记录内容，按请求的语言（Accept-Language）显示")
    images: list[str]
    created_at: datetime

    @staticmethod
    def resolve_message(obj):
        return obj.text

    @staticmethod
    def resolve_images(obj):
        return [item.url for item in obj.images.all()]


class AfterSaleDetailOut(AfterSaleOut):
    return_address: str = Field(description="退货地址（收件人 电话 地址）")
    images: list[str]
    logs: list[AfterSaleLogOut]

    @staticmethod
    def resolve_images(obj):
        return [item.url for item in obj.images.all()]

    @staticmethod
    def resolve_logs(obj):
        return list(obj.logs.all())


class SkippedLineOut(Schema):
    name: str = Field(description="商品名称和规格")
    reason: str = Field(description="未能加入购物车的原因")


class BuyAgainOut(Schema):
    added: int = Field(description="加入购物车的件数")
    skipped: list[SkippedLineOut]
