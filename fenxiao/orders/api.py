"""Buyer-facing order API: cart, checkout, orders, payment, after-sale."""

from django.db.models import Prefetch, prefetch_related_objects
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from fenxiao.core import traffic
from fenxiao.core.http import client_ip, json_text
from fenxiao.core.money import format_fen
from fenxiao.core.pagination import Pagination
from fenxiao.customers.auth import buyer_auth
from fenxiao.customers.services import wallet
from fenxiao.customers.services.addresses import get_address

from .errors import AfterSaleNotFound, OrderNotFound
from .models import AfterSale, AfterSaleLog, CartLine, Order, OrderLine, OrderSettings, OrderStatus
from .schemas import (
    AfterSaleDetailOut,
    AfterSaleIn,
    AfterSaleLogOut,
    AfterSaleOut,
    BuyAgainOut,
    CancelIn,
    CartLineChangeIn,
    CartLineIn,
    CartOut,
    CheckoutIn,
    OrderDetailOut,
    OrderOut,
    OrderStatusOut,
    PayIn,
    PayOut,
    PreviewIn,
    QuoteOut,
    ShipBackIn,
)
from .services import after_sales, cart, checkout, lifecycle, payments_port, promotions_port, shipments

router = Router(tags=["购物车与订单"], auth=buyer_auth)


def _picture_url(request, sku) -> str | None:
    """The SKU's 规格图, else its product's cover (product__images prefetched)."""
    picture = sku.picture
    return request.build_absolute_uri(picture.image.url) if picture else None


def _cart_out(request) -> dict:
    lines = list(
        CartLine.objects.filter(cart__buyer=request.user)
        .select_related("sku__product")
        .prefetch_related("sku__product__images")
    )
    out = []
    for line in lines:
        sku = line.sku
        out.append(
            {
                "id": line.pk,
                "sku_id": sku.pk,
                "product_id": sku.product_id,
                "product_name": sku.product.name,
                "spec_text": sku.spec_text,
                "image_url": _picture_url(request, sku),
                "unit_price": sku.price,
                "quantity": line.quantity,
                "subtotal": sku.price * line.quantity,
                "stock": sku.stock,
                "available": sku.is_active and sku.product.is_listed and sku.stock >= line.quantity,
            }
        )
    goods = sum(item["subtotal"] for item in out if item["available"])
    return {
        "lines": out,
        "total_quantity": sum(item["quantity"] for item in out),
        "goods_amount": goods,
        "goods_amount_display": format_fen(goods),
    }


@router.get("/cart", response=CartOut)
def get_cart(request):
    """The cart at catalog prices. Promotion prices, 满减 and "再买 ¥N 可减 ¥M" hints for
    the lines the buyer ticks come from POST /checkout/preview (with `coupon_id: null`
    until the buyer reaches checkout), which prices them exactly as the order will be."""
    return _cart_out(request)


@router.post("/cart/lines", response={201: CartOut})
def add_cart_line(request, payload: CartLineIn):
    cart.add_to_cart(request.user, payload.sku_id, payload.quantity)
    traffic.note_cart_add(request)
    return Status(201, _cart_out(request))


@router.patch("/cart/lines/{line_id}", response=CartOut)
def update_cart_line(request, line_id: int, payload: CartLineChangeIn):
    """Change a line's quantity, its spec (`sku_id`, a SKU of the same product), or both
    (the spec first; merged into a line of that spec, the quantity is the merged line's)."""
    cart.change_line(request.user, line_id, sku_id=payload.sku_id, quantity=payload.quantity)
    return _cart_out(request)


@router.delete("/cart/lines/{line_id}", response=CartOut)
def delete_cart_line(request, line_id: int):
    cart.remove_lines(request.user, [line_id])
    return _cart_out(request)


def _choice(payload) -> promotions_port.Choice:
    coupon = promotions_port.AUTO if payload.coupon_id == "auto" else payload.coupon_id
    return promotions_port.Choice(
        coupon=coupon, group_promotion=payload.group_promotion_id, join_group=payload.join_group_id
    )


def _discounts(discounts) -> list[dict]:
    return [{"kind": d.kind, "name": d.name, "amount": d.amount} for d in discounts]


def _group(target) -> dict | None:
    if target is None:
        return None
    return {
        "promotion_id": target.promotion.pk,
        "name": target.promotion.name,
        "group_id": target.group.pk if target.group is not None else None,
        "group_size": target.group.size if target.group is not None else target.promotion.group_size,
    }


@router.post("/checkout/preview", response=QuoteOut)
def preview(request, payload: PreviewIn):
    """Price the basket as checkout will: flash/group price → 满减 → coupon (the best one
    unless `coupon_id` says otherwise), with every discount, the buyer's coupons and hints."""
    pickup = payload.fulfilment == "pickup"
    address = get_address(request.user, payload.address_id) if payload.address_id and not pickup else None
    q = checkout.quote(
        [(line.sku_id, line.quantity) for line in payload.lines],
        buyer=request.user,
        choice=_choice(payload),
        with_images=True,
        address=address,
        fulfilment=payload.fulfilment,
        pickup_store_id=payload.pickup_store_id,
        location=(payload.lat, payload.lng) if payload.lat is not None and payload.lng is not None else None,
    )
    return {
        "lines": [
            {
                "sku_id": ln.sku.pk,
                "product_name": ln.sku.product.name,
                "spec_text": ln.sku.spec_text,
                "image_url": _picture_url(request, ln.sku),
                "original_price": ln.original_price,
                "unit_price": ln.unit_price,
                "quantity": ln.quantity,
                "subtotal": ln.subtotal,
                "discount_share": ln.discount_share,
                "paid_amount": ln.paid_amount,
                "discounts": _discounts(ln.discounts),
            }
            for ln in q.lines
        ],
        "goods_amount": q.goods_amount,
        "discount_amount": q.discount_amount,
        "shipping_fee": q.shipping_fee,
        "shipping_error": q.shipping_error.as_dict() if q.shipping_error else None,
        "total": q.total,
        "total_display": format_fen(q.total),
        "discounts": _discounts(q.discounts),
        "coupon_options": [
            {
                "id": o.id,
                "name": o.name,
                "discount": o.discount,
                "usable": o.usable,
                "reason": o.reason,
                "valid_until": o.valid_until,
            }
            for o in q.coupon_options
        ],
        "coupon_id": q.coupon_id,
        "hints": q.hints,
        "saved_amount": q.saved_amount,
        "saved_amount_display": format_fen(q.saved_amount),
        "group": _group(q.group),
        "wallet_balance": wallet.balance(request.user.pk),
        "fulfilment": q.fulfilment,
        "pickup_stores": [
            {
                "id": s.id,
                "name": s.name,
                "address_text": s.address_text,
                "hours": s.hours,
                "phone": s.phone,
                "distance_m": s.distance_m,
            }
            for s in q.pickup_stores
        ],
        "pickup_store_id": q.pickup_store.id if q.pickup_store else None,
        "pickup_error": q.pickup_error.as_dict() if q.is_pickup and q.pickup_error else None,
    }


@router.post("/checkout", response={201: OrderOut})
def place_order(request, payload: CheckoutIn):
    order = checkout.place_order(
        request.user,
        [(line.sku_id, line.quantity) for line in payload.lines],
        address_id=payload.address_id,
        note=payload.note,
        expected_total=payload.expected_total,
        from_cart=payload.from_cart,
        use_wallet=payload.use_wallet,
        choice=_choice(payload),
        fulfilment=payload.fulfilment,
        pickup_store_id=payload.pickup_store_id,
        client_token=payload.client_token,
    )
    # Read back with its lines: a group seat or store credit may have changed the row after
    # it was written.
    return Status(201, _order_qs(request.user).get(pk=order.pk))


def _order_qs(buyer):
    return Order.objects.filter(buyer=buyer).prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id"))
    )


def _get_order(request, number: str) -> Order:
    order = _order_qs(request.user).filter(number=number).first()
    if order is None:
        raise OrderNotFound()
    return order


@router.get("/orders", response=list[OrderOut])
@paginate(Pagination, page_size=10)
def list_orders(request, status: str | None = None):
    qs = _order_qs(request.user)
    if status in OrderStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


@router.get("/orders/{number}", response=OrderDetailOut)
def order_detail(request, number: str):
    order = _order_qs(request.user).prefetch_related("discounts").filter(number=number).first()
    if order is None:
        raise OrderNotFound()
    if order.status == OrderStatus.PENDING_PAYMENT:
        # Nothing is shipped before payment, and no order returns to awaiting payment: no
        # parcels to read. (An app polls this page while the payment is on its way.)
        order._prefetched_objects_cache["parcels"] = order.parcels.none()
    else:
        prefetch_related_objects([order], shipments.parcels_prefetch())
    return order


@router.get("/orders/{number}/status", response=OrderStatusOut)
def order_status(request, number: str):
    """The order's state alone, one row read: for an app to poll after the buyer has paid,
    until `paid` (the detail page reads lines, discounts and trail too)."""
    order = (
        Order.objects.filter(buyer=request.user, number=number)
        .only(
            "number",
            "status",
            "fulfilment",
            "awaiting_group",
            "paid_at",
            "total",
            "wallet_amount",
            "pay_deadline",
        )
        .first()
    )
    if order is None:
        raise OrderNotFound()
    return order


@router.post("/orders/{number}/pay", response=PayOut)
def pay(request, number: str, payload: PayIn):
    # The order row alone: paying looks at its status, amounts and deadline, not its lines.
    order = Order.objects.filter(buyer=request.user, number=number).first()
    if order is None:
        raise OrderNotFound()
    payment = payments_port.start_payment(
        order,
        payload.gateway,
        return_url=payload.return_url,
        payer_id=payload.openid,
        client_ip=client_ip(request) or "",
    )
    return {
        "out_trade_no": payment.out_trade_no,
        "amount": payment.amount,
        "gateway": payment.gateway,
        # A payment made inside an app (the mini-program's) has no page to send the buyer to.
        "pay_url": request.build_absolute_uri(payment.pay_url) if payment.pay_url else "",
        "pay_code": payment.pay_code,
        "pay_params": payments_port.client_params(payment),
    }


@router.post("/orders/{number}/cancel", response=OrderOut)
def cancel(request, number: str, payload: CancelIn):
    order = _get_order(request, number)
    lifecycle.cancel(order, request.user, reason=payload.reason)
    return _get_order(request, number)


@router.post("/orders/{number}/confirm-receipt", response=OrderOut)
def confirm_receipt(request, number: str):
    order = _get_order(request, number)
    lifecycle.complete(order, actor=request.user)
    return _get_order(request, number)


@router.post("/orders/{number}/buy-again", response=BuyAgainOut)
def buy_again(request, number: str):
    """再来一单: the order's goods into the cart again (same SKUs and quantities, today's
    prices); lines that can no longer be bought are listed in `skipped` with why."""
    result = cart.buy_again(request.user, _get_order(request, number))
    return {"added": result.added, "skipped": [{"name": n, "reason": r} for n, r in result.skipped]}


@router.post("/orders/{number}/after-sales", response={201: AfterSaleOut})
def request_after_sale(request, number: str, payload: AfterSaleIn):
    order = _get_order(request, number)
    after_sale = after_sales.request_after_sale(
        order,
        request.user,
        kind=payload.kind,
        reason=payload.reason,
        reason_code=payload.reason_code,
        description=payload.description,
        lines=[line.dict() for line in payload.lines],
    )
    return Status(201, AfterSale.objects.select_related("order").get(pk=after_sale.pk))


def _after_sale_qs(buyer):
    return AfterSale.objects.filter(order__buyer=buyer).select_related("order").prefetch_related("lines")


@router.get("/after-sales", response=list[AfterSaleOut])
@paginate(Pagination, page_size=10)
def list_after_sales(request):
    return _after_sale_qs(request.user).order_by("-id")


def _mine(request, number: str) -> AfterSale:
    after_sale = _after_sale_qs(request.user).filter(number=number).first()
    if after_sale is None:
        raise AfterSaleNotFound()
    return after_sale


def _detail(request, number: str) -> AfterSale:
    after_sale = (
        _after_sale_qs(request.user)
        .prefetch_related(
            "images", Prefetch("logs", queryset=AfterSaleLog.objects.prefetch_related("images"))
        )
        .filter(number=number)
        .first()
    )
    if after_sale is None:
        raise AfterSaleNotFound()
    after_sale.return_address = OrderSettings.current().return_address_text
    return after_sale


@router.get("/after-sales/{number}", response=AfterSaleDetailOut)
def after_sale_detail(request, number: str):
    """One after-sale with its photos, its negotiation history and the return address."""
    return _detail(request, number)


@router.post("/after-sales/{number}/withdraw", response=AfterSaleOut)
def withdraw_after_sale(request, number: str):
    after_sale = _mine(request, number)
    after_sales.withdraw(after_sale, request.user)
    return _after_sale_qs(request.user).get(pk=after_sale.pk)


@router.post("/after-sales/{number}/ship-back", response=AfterSaleDetailOut)
def ship_back(request, number: str, payload: ShipBackIn):
    """The buyer has sent the goods back (退货退款, after approval): carrier and tracking number."""
    after_sales.ship_back(
        _mine(request, number), request.user, carrier=payload.carrier, tracking_number=payload.tracking_number
    )
    return _detail(request, number)


@router.post("/after-sales/{number}/messages", response={201: AfterSaleLogOut})
def add_message(request, number: str, message: Form[str] = "", images: File[list[UploadedFile]] = None):
    """A message to the merchant: multipart (`message`, up to 6 `images`), or a JSON body
    `{"message": "…"}` for words alone, as a mini-program's plain request sends them."""
    if request.content_type == "application/json":
        message = json_text(request, "message")
    log = after_sales.add_message(_mine(request, number), request.user, message=message, images=images or [])
    return Status(201, AfterSaleLog.objects.prefetch_related("images").get(pk=log.pk))


@router.post("/after-sales/{number}/evidence", response={201: AfterSaleLogOut})
def upload_evidence(request, number: str, images: File[list[UploadedFile]]):
    """Photo evidence (JPG/PNG/WEBP, up to 5 MB each, 6 at a time)."""
    log = after_sales.add_message(_mine(request, number), request.user, message="补充凭证", images=images)
    return Status(201, AfterSaleLog.objects.prefetch_related("images").get(pk=log.pk))
