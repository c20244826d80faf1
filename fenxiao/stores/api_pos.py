"""/api/v1/pos/: the POS sync API for a store's own till or ERP. Thin: every request is
authenticated by `pos_keys.authenticate` (signature, timestamp window, nonce) and every
write goes through `pos_sync.once` (idempotent by the caller's key)."""

from datetime import datetime

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Path, Query, Router, Schema
from ninja.security import APIKeyHeader
from pydantic import ConfigDict, field_validator, model_validator

from .pos_errors import PosPayloadInvalid
from .services import pos_keys, pos_refunds, pos_sync
from .services.stock import MAX_LEVEL as MAX_STOCK_LEVEL

SIGNING = """
**Signing (签名).** Every request carries four headers:

| Header | Value |
|---|---|
| `X-Fenxiao-Key` | the key id, e.g. `pk_0123456789abcdef01234567` (门店 › 收银系统密钥) |
| `X-Fenxiao-Timestamp` | unix seconds; refused when more than 300 s from the server clock |
| `X-Fenxiao-Nonce` | 8-64 characters `[A-Za-z0-9_-]`, new for every request (a reused one is refused) |
| `X-Fenxiao-Signature` | lowercase hex HMAC-SHA256 of the string below, keyed with the key's secret |

The signed string is five lines joined by `\\n` (no trailing newline):

    {timestamp}\\n{nonce}\\n{METHOD}\\n{path}\\n{hex sha256 of the raw request body}

`path` is the path only (`/api/v1/pos/stock`, no host, no query string), percent-decoded
(`/api/v1/pos/sales/S:1/refunds` for a request to `/api/v1/pos/sales/S%3A1/refunds`); a GET signs the
sha256 of the empty body (`e3b0c442…b855`). Sign the exact bytes you send.

**Worked example.** Secret `3f1c0e0a6b2d4e8f9a7c5b3d1e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f`,
timestamp `1767225600`, nonce `n0nce-2026-0001`, `POST /api/v1/pos/stock` with body
`{"items":[{"sku_code":"SKU1-0","stock":12}]}`:

- body sha256 = `9a400f909369c0c7f2db5f7930bd62c0a5ccc3766fbb8f068bcdd3acce7d6fc6`
- signed string = `1767225600\\nn0nce-2026-0001\\nPOST\\n/api/v1/pos/stock\\n9a400f90…6fc6`
- `X-Fenxiao-Signature: 0e5835a53db3b16bee144c83d07f71f200be58e5cb29d81466d62f117a25ceb5`

**Idempotency (幂等).** Writes take an `Idempotency-Key` header (sales default to
`sale:{sale_id}`): the same key again returns the first answer without writing again
(header `Idempotent-Replayed: true`); the same key with a different body is refused
(409 `IDEMPOTENCY_KEY_REUSED`).

Refusals: 401 `POS_KEY_MISSING` / `POS_KEY_INVALID` / `POS_TIMESTAMP_EXPIRED` /
`POS_NONCE_INVALID` / `POS_REQUEST_REPLAYED` / `POS_SIGNATURE_INVALID`.
"""


class PosSignature(APIKeyHeader):
    """The signed-request check; the key header is what the OpenAPI security scheme shows."""

    param_name = pos_keys.HEADER_KEY

    def __call__(self, request):
        try:
            body = request.body
        except RequestDataTooBig:
            raise PosPayloadInvalid(_("请求内容过大，请分批推送"), code="POS_PAYLOAD_TOO_LARGE") from None
        return pos_keys.authenticate(request.headers, request.method, request.path, body)

    def authenticate(self, request, key):  # pragma: no cover - __call__ does the work
        return None


router = Router(tags=["门店收银 POS"], auth=PosSignature())


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class StockItemIn(Strict):
    sku_code: str = Field(min_length=1, max_length=40)
    stock: int | None = Field(
        None, ge=0, le=MAX_STOCK_LEVEL, description="The level the till counted (a stocktake), absolute"
    )
    change: int | None = Field(
        None,
        ge=-MAX_STOCK_LEVEL,
        le=MAX_STOCK_LEVEL,
        description="Units the till sold (negative) or received (positive) since its last push",
    )

    @model_validator(mode="after")
    def _one_of_stock_or_change(self):
        if (self.stock is None) == (self.change is None):
            raise ValueError(_("每个 SKU 须给出 stock（盘点数）或 change（增减数）之一"))
        return self


class StockPushIn(Strict):
    items: list[StockItemIn] = Field(min_length=1, max_length=500)


class StockLevelOut(Schema):
    sku_code: str
    stock: int = Field(description="The store's level of the SKU after this push")
    short: int = Field(
        description="Units a `change` could not take: the store had promised them to online "
        "pickups (the level stops at 0)"
    )


class StockPushOut(Schema):
    store_id: int
    updated: int
    # Answers stored (and replayed) before levels were reported have none.
    levels: list[StockLevelOut] = []


class SaleLineIn(Strict):
    sku_code: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=9999)
    amount: int = Field(ge=0, le=100_000_000, description="Line amount actually paid, in fen")


class SaleIn(Strict):
    sale_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", description="The till's sale no."
    )
    member_phone: str | None = Field(None, max_length=20, description="The member's mobile number, if known")
    lines: list[SaleLineIn] = Field(min_length=1, max_length=200)
    total: int = Field(ge=0, le=2_000_000_000, description="Sum of the line amounts, in fen")
    sold_at: datetime = Field(
        description="ISO 8601; without an offset it is Beijing time. Refused (400 `POS_SOLD_AT_INVALID`) "
        "when in the future or before 2000-01-01 Beijing time"
    )


class SaleCommissionOut(Schema):
    status: str = Field(
        description="`created`: the member's bound distributor (导购) and their upline earn "
        "commission on the lines whose `sku_code` is a shop SKU, frozen until the hold ends; "
        "`none`: nobody earns (no member matched, nobody bound, or no line earns); "
        "`disabled`: the shop has 门店收银计佣 off"
    )
    amount: int = Field(description="Commission created for the sale, in fen (all levels)")


class SaleOut(Schema):
    sale_id: str
    id: int
    member_matched: bool
    total: int
    commission: SaleCommissionOut

    @field_validator("commission", mode="before")
    @classmethod
    def _stored_before_commission(cls, value):
        # Answers stored (and replayed) before sales could earn commission said "disabled".
        return {"status": value, "amount": 0} if isinstance(value, str) else value


class RefundLineIn(Strict):
    sku_code: str = Field(min_length=1, max_length=40, description="A `sku_code` of the sale's lines")
    quantity: int = Field(ge=0, le=9999, description="Units returned (0 for money back only)")
    amount: int = Field(ge=0, le=100_000_000, description="Money given back for the line, in fen")


class RefundIn(Strict):
    refund_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", description="The till's refund no."
    )
    lines: list[RefundLineIn] = Field(min_length=1, max_length=200)
    total: int = Field(ge=0, le=2_000_000_000, description="Sum of the line amounts, in fen")
    refunded_at: datetime = Field(description="ISO 8601; without an offset it is Beijing time")


class RefundCommissionOut(Schema):
    reduced: int = Field(description="Held (frozen) commission reduced or cancelled, in fen")
    clawed_back: int = Field(
        description="Settled commission taken back from the distributors' balances, in fen"
    )


class RefundOut(Schema):
    refund_id: str
    sale_id: str
    id: int
    total: int = Field(description="Money given back by this return, in fen")
    sale_refunded_total: int = Field(description="Money given back on the sale so far, in fen")
    commission: RefundCommissionOut


class Cursor(Schema):
    since: int = Field(0, ge=0, le=2**62, description="The `next_since` of the previous page (0 to start)")
    limit: int = Field(100, ge=1, le=200)


class MemberOut(Schema):
    id: int
    phone: str | None
    nickname: str
    source: str
    staff_user_id: int | None
    joined_at: datetime


class EnrolIn(Strict):
    phone: str = Field(
        min_length=11, max_length=11, description="The member's 11-digit mainland mobile number"
    )
    nickname: str = Field(
        "", max_length=40, description="What to call a new member (an existing one keeps theirs)"
    )


class EnrolOut(Schema):
    user_id: int
    phone: str
    account_created: bool = Field(
        description="The phone was new to the mall: it now has a buyer account without a password, "
        "set with 忘记密码 (a code texted to the phone) before the member signs in"
    )
    joined: bool = Field(description="The member joined this store with this call")
    member_of_this_store: bool = Field(
        description="The store the member counts for is this one (false when the shop keeps a "
        "member with the first store they joined, and that was another)"
    )


class MembersPage(Schema):
    items: list[MemberOut]
    next_since: int
    has_more: bool


class StockRowOut(Schema):
    id: int
    sku_code: str
    stock: int
    updated_at: datetime


class StockPage(Schema):
    items: list[StockRowOut]
    next_since: int
    has_more: bool


class PickupLineOut(Schema):
    sku_code: str
    product_name: str
    spec_text: str
    quantity: int
    paid_amount: int


class PickupOrderOut(Schema):
    id: int
    number: str
    status: str
    status_label: str = Field(description="待自提 while it waits at the store, then 已完成 / 已取消")
    recipient: str
    recipient_phone: str
    total: int
    paid_amount: int
    paid_at: datetime | None
    lines: list[PickupLineOut]


class PickupOrdersPage(Schema):
    items: list[PickupOrderOut]
    next_since: int
    has_more: bool


def _replayed(response: HttpResponse, replayed: bool) -> None:
    if replayed:
        response["Idempotent-Replayed"] = "true"


@router.post(
    "/stock",
    response=StockPushOut,
    summary="推送门店库存",
    description="Set the store's stock of each SKU: `stock`, an absolute level (a stocktake), or "
    "`change`, the units the till sold (negative) or received (positive) since its last push. "
    "Prefer `change` for day-to-day sales: online pickup orders take from the same stock at any "
    "moment, and a change leaves what they took taken, where a level counted before they were "
    "placed gives their units back to sale. A change never takes the level below 0; what it "
    "could not take is answered as `short`. Unknown SKU codes refuse the whole push. Requires "
    "`Idempotency-Key`.\n" + SIGNING,
)
def push_stock(
    request,
    response: HttpResponse,
    payload: StockPushIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    store = request.auth.store
    key = pos_sync.idempotency_key(idempotency_key)
    # Without the mode left out, so a push retried across an upgrade keeps its fingerprint.
    body = payload.model_dump(exclude_none=True)
    answer, replayed = pos_sync.once(
        store, key, "stock", body, lambda: pos_sync.push_stock(store, body["items"])
    )
    _replayed(response, replayed)
    return answer


@router.post(
    "/sales",
    response=SaleOut,
    summary="上报门店销售",
    description="Record a sale made at the store's till. With a known member's phone it counts for "
    "their figures and tags, and, when the shop turned 门店收银计佣 on, earns commission for the "
    "distributor (导购) the member is bound to and their upline, like a paid and completed online "
    "order (`commission` says what was created). Idempotent by `Idempotency-Key`, else by "
    "`sale:{sale_id}`.\n" + SIGNING,
)
def push_sale(
    request,
    response: HttpResponse,
    payload: SaleIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    api_key = request.auth
    key = pos_sync.idempotency_key(idempotency_key, f"sale:{payload.sale_id}")
    body = payload.model_dump()
    answer, replayed = pos_sync.once(
        api_key.store, key, "sale", body, lambda: pos_sync.record_sale(api_key.store, api_key, body)
    )
    _replayed(response, replayed)
    return answer


@router.post(
    "/sales/{sale_id}/refunds",
    response=RefundOut,
    summary="上报门店退货",
    description="Record a return (退货/退款) at the till of a sale reported before (`sale_id` is its "
    "till sale no.). Each line names a `sku_code` of the sale; when several of the sale's lines "
    "have that code, quantity and amount are taken from them in line order. Refused whole when the "
    "sale is unknown (404 `POS_SALE_NOT_FOUND`), a code is not in the sale (422 "
    "`POS_REFUND_LINE_UNKNOWN`), a line asks more quantity or money than remains (409 "
    "`POS_REFUND_EXCEEDS_SALE`), `total` is not the sum of the lines (400 `POS_TOTAL_MISMATCH`), "
    "`refunded_at` is in the future, before the sale or before 2000-01-01 (400 "
    "`POS_REFUNDED_AT_INVALID`), or the "
    "`refund_id` was recorded for the sale before under another key (409 `POS_REFUND_DUPLICATE`). "
    "The member's figures lose the amount; commission the sale earned is brought to its share of "
    "what each line still has paid, like an online refund: reduced or cancelled while held, "
    "taken back from the balance once settled (`commission` says how much). Requires "
    "`Idempotency-Key` (e.g. `refund:{sale_id}:{refund_id}`).\n" + SIGNING,
)
def push_refund(
    request,
    response: HttpResponse,
    payload: RefundIn,
    sale_id: str = Path(
        ..., min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$", description="The till's sale no."
    ),
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    api_key = request.auth
    key = pos_sync.idempotency_key(idempotency_key)
    body = payload.model_dump() | {"sale_id": sale_id}
    answer, replayed = pos_sync.once(
        api_key.store,
        key,
        "refund",
        body,
        lambda: pos_refunds.record_refund(api_key.store, api_key, sale_id, body),
    )
    _replayed(response, replayed)
    return answer


@router.post(
    "/members",
    response=EnrolOut,
    summary="登记门店会员",
    description="Enrol a member at the till without a sale: the phone's holder joins the store "
    "(source 门店收银) under the shop's member mode, as a till sale by them would; a phone the "
    "mall does not know gets a buyer account first. Staff accounts are refused (409 "
    "`POS_PHONE_STAFF`), as is a phone another account uses as its user name (409 "
    "`POS_PHONE_CONFLICT`). Enrolling is idempotent in itself (the member joins once); with an "
    "`Idempotency-Key` the same key answers as the first call did.\n" + SIGNING,
)
def enrol_member(
    request,
    response: HttpResponse,
    payload: EnrolIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    store = request.auth.store
    body = payload.model_dump()
    if not idempotency_key:
        # Without a key each call answers as things stand now (the member may have moved
        # to another store since an earlier call): enrolling twice joins once.
        return pos_sync.enrol_member(store, body)
    key = pos_sync.idempotency_key(idempotency_key)
    answer, replayed = pos_sync.once(store, key, "member", body, lambda: pos_sync.enrol_member(store, body))
    _replayed(response, replayed)
    return answer


@router.get(
    "/members",
    response=MembersPage,
    summary="拉取门店会员",
    description="The store's members joined after the cursor, oldest first.\n" + SIGNING,
)
def members(request, cursor: Query[Cursor]):
    rows = pos_sync.members_since(request.auth.store, cursor.since, cursor.limit + 1)
    page = rows[: cursor.limit]
    return {
        "items": [
            {
                "id": m.pk,
                "phone": m.buyer.phone,
                "nickname": m.buyer.nickname or "",
                "source": m.source,
                "staff_user_id": m.staff.user_id if m.staff else None,
                "joined_at": m.joined_at,
            }
            for m in page
        ],
        "next_since": page[-1].pk if page else cursor.since,
        "has_more": len(rows) > cursor.limit,
    }


@router.get(
    "/stock",
    response=StockPage,
    summary="拉取门店库存",
    description="The store's stock as the mall holds it (online pickups already taken off), "
    "after the cursor, in id order: for the till to reconcile with its own count.\n" + SIGNING,
)
def stock(request, cursor: Query[Cursor]):
    rows = pos_sync.stock_since(request.auth.store, cursor.since, cursor.limit + 1)
    page = rows[: cursor.limit]
    return {
        "items": [
            {"id": r.pk, "sku_code": r.sku.code, "stock": r.stock, "updated_at": r.updated_at} for r in page
        ],
        "next_since": page[-1].pk if page else cursor.since,
        "has_more": len(rows) > cursor.limit,
    }


@router.get(
    "/pickup-orders",
    response=PickupOrdersPage,
    summary="拉取到店自提订单",
    description="Paid online orders to be picked up at this store, after the cursor, oldest first. "
    "The pickup code is not included: staff verify it with the buyer.\n" + SIGNING,
)
def pickup_orders(request, cursor: Query[Cursor]):
    rows = pos_sync.pickup_orders_since(request.auth.store, cursor.since, cursor.limit + 1)
    page = rows[: cursor.limit]
    return {
        "items": [
            {
                "id": o.pk,
                "number": o.number,
                "status": o.status,
                "status_label": o.status_label,
                "recipient": o.recipient,
                "recipient_phone": o.recipient_phone,
                "total": o.total,
                "paid_amount": o.paid_amount,
                "paid_at": o.paid_at,
                "lines": [
                    {
                        "sku_code": line.sku_code,
                        "product_name": line.product_name,
                        "spec_text": line.spec_text,
                        "quantity": line.quantity,
                        "paid_amount": line.paid_amount,
                    }
                    for line in o.lines.all()
                ],
            }
            for o in page
        ],
        "next_since": page[-1].pk if page else cursor.since,
        "has_more": len(rows) > cursor.limit,
    }
