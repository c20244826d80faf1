"""The monthly sales tier (SPEC: "a bonus bp for a distributor whose paid sales in the
current period reach a threshold") reads the month's paid sales as they stand when each
order is paid: an order cancelled or refunded in full no longer counts from that moment,
a partly refunded one counts what the buyer kept."""

import pytest

from fenxiao.distribution.models import SalesTier
from fenxiao.distribution.services import commissions, config
from fenxiao.orders.services import lifecycle
from fenxiao.testing import make_product

from .helpers import amounts, bound_buyer, buy, commission, make_distributor, sku, staff_refund

pytestmark = pytest.mark.django_db


@pytest.fixture
def tier():
    return config.save_tier(SalesTier(threshold=10000, bonus_bp=200))  # ≥ ¥100 this month: +2%


def month_sales(distributor) -> int:
    return commissions.period_sales(distributor.pk, commissions.month_start())


def test_a_cancelled_order_stops_lifting_the_distributor_over_the_tier_at_once(tier):
    b = make_distributor()
    big, small = make_product("音箱", price=9000), make_product("台灯", price=1000)
    friend, genuine = bound_buyer(b), bound_buyer(b)
    buy(genuine, (sku(small), 1))
    lifted = buy(friend, (sku(big), 1))  # 1000 + 9000 = 10000: over the line, and counts itself
    assert commission(lifted, 1).bonus_bp == 200
    assert month_sales(b) == 10000

    lifecycle.cancel(lifted, friend, reason="不想要了")  # paid, not shipped: a full refund
    assert month_sales(b) == 1000
    after = buy(genuine, (sku(small), 1))
    assert (commission(after, 1).bonus_bp, amounts(after)) == (0, {(0, 1): 100})

    # A partial refund leaves what the buyer kept in the month's sales.
    kept = buy(genuine, (sku(big), 1))
    staff_refund(kept, {"line_id": kept.lines.get().pk, "amount": 4000})
    assert month_sales(b) == 1000 + 1000 + 9000 - 4000


def test_the_reviewers_scenario_pays_the_tier_its_genuine_sales_reach_anyway(tier):
    """A friend's order lifts the distributor over the line, genuine orders of more than
    the threshold follow, then the friend cancels: the month's paid sales (the genuine ones
    alone) still reach the threshold, so the tier is the distributor's for the month as the
    SPEC words it, and the bonus already earned stays; only the still-held commission of
    the cancelled order itself goes."""
    b = make_distributor()
    big, lamp = make_product("音箱", price=9000), make_product("台灯", price=4000)
    friend, genuine = bound_buyer(b), bound_buyer(b)
    buy(genuine, (sku(lamp), 1))
    lifted = buy(friend, (sku(big), 1))
    genuine_orders = [buy(genuine, (sku(lamp), 2)) for _ in range(2)]  # 16000 more
    assert all(commission(o, 1).bonus_bp == 200 for o in genuine_orders)

    lifecycle.cancel(lifted, friend, reason="不想要了")
    assert commission(lifted, 1).status == "cancelled"
    assert month_sales(b) == 4000 + 16000  # the genuine sales alone reach 10000
    assert [amounts(o) for o in genuine_orders] == [{(0, 1): 8000 * 1200 // 10000}] * 2
    assert commission(buy(genuine, (sku(lamp), 1)), 1).bonus_bp == 200
