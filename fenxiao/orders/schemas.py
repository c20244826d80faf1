from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

from fenxiao.core.http import is_site_path
from fenxiao.core.money import format_fen

# Ids beyond a 64-bit integer cannot exist; refused here, SQLite would fail on them (a 500).
MAX_ID = 2**63 - 1


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class CartLineIn(Strict):
    sku_id: int = Field(ge=1, le=MAX_ID)
    quantity: int = Field(ge=1, le=999)


class CartQuantityIn(Strict):
    quantity: int = Field(ge=1, le=999)


class CartLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    spec_text: str
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


class CheckoutIn(Strict):
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=50)
    address_id: int = Field(ge=1, le=MAX_ID)
    note: str = Field(default="", max_length=200)
    expected_total: int | None = Field(default=None, ge=0)
    from_cart: bool = False
    use_wallet: bool = Field(default=False, description="用商城余额支付（全部或部分）")


class PreviewIn(Strict):
    lines: list[CheckoutLineIn] = Field(min_length=1, max_length=50)


class QuoteLineOut(Schema):
    sku_id: int
    product_name: str
    spec_text: str
    unit_price: int
    quantity: int
    subtotal: int
    discount_share: int
    paid_amount: int


class QuoteOut(Schema):
    lines: list[QuoteLineOut]
    goods_amount: int
    discount_amount: int
    shipping_fee: int
    total: int
    total_display: str
    wallet_balance: int = Field(description="买家的商城余额（分），下单时 use_wallet 可用于支付")


class OrderLineOut(Schema):
    id: int
    sku_id: int
    product_id: int
    product_name: str
    spec_text: str
    image_url: str
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
    message: str
    created_at: datetime


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
    carrier: str
    tracking_number: str
    created_at: datetime
    pay_deadline: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    lines: list[OrderLineOut]

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_total_display(obj):
        return format_fen(obj.total)

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())


class OrderDetailOut(OrderOut):
    events: list[OrderEventOut]

    @staticmethod
    def resolve_events(obj):
        return list(obj.events.all())


class PayIn(Strict):
    gateway: str = Field(default="sandbox", max_length=20)
    # Where the cashier sends the buyer after paying: a path on this site only ("/orders/…"),
    # never another host, so a payment link cannot be turned into a phishing redirect.
    return_url: str = Field(default="", max_length=300)

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


class CancelIn(Strict):
    reason: str = Field(default="", max_length=200)


class AfterSaleLineIn(Strict):
    line_id: int
    quantity: int | None = Field(default=None, ge=0, le=999)
    amount: int | None = Field(default=None, ge=1)


class AfterSaleIn(Strict):
    kind: str = Field(pattern="^(refund_only|return_refund)$")
    reason: str = Field(min_length=1, max_length=200)
    lines: list[AfterSaleLineIn] = Field(min_length=1, max_length=50)


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
    reason: str
    reject_reason: str
    restock: bool
    requested_by: str
    created_at: datetime
    decided_at: datetime | None
    refunded_at: datetime | None
    lines: list[AfterSaleLineOut]

    @staticmethod
    def resolve_order_number(obj):
        return obj.order.number

    @staticmethod
    def resolve_status_display(obj):
        return obj.get_status_display()

    @staticmethod
    def resolve_lines(obj):
        return list(obj.lines.all())
