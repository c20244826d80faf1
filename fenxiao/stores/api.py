"""Stores in the buyer API, for a mini-program or app: join a store by its QR code (the
same decision as opening `/s/<store>/<staff>/` in the H5), the buyer's own store (我的门店, as
the H5 page /me/store/ shows it), and, for store staff, check and verify a pickup code
(提货核销) as the H5 counter page does."""

from datetime import datetime

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from fenxiao.customers.auth import buyer_auth
from fenxiao.customers.phones import mask_phone

from .services import membership, my_store, pickup

router = Router(tags=["门店"], auth=buyer_auth)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class JoinIn(Strict):
    store_code: str = Field(min_length=1, max_length=12, description="门店码（门店二维码中的 /s/<门店码>/）")
    staff_code: str | None = Field(None, max_length=12, description="导购码（导购二维码中的第二段）")


class StoreOut(Schema):
    id: int
    name: str
    address: str
    hours: str
    phone: str


class JoinOut(Schema):
    store: StoreOut
    joined: bool = Field(description="本次扫码成为该店会员")
    member_store_id: int | None = Field(description="扫码后所属门店（先到先得模式下可能仍是原门店）")
    binding: str | None = Field(
        description="绑定结果：bound / rebound / renewed / kept / refused；不绑定时为空"
    )
    became_distributor: bool = Field(description="本次扫码成为分销商（门店设置：会员即分销商）")


class MyStoreDetailOut(StoreOut):
    province: str
    city: str
    district: str
    address_detail: str
    is_open: bool = Field(description="营业中；停业门店的扫码与自提都不可用")
    pickup_enabled: bool = Field(description="门店开通了到店自提")
    pickup_offered: bool = Field(description="现在可选该店到店自提：营业中且开通自提")


class MyGuideOut(Schema):
    name: str = Field(description="导购昵称（不含手机号）；导购未设昵称时为空字符串")


class MyStoreOut(Schema):
    member: bool = Field(description="买家是否为某门店会员；否时其余字段为空")
    store: MyStoreDetailOut | None = Field(description="买家当前所属门店")
    joined_at: datetime | None = Field(description="成为该店会员的时间")
    source: str | None = Field(description="入会方式：store_qr / staff_qr / pickup / pos")
    guide: MyGuideOut | None = Field(description="照顾买家的在职导购；没有或已离职时为空")


class PickupCodeIn(Strict):
    code: str = Field(min_length=1, max_length=20, description="买家出示的 8 位提货码")


class PickupLineOut(Schema):
    product_name: str
    spec_text: str
    quantity: int = Field(description="购买数量")
    refunded_quantity: int = Field(description="已退数量（提货前退款的件数，留在门店）")
    hand_over: int = Field(description="应交付数量：购买数量减已退数量")


class PickupOut(Schema):
    number: str
    status: str
    recipient: str
    recipient_phone: str = Field(description="提货人手机，隐去中间四位（138****1234），与门店核销页一致")
    paid_amount: int
    picked_up_at: datetime | None
    lines: list[PickupLineOut]


def _store(store) -> dict:
    address = f"{store.province}{store.city}{store.district}{store.address_detail}"
    return {
        "id": store.pk,
        "name": store.name,
        "address": address,
        "hours": store.hours,
        "phone": store.phone,
    }


@router.post("/stores/join", response=JoinOut)
def join_store(request, payload: JoinIn):
    """扫码入会: the buyer scanned a store's (or a 导购's) QR code in the app."""
    store, staff = membership.resolve_codes(payload.store_code, payload.staff_code)
    result = membership.scan(request.user, store, staff, target="/")
    return {
        "store": _store(store),
        "joined": result.joined,
        "member_store_id": result.member.store_id if result.member else None,
        "binding": result.touch.decision if result.touch else None,
        "became_distributor": result.became_distributor is not None,
    }


@router.get("/stores/mine", response=MyStoreOut, summary="我的门店")
def mine(request):
    """我的门店: the store the buyer counts for (scanned its QR, or registered by its till),
    with address, hours, phone, whether it is open and offers 到店自提, and the 导购 who looks
    after them by name only. A buyer of no store gets `member: false` and nulls, not an error.
    One query."""
    found = my_store.for_buyer(request.user)
    if found is None:
        return {"member": False, "store": None, "joined_at": None, "source": None, "guide": None}
    store = found.store
    return {
        "member": True,
        "store": {
            **_store(store),
            "province": store.province,
            "city": store.city,
            "district": store.district,
            "address_detail": store.address_detail,
            "is_open": store.is_open,
            "pickup_enabled": store.pickup_enabled,
            "pickup_offered": found.pickup_offered,
        },
        "joined_at": found.joined_at,
        "source": found.source,
        "guide": {"name": found.guide_name} if found.has_guide else None,
    }


def _pickup(order) -> dict:
    return {
        "number": order.number,
        "status": order.status,
        "recipient": order.recipient,
        # Masked as on the H5 counter page: the pickup code is the proof, and a clerk's
        # phone is no place for a buyer's whole number.
        "recipient_phone": mask_phone(order.recipient_phone) if order.recipient_phone else "",
        "paid_amount": order.paid_amount,
        "picked_up_at": order.picked_up_at,
        "lines": [
            {
                "product_name": row["line"].product_name,
                "spec_text": row["line"].spec_text,
                "quantity": row["line"].quantity,
                "refunded_quantity": row["line"].refunded_quantity,
                "hand_over": row["quantity"],
            }
            for row in pickup.hand_over(order)
        ],
    }


@router.post("/stores/pickups/check", response=PickupOut)
def check_pickup(request, payload: PickupCodeIn):
    """Store staff: the order a pickup code opens, before handing the goods over (403 for
    anyone who is not staff of a store; a wrong, used or other store's code is refused)."""
    return _pickup(pickup.find(request.user, payload.code))


@router.post("/stores/pickups/verify", response=PickupOut)
def verify_pickup(request, payload: PickupCodeIn):
    """核销: the order completes, once, however many times the code is sent at once."""
    return _pickup(pickup.verify(request.user, payload.code))
