"""Running totals under simultaneous payments and refunds, on real PostgreSQL connections."""

from fenxiao.distribution.services import totals
from fenxiao.testing import make_product, postgres_only_marks, run_together

from .helpers import (
    assert_totals_match_history,
    bound_buyer,
    buy,
    full_refund,
    make_distributor,
    pay,
    place,
    sku,
)

pytestmark = postgres_only_marks()


def test_simultaneous_payments_and_refunds_keep_the_totals_exact():
    # a ← b ← c: payments through c credit c, b and a; through b, b and a; through a, a.
    a = make_distributor()
    b = make_distributor(parent=a)
    c = make_distributor(parent=b)
    product = make_product(price=10000)
    through = [c, b, a] * 3
    orders = [place(bound_buyer(d), (sku(product), 1)) for d in through]
    refunded = [buy(bound_buyer(d), (sku(product), 1)) for d in (c, b)]

    def work(i):
        if i < len(orders):
            return pay(orders[i]).number
        return full_refund(refunded[i - len(orders)])

    outcomes = run_together(len(orders) + len(refunded), work)

    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    assert_totals_match_history()
    got = totals.stored([a.pk, b.pk, c.pk])
    # 3 paid orders through each: c earns 10% on its 3; b 10% on its 3 and 5% on c's;
    # a 10% on its 3, 5% on b's, and the default level-3 rate on c's (all still pending).
    assert (got[c.pk]["orders"], got[c.pk]["sales"], got[c.pk]["pending"]) == (4, 30000, 3000)
    assert (got[b.pk]["orders"], got[b.pk]["sales"]) == (4, 30000)
    assert got[b.pk]["pending"] == 3000 + 1500
    assert got[a.pk]["orders"] == 3 and got[a.pk]["sales"] == 30000
