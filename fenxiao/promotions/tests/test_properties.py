"""Discount and commission invariants for random carts under random stacks of promotions.

For 1–6 lines at random prices and quantities, some in a flash sale, with up to two 满减
(random tiers, 每满 or not, stackable or not, any scope) and up to two coupons (fixed or %
with a cap, a minimum spend, any scope), each promotion with a random commission setting:
every discount is on the lines, to the fen, no line pays below zero, the order adds up, and
what the distributors earn on a line never exceeds the guard of what it paid.

Each example builds its own shop inside a transaction that is rolled back at the end (see
fenxiao/distribution/tests/test_properties.py); the payment notification, a commit callback
the rollback would drop, is applied in line.
"""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fenxiao.core.money import apply_bp
from fenxiao.distribution.models import Commission
from fenxiao.distribution.services import config
from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor, place, sku
from fenxiao.orders.models import PRICE_KINDS, DiscountKind, OrderDiscount
from fenxiao.testing import make_address, make_product, pay_in_sandbox

from .factories import give_coupon, make_coupon, make_flash, make_spend

pytestmark = pytest.mark.django_db

level_value = st.none() | st.integers(0, 6000)
commission_settings = st.one_of(
    st.just({}),
    st.just({"commission_mode": "exclude"}),
    st.builds(
        lambda mode, one, two: {"commission_mode": mode, "commission_level1": one, "commission_level2": two},
        st.sampled_from(["rate", "fixed"]),
        level_value,
        level_value,
    ),
)
flash = st.none() | st.fixed_dictionaries(
    {
        "off": st.one_of(
            st.builds(lambda p: {"price": p}, st.integers(1, 50000)),
            st.builds(lambda bp: {"discount_bp": bp}, st.integers(1, 9999)),
        ),
        "commission": commission_settings,
    }
)
cart = st.lists(
    st.fixed_dictionaries({"price": st.integers(1, 50000), "quantity": st.integers(1, 5), "flash": flash}),
    min_size=1,
    max_size=6,
)
# Which lines a scope covers: the whole shop, or a subset of the lines' categories or products.
scope = st.tuples(st.sampled_from(["shop", "categories", "products"]), st.sets(st.integers(0, 5)))


@st.composite
def tiers(draw):
    thresholds = sorted(draw(st.sets(st.integers(100, 200000), min_size=1, max_size=3)))
    return [(t, draw(st.integers(0, t - 1)), draw(st.booleans())) for t in thresholds]


spends = st.lists(
    st.fixed_dictionaries(
        {
            "tiers": tiers(),
            "repeat": st.booleans(),
            "stackable": st.booleans(),
            "scope": scope,
            "commission": commission_settings,
        }
    ),
    max_size=2,
)
coupons = st.lists(
    st.fixed_dictionaries(
        {
            "off": st.one_of(
                st.builds(lambda a: {"amount": a}, st.integers(1, 30000)),
                st.builds(
                    lambda bp, cap: {"discount_bp": bp, "max_discount": cap},
                    st.integers(1, 9999),
                    st.integers(0, 20000),
                ),
            ),
            "min_spend": st.integers(0, 100000),
            "scope": scope,
        }
    ),
    max_size=2,
)


@st.composite
def guards(draw):
    guard = draw(st.integers(500, 5000))
    level1 = draw(st.integers(0, guard))
    return {"guard": guard, "level1": level1, "level2": draw(st.integers(0, guard - level1))}


@pytest.fixture
def people():
    """Made once for all examples (each example rolls back only what it did)."""
    b = make_distributor(parent=make_distributor())
    buyer = bound_buyer(b)
    make_address(buyer)
    return buyer


def _scoped(spec, products) -> dict:
    kind, picked = spec
    chosen = [products[i] for i in sorted(picked) if i < len(products)]
    if kind == "products":
        return {"scope": kind, "products": chosen}
    if kind == "categories":
        return {"scope": kind, "categories": [p.category for p in chosen]}
    return {"scope": "shop"}


def _run(buyer, shop, lines_spec, spends_spec, coupons_spec):
    config.update_settings(
        None, max_commission_bp=shop["guard"], level1_bp=shop["level1"], level2_bp=shop["level2"]
    )
    products = [make_product(price=spec["price"]) for spec in lines_spec]
    for product, spec in zip(products, lines_spec, strict=True):
        if spec["flash"]:
            make_flash(product, **spec["flash"]["off"], **spec["flash"]["commission"])
    for spec in spends_spec:
        make_spend(
            spec["tiers"],
            repeat=spec["repeat"],
            stackable=spec["stackable"],
            **_scoped(spec["scope"], products),
            **spec["commission"],
        )
    for spec in coupons_spec:
        give_coupon(
            buyer, make_coupon(min_spend=spec["min_spend"], **spec["off"], **_scoped(spec["scope"], products))
        )

    order = place(buyer, *((sku(p), spec["quantity"]) for p, spec in zip(products, lines_spec, strict=True)))
    lines = list(order.lines.order_by("pk"))
    rows = list(OrderDiscount.objects.filter(order=order))

    assert order.goods_amount == sum(line.subtotal for line in lines)
    assert order.discount_amount == sum(line.discount_share for line in lines)
    assert order.total == order.goods_amount - order.discount_amount + order.shipping_fee
    order_level = [r for r in rows if r.line_id is None]
    assert all(r.kind == DiscountKind.FREE_SHIPPING for r in order_level)
    for line in lines:
        mine = [r for r in rows if r.line_id == line.pk]
        assert sum(r.amount for r in mine if r.kind not in PRICE_KINDS) == line.discount_share
        assert sum(r.amount for r in mine if r.kind in PRICE_KINDS) == (
            (line.original_price - line.unit_price) * line.quantity
        )
        assert all(r.amount > 0 for r in mine)
        assert line.subtotal == line.unit_price * line.quantity
        assert 0 <= line.discount_share <= line.subtotal
        assert line.paid_amount == line.subtotal - line.discount_share >= 0
    assert order.total > 0
    # What the examples reached (shown by --hypothesis-show-statistics).
    for kind in {r.kind for r in rows}:
        event(f"discount: {kind}")

    pay_in_sandbox(order, notify=True)
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    for line in lines:
        made = list(Commission.objects.filter(order_line=line))
        assert sum(c.amount for c in made) <= apply_bp(line.paid_amount, shop["guard"])
        assert all(c.base == line.paid_amount for c in made)
        override = line.commission_override or {}
        if override.get("mode") == "exclude":
            assert made == []
        for c in made:
            decided = override.get(f"level{c.level}") is not None and override.get("mode") in (
                "rate",
                "fixed",
            )
            assert (c.rule_source == "promotion") == decided
            if decided:
                assert c.rule_name == override["name"] and c.rule_id is None and c.rule_version == 0
                event("commission: promotion")
            if c.capped:
                event("commission: trimmed by the guard")


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(shop=guards(), lines_spec=cart, spends_spec=spends, coupons_spec=coupons)
def test_discounts_add_up_per_line_and_commission_stays_under_the_guard(
    people, shop, lines_spec, spends_spec, coupons_spec
):
    with transaction.atomic():
        try:
            _run(people, shop, lines_spec, spends_spec, coupons_spec)
        finally:
            transaction.set_rollback(True)
