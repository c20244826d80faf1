"""A 导购's commission on the orders of the members bound to them: the normal rules, and
the store's own level-1 rate when it has one. Amounts exact to the fen."""

import pytest

from fenxiao.distribution.models import CommissionRule, RuleSource
from fenxiao.distribution.services import config
from fenxiao.distribution.tests.helpers import buy, commissions, make_distributor, sku
from fenxiao.stores.models import BindTarget
from fenxiao.testing import make_buyer, make_product

from .helpers import guide, make_store, scan, store_settings

pytestmark = pytest.mark.django_db

# Defaults: level 1 = 10% (1000 bp), level 2 = 5%.


def guide_member(store, staff):
    store_settings(bind_target=BindTarget.STAFF)
    buyer = make_buyer()
    scan(buyer, store, staff)
    return buyer


def test_guide_earns_under_the_normal_rules():
    store = make_store(manager=make_buyer())
    staff = guide(store)
    buyer = guide_member(store, staff)
    product = make_product("保温杯", price=12345)

    order = buy(buyer, (sku(product), 1))

    found = commissions(order)
    assert {(k, c.distributor.user_id, c.amount, c.rule_source) for k, c in found.items()} == {
        ((0, 1), staff.user_id, 1234, RuleSource.DEFAULT),  # 12345 × 10% = 1234.5 → 1234 fen
    }


def test_store_rate_replaces_the_normal_rule_for_its_guides_only():
    store = make_store("湖滨店", manager=make_buyer(), guide_level1_bp=1550)
    staff = guide(store)
    buyer = guide_member(store, staff)
    product = make_product("茶具", price=9999)
    config.save_rule(CommissionRule(name="茶具", product=product, level1=800))

    order = buy(buyer, (sku(product), 2))

    (c,) = commissions(order).values()
    assert (c.distributor.user_id, c.level, c.base, c.amount) == (staff.user_id, 1, 19998, 3099)
    assert (c.rule_source, c.rate_bp, c.rule_name) == (
        RuleSource.STORE,
        1550,
        "湖滨店",
    )  # 19998×15.5%
    from fenxiao.distribution.services.dashboard import why

    assert "1级佣金按门店「湖滨店」导购比例 15.5% = ¥30.99" in why(c)

    # A distributor outside the store still earns by the product rule (8%).
    outsider = make_distributor()
    other = make_buyer()
    from fenxiao.distribution.services import binding

    binding.record_touch(other, outsider, "link")
    (o,) = commissions(buy(other, (sku(product), 1))).values()
    assert (o.amount, o.rule_source) == (799, RuleSource.PRODUCT)


def test_store_rate_leaves_level_2_excluded_goods_and_inactive_staff_alone():
    upline = make_distributor()
    store = make_store(manager=make_buyer(), guide_level1_bp=2000)
    staff = guide(store)
    from fenxiao.distribution.services import distributors

    distributors.set_parent(staff.user.distributor, upline)
    buyer = guide_member(store, staff)
    gift = make_product("礼品卡", price=10000)
    config.save_rule(CommissionRule(name="礼品卡不计佣", product=gift, kind="exclude"))
    cup = make_product("杯子", price=10000)

    found = commissions(buy(buyer, (sku(cup), 1), (sku(gift), 1)))
    assert {k: (c.amount, c.rule_source) for k, c in found.items()} == {
        (0, 1): (2000, RuleSource.STORE),
        (0, 2): (500, RuleSource.DEFAULT),
    }

    # A guide who left the store earns by the normal rule again.
    from fenxiao.stores.services import staff as staff_service

    staff_service.remove(staff)
    found = commissions(buy(buyer, (sku(cup), 1)))
    assert found[(0, 1)].amount == 1000 and found[(0, 1)].rule_source == RuleSource.DEFAULT


def test_store_account_earns_the_store_rate_on_store_bound_buyers():
    store_settings(bind_target=BindTarget.STORE)
    store = make_store(manager=make_buyer(), guide_level1_bp=300)
    buyer = make_buyer()
    scan(buyer, store)
    (c,) = commissions(buy(buyer, (sku(make_product("面包", price=1999)), 3))).values()
    assert (c.distributor.user_id, c.amount, c.rule_source) == (store.manager_id, 179, RuleSource.STORE)


def test_the_share_estimate_shows_the_store_rate():
    from fenxiao.distribution.services import sharing

    store = make_store(manager=make_buyer(), guide_level1_bp=1500)
    staff = guide(store)
    product = make_product("香皂", price=2999)
    assert sharing.estimate_level1(staff.user.distributor, product) == 449  # 2999 × 15%
