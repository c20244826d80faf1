"""Staff order API for integrations (ERP, warehouse): ship, adjust, after-sale decisions.

Same services as the backend; authorised by Django permissions on a staff token.
"""

from datetime import datetime

from django.db.models import Prefetch
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import ConfigDict, Field, field_validator

from fenxiao.customers.auth import buyer_auth, require_perm
from fenxiao.distribution.paging import KeysetPagination

from .errors import AfterSaleNotFound, OrderNotFound
from .models import AfterSale, Fulfilment, Order, OrderLine, OrderStatus
from .schemas import AfterSaleIn, AfterSaleLineIn, AfterSaleOut, OrderDetailOut, OrderLineOut, OrderOut
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


class StaffOrderQuery(Strict):
    status: OrderStatus | None = Field(
        None,
        description="订单状态：pending_payment 待付款 / pending_shipment 待发货 / shipped 已发货 / "
        "completed 已完成 / cancelled 已取消",
    )
    fulfilment: Fulfilment | None = Field(None, description="delivery 快递配送 / pickup 到店自提")
    awaiting_group: bool | None = Field(None, description="拼团订单是否尚未成团（成团前不发货）")
    paid_from: datetime | None = Field(None, description="付款时间不早于（含），ISO 8601；不带时区按商城时区")
    paid_to: datetime | None = Field(None, description="付款时间早于（不含），ISO 8601；不带时区按商城时区")

    @field_validator("paid_from", "paid_to")
    @classmethod
    def _shop_time(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        # Years no order has: far ones would overflow the database's conversion to UTC.
        if not 2000 <= value.year <= 2999:
            raise ValueError("时间应在 2000–2999 年之间")
        return timezone.make_aware(value) if timezone.is_naive(value) else value


class StaffOrderLineOut(OrderLineOut):
    sku_code: str = Field(description="下单时的 SKU 编码（商家编码），ERP 据此对应货品")


class StaffOrderOut(OrderOut):
    """An order in the staff list: what a warehouse needs to pick, pack and ship it."""

    merchant_note: str = Field(description="商家备注（买家看不到）")
    lines: list[StaffOrderLineOut]


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


@router.get("/orders", response=list[StaffOrderOut])
@paginate(KeysetPagination, page_size=20)
def list_orders(request, query: StaffOrderQuery = Query(...)):
    """Orders newest first, a page at a time (pass the reply's `next` as `before`), for an
    ERP or warehouse to pull what to ship: e.g. `status=pending_shipment&fulfilment=delivery
    &awaiting_group=false`, or what was paid in a period with `paid_from` / `paid_to`. Each
    page costs the same however many orders the shop has."""
    require_perm(request, "orders.view_order")
    orders = Order.objects.prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    filters = {
        "status": query.status,
        "fulfilment": query.fulfilment,
        "awaiting_group": query.awaiting_group,
        "paid_at__gte": query.paid_from,
        "paid_at__lt": query.paid_to,
    }
    return orders.filter(**{key: value for key, value in filters.items() if value is not None})


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
