"""Staff order API for integrations (ERP, warehouse): ship, adjust, after-sale decisions.

Same services as the backend; authorised by Django permissions on a staff token.
"""

from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from fenxiao.customers.auth import buyer_auth, require_perm

from .errors import AfterSaleNotFound, OrderNotFound
from .models import AfterSale, Order
from .schemas import AfterSaleIn, AfterSaleLineIn, AfterSaleOut, OrderDetailOut
from .services import after_sales, lifecycle, merchant_notes, shipments

router = Router(tags=["商家：订单"], auth=buyer_auth)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ShipLineIn(Strict):
    order_line_id: int = Field(ge=1, le=2**63 - 1)
    quantity: int = Field(ge=1, le=999)


class ShipIn(Strict):
    carrier: str = Field(max_length=40, description="物流公司代码或名称，如 shunfeng / 顺丰")
    tracking_number: str = Field(max_length=40)
    lines: list[ShipLineIn] | None = Field(
        default=None, max_length=50, description="拆单发货：本包裹的商品和数量；不填则发出全部待发货商品"
    )


class AdjustIn(Strict):
    discount_amount: int = Field(description="正数为优惠（分），负数为加价")
    shipping_fee: int = Field(ge=0)
    reason: str = Field(default="", max_length=100)


class StaffRefundIn(AfterSaleIn):
    restock: bool | None = None
    shipping_amount: int = Field(default=0, ge=0, description="退运费（分）")
    lines: list[AfterSaleLineIn] = Field(default_factory=list, max_length=50)


class RejectIn(Strict):
    reason: str = Field(min_length=1, max_length=200)


class ApproveIn(Strict):
    restock: bool | None = Field(
        default=None,
        description="仅退款：尚未发货的商品是否退回库存；不填按申请时的设置（已发出的商品不退回）",
    )


class ReceiveIn(Strict):
    restock: bool = Field(default=True, description="退回的商品是否重新入库")


class MessageIn(Strict):
    message: str = Field(min_length=1, max_length=500)


class MerchantNoteIn(Strict):
    note: str = Field(max_length=200, description="商家备注（买家看不到）；空字符串清空备注")


class StaffOrderDetailOut(OrderDetailOut):
    """The order as staff see it: with the 商家备注 and every event, staff-only ones too."""

    merchant_note: str = Field(description="商家备注（买家看不到）")

    @staticmethod
    def resolve_events(obj):
        return list(obj.events.all())


def _order(number: str) -> Order:
    order = Order.objects.prefetch_related(shipments.parcels_prefetch()).filter(number=number).first()
    if order is None:
        raise OrderNotFound()
    return order


def _after_sale(number: str) -> AfterSale:
    after_sale = AfterSale.objects.select_related("order").filter(number=number).first()
    if after_sale is None:
        raise AfterSaleNotFound()
    return after_sale


@router.get("/orders/{number}", response=StaffOrderDetailOut)
def order_detail(request, number: str):
    require_perm(request, "orders.view_order")
    return _order(number)


@router.post("/orders/{number}/ship", response=StaffOrderDetailOut)
def ship(request, number: str, payload: ShipIn):
    require_perm(request, "orders.change_order")
    lines = None
    if payload.lines is not None:
        lines = {}
        for line in payload.lines:
            lines[line.order_line_id] = lines.get(line.order_line_id, 0) + line.quantity
    parcel = shipments.ship_parcel(
        _order(number),
        request.user,
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
        lines=lines,
    )
    return _order(parcel.order.number)


@router.post("/orders/{number}/adjust", response=StaffOrderDetailOut)
def adjust(request, number: str, payload: AdjustIn):
    require_perm(request, "orders.change_order")
    lifecycle.adjust_price(
        _order(number),
        request.user,
        discount_amount=payload.discount_amount,
        shipping_fee=payload.shipping_fee,
        reason=payload.reason,
    )
    return _order(number)


@router.post("/orders/{number}/merchant-note", response=StaffOrderDetailOut)
def merchant_note(request, number: str, payload: MerchantNoteIn):
    require_perm(request, "orders.change_order")
    merchant_notes.set_merchant_note(_order(number), request.user, payload.note)
    return _order(number)


@router.post("/orders/{number}/refunds", response={201: AfterSaleOut})
def staff_refund(request, number: str, payload: StaffRefundIn):
    require_perm(request, "orders.change_aftersale")
    after_sale = after_sales.request_after_sale(
        _order(number),
        request.user,
        kind=payload.kind,
        reason=payload.reason,
        lines=[line.dict() for line in payload.lines],
        restock=payload.restock,
        shipping_amount=payload.shipping_amount,
    )
    return Status(201, _after_sale(after_sale.number))


@router.post("/after-sales/{number}/approve", response=AfterSaleOut)
def approve(request, number: str, payload: ApproveIn | None = None):
    require_perm(request, "orders.change_aftersale")
    restock = payload.restock if payload is not None else None
    after_sales.approve(_after_sale(number), request.user, restock=restock)
    return _after_sale(number)


@router.post("/after-sales/{number}/reject", response=AfterSaleOut)
def reject(request, number: str, payload: RejectIn):
    require_perm(request, "orders.change_aftersale")
    after_sales.reject(_after_sale(number), request.user, reason=payload.reason)
    return _after_sale(number)


@router.post("/after-sales/{number}/receive", response=AfterSaleOut)
def receive(request, number: str, payload: ReceiveIn):
    """The returned goods arrived: confirm receipt (optionally restock) and refund."""
    require_perm(request, "orders.change_aftersale")
    after_sales.receive(_after_sale(number), request.user, restock=payload.restock)
    return _after_sale(number)


@router.post("/after-sales/{number}/refuse-receipt", response=AfterSaleOut)
def refuse_receipt(request, number: str, payload: RejectIn):
    require_perm(request, "orders.change_aftersale")
    after_sales.refuse_receipt(_after_sale(number), request.user, reason=payload.reason)
    return _after_sale(number)


@router.post("/after-sales/{number}/messages", response={201: dict})
def add_message(request, number: str, payload: MessageIn):
    require_perm(request, "orders.change_aftersale")
    log = after_sales.add_message(_after_sale(number), request.user, message=payload.message)
    return Status(201, {"message": log.message, "created_at": log.created_at})
