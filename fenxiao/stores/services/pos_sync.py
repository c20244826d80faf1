"""What a store's POS or ERP writes and reads through the POS sync API.

Invariant: every write happens once per caller's key. The key's row (unique per store and
key) is inserted in the same transaction as the write and holds the answer; the same key
again (even racing the first) finds the row and gets the stored answer without writing, and
the same key with a different body is refused (409). A refused write leaves nothing behind,
its key included, so the caller can correct it and send it again.

- Stock push sets the store's level of each SKU (absolute, as the till counts it:
  `stock.set_stock`, one upsert) or moves it by what the till sold or received
  (`stock.adjust`, one UPDATE, never below zero) — the rows checkout takes pickup stock
  from; a push naming a SKU the shop does not have is refused as a whole.
- An offline sale is recorded once per (store, sale no.); a sale by a known member counts
  for their figures and automatic tags like a paid online order, and makes them a member of
  the store (source 门店收银). With 门店收银计佣 on (`StoreSettings.pos_commission`), a
  member's sale also earns commission for whom they are bound to, through distribution's
  port (`distribution.services.offline`), in the same transaction as the sale and its key:
  a replayed key answers what the first call created, and creates nothing.
- A return of such a sale at the till (门店退货) is `pos_refunds.record_refund`, through the
  same `once`.
- A member enrolled at the till without a sale (`enrol_member`) joins the store (source 门店
  收银); a phone the mall does not know gets a buyer account without a password, which its
  holder sets with 忘记密码 (a code texted to the phone) before signing in.
- Pulls (members, pickup orders) page by id cursor with a fixed number of queries.
"""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import MemberSource, StoreMember, StoreStock
from ..pos_errors import IdempotencyKeyMissing, IdempotencyKeyReused, PosPayloadInvalid, UnknownSku
from ..pos_models import OfflineSale, OfflineSaleLine, PosIdempotency
from . import membership, stock

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")
KEEP_ANSWERS = timedelta(days=30)
FUTURE_TOLERANCE = timedelta(minutes=5)
EARLIEST = datetime(2000, 1, 1)  # shop time: no till sold or took back anything before
SALE_KEY_PREFIX = "pos:"


def till_time(value: datetime, now, code: str, *, early: str, late: str) -> datetime:
    """A time the till sent (`sold_at`, `refunded_at`), aware (shop time when it names no
    offset). Refused with `code` when it is more than a few minutes after `now` (`late`) or
    before 2000-01-01 shop time (`early`): a till whose clock was reset, or a year such as 1
    that no database date holds once turned into UTC."""
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        if value < timezone.make_aware(EARLIEST):
            raise PosPayloadInvalid(early, code=code)
        if value > now + FUTURE_TOLERANCE:
            raise PosPayloadInvalid(late, code=code)
        value.astimezone(UTC)  # what the database is given; raises rather than fail on save
    except OverflowError:
        raise PosPayloadInvalid(early if value.year < 2000 else late, code=code) from None
    return value


def _member_phone(text: str) -> str:
    """A member's phone as registration writes it ("+86 138-0000-0001" → "13800000001"),
    so a till's spelling finds the account the member signs in with."""
    from fenxiao.customers.errors import InvalidPhone
    from fenxiao.customers.services.accounts import normalise_phone

    try:
        return normalise_phone(text)
    except InvalidPhone:
        raise PosPayloadInvalid(_("会员手机号需为 11 位中国大陆手机号"), code="POS_PHONE_INVALID") from None


def _fingerprint(operation: str, payload: dict) -> str:
    text = json.dumps(
        [operation, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def idempotency_key(header: str | None, fallback: str | None = None) -> str:
    key = (header or "").strip() or (fallback or "")
    if not IDEMPOTENCY_KEY.match(key):
        raise IdempotencyKeyMissing()
    return key


def once(store, key: str, operation: str, payload: dict, work) -> tuple[dict, bool]:
    """Run `work()` (returning the answer) once for (store, key). Returns (answer, replayed)."""
    fingerprint = _fingerprint(operation, payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = PosIdempotency.objects.create(
                    store=store, key=key, operation=operation, request_hash=fingerprint
                )
        except IntegrityError:
            earlier = PosIdempotency.objects.get(store=store, key=key)
            if earlier.request_hash != fingerprint:
                raise IdempotencyKeyReused() from None
            return earlier.response, True
        answer = work()
        PosIdempotency.objects.filter(pk=record.pk).update(response=answer)
    return answer, False


# --- Stock -----------------------------------------------------------------------------------


def push_stock(store, items: list[dict]) -> dict:
    """Set the store's stock of each SKU code to an absolute level (`stock`, a stocktake) or
    move it by a signed `change` (the till's own sales and receipts since its last push),
    in one transaction whose statements do not grow with the number of SKUs. Answers each
    SKU's level now, and for a change what it could not take (`short`)."""
    from fenxiao.catalog.models import Sku

    codes = [item["sku_code"] for item in items]
    if len(set(codes)) != len(codes):
        raise PosPayloadInvalid(_("同一 SKU 编码在一次推送中只能出现一次"), code="POS_DUPLICATE_SKU")
    known = dict(Sku.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = [code for code in codes if code not in known]
    if missing:
        raise UnknownSku(missing=missing[:50])
    levels = {known[item["sku_code"]]: item["stock"] for item in items if item.get("change") is None}
    changes = {known[item["sku_code"]]: item["change"] for item in items if item.get("change") is not None}
    with transaction.atomic():
        # Every row of the push made (in SKU order) and locked (in id order) at once, before
        # either kind is written: two pushes, or a push and a checkout, never wait crosswise.
        receipts = [sku for sku, change in changes.items() if change > 0]
        stock.lock_rows(store.pk, [*levels, *changes], create=[*levels, *receipts])
        stock.set_stock(store.pk, levels)
        moved = stock.adjust(store.pk, changes)
    now = {sku: (level, 0) for sku, level in levels.items()} | moved
    return {
        "store_id": store.pk,
        "updated": len(items),
        "levels": [
            {"sku_code": code, "stock": now[known[code]][0], "short": now[known[code]][1]} for code in codes
        ],
    }


# --- Offline sales -----------------------------------------------------------------------------


def record_sale(store, api_key, sale: dict, now=None) -> dict:
    """Record one till sale and count it for its member. `sale` is the validated payload."""
    from fenxiao.catalog.models import Sku
    from fenxiao.customers.models import User
    from fenxiao.customers.services import figures

    now = now or timezone.now()
    lines = sale["lines"]
    if sum(line["amount"] for line in lines) != sale["total"]:
        raise PosPayloadInvalid(_("明细金额之和与销售总额不一致"), code="POS_TOTAL_MISMATCH")
    sold_at = till_time(
        sale["sold_at"],
        now,
        "POS_SOLD_AT_INVALID",
        early=_("销售时间不能早于 2000-01-01"),
        late=_("销售时间不能晚于当前时间"),
    )
    phone = _member_phone(sale["member_phone"]) if (sale.get("member_phone") or "").strip() else ""
    buyer = (
        User.objects.filter(phone=phone, is_staff=False, is_superuser=False).only("pk").first()
        if phone
        else None
    )
    skus = {
        sku.code: sku
        for sku in Sku.objects.filter(code__in={line["sku_code"] for line in lines}).select_related("product")
    }
    try:
        with transaction.atomic():
            record = OfflineSale.objects.create(
                store=store,
                sale_no=sale["sale_id"],
                buyer=buyer,
                buyer_phone=phone,
                total=sale["total"],
                sold_at=sold_at,
                api_key=api_key,
            )
    except IntegrityError:
        raise PosPayloadInvalid(
            _("该收银单号已上报过（换了幂等键？）"), code="POS_SALE_DUPLICATE", status=409
        ) from None
    saved = OfflineSaleLine.objects.bulk_create(
        [
            OfflineSaleLine(
                sale=record,
                sku_code=line["sku_code"],
                sku=skus.get(line["sku_code"]),
                quantity=line["quantity"],
                amount=line["amount"],
            )
            for line in lines
        ]
    )
    commission = {"status": "disabled", "amount": 0}
    if buyer is not None:
        # Under the store's member mode (first or latest store), like a scan of its QR.
        membership.join(store, buyer, MemberSource.POS)
    if membership.settings().pos_commission:
        commission = _commission(store, record, saved, buyer, now)
    if buyer is not None and sale["total"] > 0:
        # After the running totals, as an online payment and every refund (online or at the
        # till) take them: two of them never wait on each other's rows crosswise.
        figures.order_paid(buyer.pk, sale["total"], sold_at)
        figures._retag_after_commit(buyer.pk)
    return {
        "sale_id": record.sale_no,
        "id": record.pk,
        "member_matched": buyer is not None,
        "total": record.total,
        "commission": commission,
    }


def _commission(store, record: OfflineSale, lines: list[OfflineSaleLine], buyer, now) -> dict:
    """The sale's commission through distribution's port: {"status": "created" | "none",
    "amount": fen}. Only a member's paid sale can earn; a line without a shop SKU earns
    nothing. (bulk_create returns the lines' ids on both SQLite and PostgreSQL.)"""
    from fenxiao.distribution.services import offline

    if buyer is None or record.total <= 0:
        return {"status": "none", "amount": 0}
    result = offline.create_for_till_sale(
        offline.TillSale(
            key=sale_key(record),
            buyer=buyer,
            total=record.total,
            label=sale_label(store, record),
            lines=[
                offline.TillLine(
                    ref=line_ref(line),
                    sku_id=line.sku_id,
                    product_id=line.sku.product_id if line.sku else None,
                    quantity=line.quantity,
                    amount=line.amount,
                    name=str(line.sku) if line.sku else line.sku_code,
                )
                for line in lines
            ],
        ),
        now=now,
    )
    return {"status": "created" if result.commissions else "none", "amount": result.amount}


def sale_key(sale: OfflineSale) -> str:
    """How distribution names the sale (its attribution) and, below, each of its lines (its
    commission): what a return at the till refers to again."""
    return f"{SALE_KEY_PREFIX}{sale.pk}"


def sale_key_of(sale_id: str | OuterRef) -> Concat:
    """`sale_key` in a query, of the sale whose id is in the field `sale_id`."""
    return Concat(Value(SALE_KEY_PREFIX), Cast(sale_id, CharField()))


def line_ref(line: OfflineSaleLine) -> str:
    return f"pos:{line.sale_id}:{line.pk}"


def sale_label(store, sale: OfflineSale) -> str:
    return f"门店收银 {store.name} 单号 {sale.sale_no}"


def kept_till_lines(buyer, products, since):
    """The segments' extension (registered in `StoresConfig.ready`): `buyer`'s till sale
    lines of the products (a list, one product's reference, or any when the list is empty)
    since `since`, not returned in full — bought as much as a paid order line."""
    lines = OfflineSaleLine.objects.filter(sale__buyer_id=buyer, refunded_quantity__lt=F("quantity"))
    if isinstance(products, list):
        if products:
            lines = lines.filter(sku__product_id__in=products)
    else:
        lines = lines.filter(sku__product_id=products)
    return lines if since is None else lines.filter(sale__sold_at__gte=since)


def add_offline_sales_to_figures(low: int, high: int) -> None:
    """The figures rebuild's extension (registered in `StoresConfig.ready`): after a chunk's
    figures were recomputed from the orders, add the same buyers' till sales on top (spend
    less the till's returns, which count as refunds), so the nightly rebuild keeps what the
    API added."""
    from fenxiao.customers.models import CustomerFigures, User

    q = connection.ops.quote_name
    figures, users, sales = (
        q(CustomerFigures._meta.db_table),
        q(User._meta.db_table),
        q(OfflineSale._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {figures} (user_id, paid_orders, total_spend, refunded, first_paid_at,
                                   last_paid_at, source)
            SELECT s.buyer_id, COUNT(s.id), SUM(s.total - s.refunded_amount), SUM(s.refunded_amount),
                   MIN(s.sold_at), MAX(s.sold_at), ''
            FROM {sales} s JOIN {users} u ON u.id = s.buyer_id
            WHERE s.buyer_id BETWEEN %s AND %s AND s.total > 0
              AND u.is_staff = %s AND u.is_superuser = %s
            GROUP BY s.buyer_id
            ON CONFLICT (user_id) DO UPDATE SET
                paid_orders = {figures}.paid_orders + EXCLUDED.paid_orders,
                total_spend = {figures}.total_spend + EXCLUDED.total_spend,
                refunded = {figures}.refunded + EXCLUDED.refunded,
                first_paid_at = CASE WHEN {figures}.first_paid_at IS NULL
                    OR {figures}.first_paid_at > EXCLUDED.first_paid_at
                    THEN EXCLUDED.first_paid_at ELSE {figures}.first_paid_at END,
                last_paid_at = CASE WHEN {figures}.last_paid_at IS NULL
                    OR {figures}.last_paid_at < EXCLUDED.last_paid_at
                    THEN EXCLUDED.last_paid_at ELSE {figures}.last_paid_at END
            """,  # noqa: S608 - quoted identifiers and placeholders only
            [low, high, False, False],
        )


def window_spenders(since, min_spend: int, low: int | None, high: int | None):
    """高消费 within N days (registered with the tags in `StoresConfig.ready`): the buyers
    whose till sales plus paid orders since `since`, both net of refunds, reach `min_spend`, as
    a buyer_id query."""
    from fenxiao.orders.models import Order

    online = (
        Order.objects.filter(buyer_id=OuterRef("buyer_id"), paid_at__isnull=False, paid_at__gte=since)
        .values("buyer_id")
        .annotate(spend=Sum(F("paid_amount") - F("refunded_amount")))
        .values("spend")
    )
    sales = OfflineSale.objects.filter(buyer__isnull=False, sold_at__gte=since)
    if low is not None:
        sales = sales.filter(buyer_id__gte=low, buyer_id__lte=high)
    return (
        sales.values("buyer_id")
        .annotate(offline=Sum(F("total") - F("refunded_amount")), online=Coalesce(Subquery(online), 0))
        .filter(Q(offline__gte=min_spend - F("online")))
        .values("buyer_id")
    )


# --- Pulls -------------------------------------------------------------------------------------


def enrol_member(store, member: dict) -> dict:
    """Make the holder of `member["phone"]` a member of `store` (under the store's member
    mode, as a till sale does), opening a buyer account for a phone the mall does not know.
    `member` is the validated payload."""
    from fenxiao.customers.models import RegistrationSource, User
    from fenxiao.customers.services import figures

    phone = _member_phone(member["phone"])
    with transaction.atomic():
        # A buyer signs in by phone and resets a password by username: both must be theirs.
        holders = list(User.objects.select_for_update().filter(Q(phone=phone) | Q(username=phone)))
        if any(h.is_staff or h.is_superuser for h in holders):
            raise PosPayloadInvalid(
                _("该手机号属于员工账号，不能登记为会员"), code="POS_PHONE_STAFF", status=409
            )
        if len(holders) > 1 or (holders and (holders[0].phone, holders[0].username) != (phone, phone)):
            raise PosPayloadInvalid(
                _("该手机号与已有账号冲突，请在后台核对客户资料"), code="POS_PHONE_CONFLICT", status=409
            )
        holder = holders[0] if holders else None
        created = holder is None
        if created:
            holder = User(username=phone, phone=phone, nickname=(member.get("nickname") or "").strip()[:40])
            # No password until its holder sets one with a code texted to the phone.
            holder.set_unusable_password()
            try:
                with transaction.atomic():
                    holder.save()
            except IntegrityError:
                raise PosPayloadInvalid(
                    _("该手机号刚刚注册，请重试登记"), code="POS_PHONE_CONFLICT", status=409
                ) from None
            # Registered at the store: its registration source, with no distributor.
            figures.start_row(holder, RegistrationSource.STORE)
        current, joined = membership.join(store, holder, MemberSource.POS)
    return {
        "user_id": holder.pk,
        "phone": phone,
        "account_created": created,
        "joined": joined,
        "member_of_this_store": current is not None and current.store_id == store.pk,
    }


def members_since(store, since: int, limit: int) -> list:
    """The store's members with id > since, oldest first (one query)."""
    return list(
        StoreMember.objects.filter(store=store, pk__gt=since)
        .select_related("buyer", "staff")
        .order_by("pk")[:limit]
    )


def stock_since(store, since: int, limit: int) -> list:
    """The store's stock rows with id > since, oldest first (one query): what the mall holds
    for the store, online pickups taken off, for the till to reconcile with its count."""
    return list(
        StoreStock.objects.filter(store=store, pk__gt=since).select_related("sku").order_by("pk")[:limit]
    )


def pickup_orders_queryset(store):
    """Paid online orders to be picked up at `store` (whatever happened to them since)."""
    from fenxiao.orders.models import Fulfilment, Order

    return Order.objects.filter(fulfilment=Fulfilment.PICKUP, pickup_store_id=store.pk, paid_at__isnull=False)


def pickup_orders_since(store, since: int, limit: int) -> list:
    """Paid pickup orders with id > since, oldest first, lines included (two queries)."""
    return list(
        pickup_orders_queryset(store).filter(pk__gt=since).prefetch_related("lines").order_by("pk")[:limit]
    )


def sweep(now=None) -> int:
    """Forget idempotent answers older than KEEP_ANSWERS (a POS retries within minutes)."""
    now = now or timezone.now()
    deleted, _rows = PosIdempotency.objects.filter(created_at__lt=now - KEEP_ANSWERS).delete()
    return deleted
