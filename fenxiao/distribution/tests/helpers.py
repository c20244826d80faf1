"""Shared helpers for the distribution tests.

Everything goes through the services and the API a real user drives: checkout, the
sandbox cashier, the staff refund API, settlement runs. Nothing writes a commission or a
ledger entry by hand.
"""

import contextlib
import itertools
from datetime import timedelta
from unittest import mock

from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from fenxiao.core.money import bp_to_percent, fen_to_yuan
from fenxiao.customers.models import Address, User
from fenxiao.distribution.models import (
    Commission,
    DistributionSettings,
    Distributor,
    DistributorStatus,
    LedgerEntry,
    Touch,
    TouchSource,
)
from fenxiao.distribution.services import binding, config, distributors, settlement
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import checkout, lifecycle
from fenxiao.testing import ApiClient, api_for, make_address, make_buyer, make_staff, sms_code_for

_tracking = itertools.count(1)


# --- the shop -------------------------------------------------------------------------------


def configure(**changes):
    """Change the distribution settings the way the backend does (validated, versioned)."""
    return config.update_settings(None, **changes)


def superuser():
    return make_staff("boss", superuser=True)


# --- people ---------------------------------------------------------------------------------


def make_distributor(
    parent: Distributor | None = None, *, grade=None, user=None, status: str = DistributorStatus.ACTIVE
) -> Distributor:
    """A distributor designated by the merchant (指定分销), optionally under `parent`."""
    distributor = distributors.designate(user or make_buyer(), None, parent=parent, grade=grade)
    if status != DistributorStatus.ACTIVE:
        distributors.set_status(distributor, None, status, reason="测试", decision="void")
    return distributor


def suspend(distributor: Distributor) -> Distributor:
    return distributors.set_status(distributor, None, DistributorStatus.SUSPENDED, reason="违规推广，暂停")


def bound_buyer(distributor: Distributor | None = None, source: str = TouchSource.LINK) -> User:
    """A new buyer who arrived through `distributor`'s link and signed in."""
    buyer = make_buyer()
    if distributor is not None:
        binding.record_touch(buyer, distributor, source)
    return buyer


def visit(buyer, distributor: Distributor, source: str = TouchSource.LINK, to: str = "/") -> Touch:
    """A signed-in buyer opens the distributor's link (or scans their QR code / poster)."""
    browser = Client()
    browser.force_login(buyer)
    reply = browser.get(f"/r/{distributor.referral_code}", {"src": source, "to": to})
    assert reply.status_code == 302
    return Touch.objects.filter(buyer=buyer).latest("pk")


def current_distributor(buyer) -> Distributor | None:
    found = binding.active_binding(buyer)
    return found.distributor if found else None


# --- orders ---------------------------------------------------------------------------------


def _address(buyer) -> Address:
    return Address.objects.filter(user=buyer).first() or make_address(buyer)


def place(buyer, *items) -> Order:
    """Checkout: `items` are (sku, quantity) pairs."""
    return checkout.place_order(
        buyer, [(sku.pk, quantity) for sku, quantity in items], address_id=_address(buyer).pk
    )


def pay(order: Order) -> Order:
    """The buyer pays in the sandbox cashier; the gateway's notification marks the order paid."""
    client = api_for(order.buyer)
    reply = client.post(f"/orders/{order.number}/pay", {"gateway": "sandbox"})
    assert reply.status_code == 200, reply.content
    page = Client().post(reply.json()["pay_url"].replace("http://testserver", ""), {"action": "pay"})
    assert page.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_SHIPMENT, order.status
    return order


def buy(buyer, *items, discount: int = 0) -> Order:
    """Place and pay; a positive `discount` is a merchant price adjustment before payment."""
    order = place(buyer, *items)
    if discount:
        order = lifecycle.adjust_price(
            order, superuser(), discount_amount=discount, shipping_fee=order.shipping_fee, reason="老客优惠"
        )
    return pay(order)


def ship(order: Order) -> Order:
    lifecycle.ship(order, superuser(), carrier="顺丰速运", tracking_number=f"SF{next(_tracking):08d}")
    order.refresh_from_db()
    return order


def receive(order: Order) -> Order:
    """Shipped, then the buyer confirms receipt in the app: commission is frozen."""
    if order.status == Order.Status.PENDING_SHIPMENT:
        ship(order)
    reply = api_for(order.buyer).post(f"/orders/{order.number}/confirm-receipt")
    assert reply.status_code == 200, reply.content
    order.refresh_from_db()
    return order


def hold_days() -> int:
    """Days an order's commission is held after completion: the freeze, and at least the
    buyer's after-sale window."""
    return max(config.current().freeze_days, OrderSettings.current().after_sale_days)


def after_freeze(days: int | None = None, now=None):
    """A moment just after the hold (freeze and after-sale window) of an order completed
    now has ended."""
    days = hold_days() if days is None else days
    return (now or timezone.now()) + timedelta(days=days, minutes=1)


def settle_now():
    """Settle everything whose freeze has ended, as the scheduled run would."""
    return settlement.settle_due(after_freeze())


def staff_refund(order: Order, *lines: dict, reason: str = "质量问题，同意退款", staff=None) -> dict:
    """Merchant refund through the staff API (approved at once, paid back by the gateway).

    `lines` are {"line_id": …, "quantity": …, "amount": …} (quantity/amount optional).
    """
    staff = staff or superuser()
    reply = api_for(staff).post(
        f"/staff/orders/{order.number}/refunds",
        {"kind": "refund_only", "reason": reason, "lines": list(lines)},
    )
    assert reply.status_code == 201, reply.content
    return reply.json()


def full_refund(order: Order, **kwargs) -> dict:
    return staff_refund(order, *({"line_id": line.pk} for line in order.lines.all()), **kwargs)


# --- reading money --------------------------------------------------------------------------


def commission(order: Order, level: int, line=None) -> Commission:
    qs = Commission.objects.filter(order=order, level=level)
    if line is not None:
        qs = qs.filter(order_line=line)
    return qs.get()


def commissions(order: Order) -> dict[tuple[int, int], Commission]:
    """{(line index in checkout order, level): commission}."""
    index = {pk: i for i, pk in enumerate(order.lines.order_by("pk").values_list("pk", flat=True))}
    return {(index[c.order_line_id], c.level): c for c in Commission.objects.filter(order=order)}


def amounts(order: Order) -> dict[tuple[int, int], int]:
    """{(line index, level): net commission} — what each beneficiary earns per line."""
    return {key: c.net_amount for key, c in commissions(order).items()}


def statuses(order: Order) -> set[str]:
    return set(order.commissions.values_list("status", flat=True))


def ledger_sum(distributor: Distributor) -> int:
    return LedgerEntry.objects.filter(distributor=distributor).aggregate(s=Sum("amount"))["s"] or 0


def line(order: Order, index: int = 0):
    return order.lines.order_by("pk")[index]


def sku(product, index: int = 0):
    return product.skus.order_by("pk")[index]


# --- time -----------------------------------------------------------------------------------


@contextlib.contextmanager
def travel(delta: timedelta):
    """Let `delta` pass for everything that asks django.utils.timezone for the time."""
    real_now = timezone.now
    with mock.patch("django.utils.timezone.now", lambda: real_now() + delta):
        yield


# --- the browser / app path of the full loop --------------------------------------------------


def register_through(link_path: str | None, phone: str) -> ApiClient:
    """A visitor opens a referral link (or not), then registers: the cookie carries the code."""
    browser = Client()
    if link_path:
        assert browser.get(link_path).status_code == 302
    reply = browser.post(
        "/api/v1/auth/register",
        {"phone": phone, "password": "Secret#2026", "code": sms_code_for(phone)},
        content_type="application/json",
    )
    assert reply.status_code == 201, reply.content
    client = ApiClient(reply.json()["token"])
    client.client = browser
    return client


def pay_through_api(client: ApiClient, number: str) -> None:
    url = client.post(f"/orders/{number}/pay", {"gateway": "sandbox"}).json()["pay_url"]
    client.client.post(url.replace("http://testserver", ""), {"action": "pay"})


def user_of(client: ApiClient) -> User:
    return User.objects.get(pk=client.get("/me").json()["id"])


def earn(distributor: Distributor, price: int, product=None) -> Order:
    """A bound buyer pays `price` for one unit, receives it, and the freeze ends: at the
    default 10% level-1 rate the distributor's balance grows by price × 10%, rounded down."""
    from fenxiao.testing import make_product

    product = product or make_product(price=price)
    order = receive(buy(bound_buyer(distributor), (sku(product), 1)))
    settle_now()
    return order


def till_sale(distributor: Distributor, key: str, amount: int):
    """A buyer bound to `distributor` pays `amount` for one unit at a store's till (西湖店,
    单号 `key`), as the POS reports it: the sale earns commission like an online order."""
    from fenxiao.distribution.services.offline import TillLine, TillSale, create_for_till_sale
    from fenxiao.testing import make_product

    product = make_product(price=amount)
    return create_for_till_sale(
        TillSale(
            key=f"pos:{key}",
            buyer=bound_buyer(distributor),
            total=amount,
            label=f"门店收银 西湖店 单号 {key}",
            lines=[TillLine(f"pos:{key}:1", sku(product).pk, product.pk, 1, amount, product.name)],
        )
    )


def settings_data(cfg: DistributionSettings | None = None, **overrides) -> dict:
    """The distribution settings page as it is (`cfg`, else the current settings), with
    `overrides` typed in; None leaves a field out."""
    cfg = cfg or config.current()
    data = {}
    for name in config.TRACKED:
        value = getattr(cfg, name)
        if name == "condition_products":
            data[name] = [p.pk for p in value.all()]
        elif name in ("condition_amount", "withdraw_min", "withdraw_max"):
            data[name] = fen_to_yuan(value)
        elif name.endswith("_bp"):
            data[name] = bp_to_percent(value)  # rates are typed as percentages
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- running totals -------------------------------------------------------------------------


def assert_totals_match_history(*distributors_: Distributor) -> None:
    """Every distributor's (or these distributors') running dashboard totals equal what
    their history adds up to: the yardstick after any flow that moves money."""
    from fenxiao.distribution.services import totals

    ids = [d.pk for d in distributors_] or None
    assert totals.mismatches(ids) == {}
