"""The flash race of the load bench: thousands of buyers check out at the same moment for
the last units of a flash sale, over HTTP against the served mall.

- `create`: a flash sale on one product (its flash stock, one per buyer) and the buyers, made
  in bulk: accounts, addresses and API tokens by one insert each (no password hashing, no
  sign-in round trips), so 2,000 buyers cost seconds.
- `race`: every buyer's checkout is sent once, on a pool of keep-alive connections opened
  beforehand; each answer is a placed order (201) or a refusal (409 `FLASH_SOLD_OUT`).
- `check`: in the database, exactly the flash stock was sold: the item's `sold`, the orders
  on the SKU, their buyers, the promotion's reservations and what left the SKU's stock.
"""

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from .loadgen import Connection, HttpError, Recorder

API = "/api/v1"
STOCK = 100_000  # far more than the flash stock: the flash stock is what runs out
PRICE = 39900
FLASH_PRICE = 9900
PHONE_PREFIX = "137"
# What `check` counts; after a clean race each equals the flash stock.
CHECKED = ("sold", "orders", "buyers", "units_in_orders", "reserved", "stock_taken")


def create(*, buyers: int, quota: int) -> dict:
    from django.contrib.auth.hashers import make_password

    from fenxiao.catalog.models import Category, Product, Sku
    from fenxiao.catalog.services.products import refresh_summary
    from fenxiao.customers.models import Address, ApiToken, User
    from fenxiao.promotions.models import Promotion, PromotionItem, PromotionKind

    now = timezone.now()
    with transaction.atomic():
        product = Product.objects.create(
            name="秒杀压测耳机", category=Category.objects.create(name="秒杀压测"), is_listed=True
        )
        # A code of its own: another step's factories may have used any "SKU<n>" already.
        Sku.objects.create(product=product, code=f"FLASH-{secrets.token_hex(4)}", price=PRICE, stock=STOCK)
        refresh_summary([product.pk])
        promotion = Promotion.objects.create(
            kind=PromotionKind.FLASH,
            name="压测秒杀",
            per_buyer_limit=1,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=1),
        )
        item = PromotionItem.objects.create(
            promotion=promotion, product=product, price=FLASH_PRICE, quota=quota
        )
        unusable = make_password(None)  # the buyers sign in by token only
        first = User.objects.filter(phone__startswith=PHONE_PREFIX).count()
        phones = [f"{PHONE_PREFIX}{first + n:08d}" for n in range(buyers)]
        users = User.objects.bulk_create(User(username=p, phone=p, password=unusable) for p in phones)
        addresses = Address.objects.bulk_create(
            Address(
                user=user,
                recipient="压测买家",
                phone=user.phone,
                province="浙江省",
                city="杭州市",
                district="西湖区",
                detail="文三路 100 号",
                is_default=True,
            )
            for user in users
        )
        keys = [secrets.token_urlsafe(32) for _ in users]
        ApiToken.objects.bulk_create(
            ApiToken(user=user, key_hash=ApiToken.hash_key(key), prefix=key[:8])
            for user, key in zip(users, keys, strict=True)
        )
    return {
        "sku_id": product.skus.get().pk,
        "item_id": item.pk,
        "quota": quota,
        "buyers": [
            {"token": key, "address_id": address.pk} for key, address in zip(keys, addresses, strict=True)
        ],
    }


@dataclass
class RaceResult:
    """Every checkout's latency (seconds), placed or refused; what the answers were."""

    recorder: Recorder = field(default_factory=Recorder)
    placed_latencies: list[float] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)  # "placed", or the refusal's code

    @property
    def placed(self) -> int:
        return self.outcomes["placed"]

    def summary(self) -> dict:
        placed = Recorder(latencies=self.placed_latencies, elapsed=self.recorder.elapsed)
        return {
            "checkouts": self.recorder.summary(),
            "placed": {k: v for k, v in placed.summary().items() if k in ("count", "p50_ms", "p99_ms")},
            "outcomes": dict(self.outcomes),
        }


async def race(host: str, port: int, fixture: dict, *, connections: int) -> RaceResult:
    """Each buyer checks out once; `connections` requests in flight at any moment."""
    buyers = fixture["buyers"]
    line = {"sku_id": fixture["sku_id"], "quantity": 1}
    body_for = [json.dumps({"lines": [line], "address_id": b["address_id"]}).encode() for b in buyers]
    pool = [Connection(host, port) for _ in range(min(connections, len(buyers)))]
    await asyncio.gather(*(connection.connect() for connection in pool))
    result = RaceResult()
    waiting = iter(range(len(buyers)))

    async def checkout(connection: Connection, n: int) -> None:
        headers = {"Authorization": f"Bearer {buyers[n]['token']}", "Content-Type": "application/json"}
        began = time.perf_counter()
        reply = await connection.request("POST", f"{API}/checkout", headers=headers, body=body_for[n])
        took = time.perf_counter() - began
        if reply.status == 201:
            result.outcomes["placed"] += 1
            result.placed_latencies.append(took)
        elif reply.status == 409:
            result.outcomes[reply.json().get("code", "?")] += 1
        else:
            raise HttpError(f"checkout: HTTP {reply.status} {reply.text[:200]}")
        result.recorder.latencies.append(took)

    async def serve(connection: Connection) -> None:
        for n in waiting:
            try:
                await checkout(connection, n)
            except (TimeoutError, HttpError, OSError, ValueError) as exc:
                result.recorder.error(exc)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(serve(connection) for connection in pool))
    finally:
        result.recorder.elapsed = time.perf_counter() - start
        await asyncio.gather(*(connection.close() for connection in pool))
    return result


def check(*, sku_id: int, item_id: int) -> dict:
    """What the database says was sold; `oversold` must be 0 and `sold` the flash stock."""
    from fenxiao.catalog.models import Sku
    from fenxiao.orders.models import OrderLine, OrderStatus
    from fenxiao.promotions.models import PromotionItem, PromotionUse

    item = PromotionItem.objects.get(pk=item_id)
    lines = OrderLine.objects.filter(sku_id=sku_id).exclude(order__status=OrderStatus.CANCELLED)
    units = lines.aggregate(n=Sum("quantity"))["n"] or 0
    reserved = PromotionUse.objects.filter(item=item, released_at__isnull=True).aggregate(n=Sum("quantity"))
    return {
        "quota": item.quota,
        "sold": item.sold,
        "orders": lines.values("order_id").distinct().count(),
        "buyers": lines.values("order__buyer_id").distinct().count(),
        "units_in_orders": units,
        "reserved": reserved["n"] or 0,
        "stock_taken": STOCK - Sku.objects.get(pk=sku_id).stock,
        "oversold": max(0, units - item.quota),
    }


def problems(result: RaceResult, checked: dict) -> list[str]:
    """Correctness of one race: every answer expected, exactly the flash stock sold."""
    found = []
    quota = checked["quota"]
    if result.recorder.errors:
        found.append(
            f"flash race: {result.recorder.errors} failed checkouts, e.g. {result.recorder.first_errors[:2]}"
        )
    refusals = set(result.outcomes) - {"placed"}
    if refusals - {"FLASH_SOLD_OUT"}:
        found.append(f"flash race: unexpected refusals {dict(result.outcomes)}")
    if result.placed != quota:
        found.append(f"flash race: {result.placed} orders answered for {quota} units")
    for key in CHECKED:
        if checked[key] != quota:
            found.append(f"flash race: {key} = {checked[key]}, not {quota}")
    return found
