"""What the load generator does to the served mall.

- The buy path, per iteration: add to cart → check out the cart → start a sandbox payment →
  pay on the sandbox cashier page (as the buyer's browser does, with its CSRF token) → wait
  until the gateway's signed notification, delivered by the Huey consumer, has been applied
  (the order shows paid; the commission is created in that same transaction).
- Pages: one path fetched back to back over keep-alive connections.
"""

import asyncio
import re
import time
from urllib.parse import urlsplit

from .cpu import CpuWatch
from .loadgen import Connection, HttpError, Recorder, Session, percentile, run_for

API = "/api/v1"
_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


async def sign_in(host: str, port: int, phone: str, password: str) -> Session:
    session = Session(Connection(host, port))
    reply = await session.post_json(f"{API}/auth/login", {"phone": phone, "password": password})
    session.headers["Authorization"] = f"Bearer {reply.json()['token']}"
    return session


class Stages:
    """Where a purchase's time goes: seconds per stage, over all purchases."""

    NAMES = ("cart", "checkout", "pay", "cashier", "notified")

    def __init__(self):
        self.seconds = {name: [] for name in self.NAMES}

    def timer(self):
        """A stopwatch for one purchase: each call records the time since the previous one."""
        mark = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            self.seconds[name].append(now - mark)
            mark = now

        return lap

    def summary(self) -> dict:
        return {
            name: {
                "p50_ms": round(percentile(values, 50) * 1000, 1),
                "p99_ms": round(percentile(values, 99) * 1000, 1),
            }
            for name, values in self.seconds.items()
            if values
        }


async def buy_once(
    session: Session, sku_id: int, address_id: int, *, paid_timeout: float, stages: Stages | None = None
) -> str:
    """One whole purchase; returns the order number once the mall shows it paid."""
    lap = (stages or Stages()).timer()
    await session.post_json(f"{API}/cart/lines", {"sku_id": sku_id, "quantity": 1}, expect=(201,))
    lap("cart")
    order = (
        await session.post_json(
            f"{API}/checkout",
            {"lines": [{"sku_id": sku_id, "quantity": 1}], "address_id": address_id, "from_cart": True},
            expect=(201,),
        )
    ).json()
    number = order["number"]
    lap("checkout")
    payment = (await session.post_json(f"{API}/orders/{number}/pay", {"gateway": "sandbox"})).json()
    cashier = urlsplit(payment["pay_url"]).path
    lap("pay")
    page = await session.get(cashier)
    token = _CSRF_FIELD.search(page.body)
    if token is None:
        raise HttpError(f"no CSRF token on the cashier page {cashier}")
    await session.post_form(
        cashier, {"action": "pay", "csrfmiddlewaretoken": token.group(1).decode()}, expect=(200, 302)
    )
    lap("cashier")
    # The notification arrives asynchronously. Poll the order's status as an app's
    # payment-result screen would: often at first, then once a second, so the polling does
    # not crowd out the notification itself.
    deadline = time.perf_counter() + paid_timeout
    delay = 0.1
    while True:
        state = (await session.get(f"{API}/orders/{number}/status")).json()
        if state["paid"]:
            lap("notified")
            return number
        if time.perf_counter() > deadline:
            raise HttpError(f"order {number} still {state['status']} after {paid_timeout:.0f} s")
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


async def buyers(
    host: str,
    port: int,
    fixture: dict,
    *,
    duration: float,
    paid_timeout: float = 30,
    stages: Stages | None = None,
    watch: CpuWatch | None = None,
) -> Recorder:
    """Every fixture buyer signs in, then buys back to back for `duration` seconds (`watch`
    counts the CPU of the buying, not of the signing in)."""
    people = fixture["buyers"]
    sessions = await asyncio.gather(
        *(sign_in(host, port, person["phone"], fixture["password"]) for person in people)
    )
    skus = fixture["sku_ids"]
    turns = [0] * len(people)

    async def iteration(user: int) -> None:
        # Buyers spread over the SKUs, each moving on every turn, so rows are shared but not all one.
        sku = skus[(user + turns[user]) % len(skus)]
        turns[user] += 1
        await buy_once(
            sessions[user], sku, people[user]["address_id"], paid_timeout=paid_timeout, stages=stages
        )

    try:
        return await _watched(watch, run_for(duration, len(people), iteration))
    finally:
        await asyncio.gather(*(session.close() for session in sessions))


async def page(
    host: str,
    port: int,
    path: str,
    *,
    connections: int,
    duration: float,
    expect=(200,),
    watch: CpuWatch | None = None,
) -> Recorder:
    """`path` fetched back to back on `connections` keep-alive connections (no cookies)."""
    pool = [Connection(host, port) for _ in range(connections)]

    async def fetch(user: int) -> None:
        reply = await pool[user].request("GET", path, headers={"Accept": "text/html,application/json"})
        if reply.status not in expect:
            raise HttpError(f"GET {path}: HTTP {reply.status}")

    try:
        return await _watched(watch, run_for(duration, connections, fetch))
    finally:
        await asyncio.gather(*(connection.close() for connection in pool))


async def _watched(watch: CpuWatch | None, work):
    if watch is None:
        return await work
    watch.start()
    try:
        return await work
    finally:
        watch.stop()
