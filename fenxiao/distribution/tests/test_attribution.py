"""Who earns on an order: the checkout snapshot, self-purchase, skipped levels, depth."""

import pytest

from fenxiao.distribution.errors import TooManyLevels
from fenxiao.distribution.models import (
    DistributionSettings,
    DistributorStatus,
    OrderAttribution,
    SettingsChange,
)
from fenxiao.distribution.services import config, distributors
from fenxiao.testing import make_buyer, make_product

from .helpers import (
    amounts,
    bound_buyer,
    buy,
    configure,
    current_distributor,
    make_distributor,
    pay,
    place,
    sku,
    suspend,
    visit,
)

pytestmark = pytest.mark.django_db

# Defaults unless a test says otherwise: level 1 = 10% (1000 bp), level 2 = 5% (500 bp).


@pytest.fixture
def shirt():
    return make_product("T恤", price=10000)  # ¥100.00


def test_self_purchase_on_pays_the_buying_distributor_at_level_1(shirt):
    configure(self_purchase=True)
    a = make_distributor()
    b = make_distributor(parent=a)

    order = buy(b.user, (sku(shirt), 1))

    snapshot = OrderAttribution.objects.get(order=order)
    assert (snapshot.level1, snapshot.level2, snapshot.level3) == (b, a, None)
    assert snapshot.self_purchase is True
    # b: 10000 × 10% = 1000; a: 10000 × 5% = 500
    assert amounts(order) == {(0, 1): 1000, (0, 2): 500}
    assert order.commissions.get(level=1).distributor == b


def test_self_purchase_off_pays_the_buyers_parent_at_level_1(shirt):
    configure(self_purchase=False)
    z = make_distributor()
    a = make_distributor(parent=z)
    b = make_distributor(parent=a)
    # b's own binding to someone else does not matter: a distributor's parent is their upline.
    visit(b.user, make_distributor())

    order = buy(b.user, (sku(shirt), 1))

    snapshot = OrderAttribution.objects.get(order=order)
    assert (snapshot.level1, snapshot.level2, snapshot.self_purchase) == (a, z, False)
    # a: 10000 × 10% = 1000; z: 10000 × 5% = 500; b earns nothing on their own order
    assert amounts(order) == {(0, 1): 1000, (0, 2): 500}
    assert {c.distributor for c in order.commissions.all()} == {a, z}


def test_a_buyer_without_binding_earns_nobody_anything(shirt):
    order = buy(make_buyer(), (sku(shirt), 1))
    assert not OrderAttribution.objects.filter(order=order).exists()
    assert amounts(order) == {}


def test_an_inactive_level_is_skipped_not_shifted_up(shirt):
    configure(levels=3, level3_bp=200)
    z = make_distributor()
    a = make_distributor(parent=z)
    b = make_distributor(parent=a)
    buyer = bound_buyer(b)
    suspend(a)

    order = buy(buyer, (sku(shirt), 1))

    # b (level 1): 10000 × 10% = 1000; a (level 2) suspended: nothing;
    # z stays at level 3 with the level-3 rate: 10000 × 2% = 200 (not 5%).
    assert amounts(order) == {(0, 1): 1000, (0, 3): 200}
    assert order.commissions.get(level=3).distributor == z


def test_an_inactive_level_1_leaves_level_2_unchanged(shirt):
    a = make_distributor()
    b = make_distributor(parent=a)
    buyer = bound_buyer(b)
    distributors.set_status(b, None, DistributorStatus.BANNED, reason="刷单", decision="void")

    order = buy(buyer, (sku(shirt), 1))

    # b banned: no level-1 commission; a keeps level 2: 10000 × 5% = 500.
    assert amounts(order) == {(0, 2): 500}


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (1, {(0, 1): 1000}),
        (2, {(0, 1): 1000, (0, 2): 500}),
        # level 3: 10000 × 2% = 200
        (3, {(0, 1): 1000, (0, 2): 500, (0, 3): 200}),
    ],
)
def test_commission_depth_follows_the_levels_setting(shirt, levels, expected):
    configure(levels=levels, level3_bp=200)
    z = make_distributor()
    a = make_distributor(parent=z)
    b = make_distributor(parent=a)
    order = buy(bound_buyer(b), (sku(shirt), 1))
    assert amounts(order) == expected
    snapshot = OrderAttribution.objects.get(order=order)
    assert [snapshot.level1, snapshot.level2, snapshot.level3] == [b, a, z][:levels] + [None] * (3 - levels)


def test_more_than_three_levels_is_refused_and_nothing_changes():
    before = config.current()
    logged = SettingsChange.objects.count()

    with pytest.raises(TooManyLevels) as refused:
        config.update_settings(None, levels=4, level1_bp=2000)

    assert refused.value.code == "DISTRIBUTION_LEVELS_EXCEEDED"
    assert "3 级" in refused.value.message
    after = DistributionSettings.objects.get()
    assert (after.levels, after.level1_bp, after.version) == (2, 1000, before.version)
    assert SettingsChange.objects.count() == logged


def test_a_rebind_between_order_and_payment_leaves_the_commission_with_the_snapshot(shirt):
    configure(bind_mode="latest", protect_days=0)
    a = make_distributor()
    b = make_distributor(parent=a)
    d = make_distributor()
    buyer = bound_buyer(b)

    order = place(buyer, (sku(shirt), 1))
    assert visit(buyer, d).decision == "rebound"
    assert current_distributor(buyer) == d
    pay(order)

    # The checkout snapshot decides: b 1000 (10%), a 500 (5%); d earns nothing on it.
    assert {(c.distributor, c.level, c.amount) for c in order.commissions.all()} == {
        (b, 1, 1000),
        (a, 2, 500),
    }
    # The next order belongs to d.
    later = buy(buyer, (sku(shirt), 1))
    assert {(c.distributor, c.level, c.amount) for c in later.commissions.all()} == {(d, 1, 1000)}


def test_the_settings_version_and_reason_are_recorded_on_each_commission(shirt):
    cfg = configure(level1_bp=1200)
    b = make_distributor()
    order = buy(bound_buyer(b), (sku(shirt), 1))
    snapshot = OrderAttribution.objects.get(order=order)
    assert snapshot.settings_version == cfg.version
    assert snapshot.reason == "客户绑定关系"
    level1 = order.commissions.get()
    # 10000 × 12% = 1200
    assert (level1.amount, level1.rule_source, level1.settings_version) == (1200, "default", cfg.version)


@pytest.mark.parametrize("status", [DistributorStatus.SUSPENDED, DistributorStatus.BANNED])
def test_a_suspended_or_banned_distributor_buying_is_skipped_at_level_1_not_shifted_up(shirt, status):
    configure(self_purchase=True)
    g = make_distributor()
    a = make_distributor(parent=g)
    user = make_buyer()
    visit(user, a)  # bound to a, then made a's recruit
    b = make_distributor(parent=a, user=user)
    distributors.set_status(b, None, status, reason="违规推广", decision="void")

    order = buy(b.user, (sku(shirt), 1))

    snapshot = OrderAttribution.objects.get(order=order)
    assert (snapshot.level1, snapshot.level2, snapshot.self_purchase) == (b, a, True)
    assert "一级不计佣金" in snapshot.reason
    # b may not earn: level 1 pays nobody; a keeps level 2, 10000 × 5% = 500 (not 10%),
    # and g, at level 3 of a two-level shop, nothing.
    assert amounts(order) == {(0, 2): 500}


def test_a_lapsed_binding_does_not_make_the_new_distributors_parent():
    from datetime import timedelta

    from .helpers import travel

    configure(
        bind_mode="expiring", bind_days=30, enable_mode="apply", review_mode="auto", require_real_name=False
    )
    a = make_distributor()
    early, late = bound_buyer(a), bound_buyer(a)

    assert distributors.apply(early).parent == a  # binding in force
    with travel(timedelta(days=31)):
        assert distributors.apply(late).parent is None  # binding lapsed a day ago


def test_everyone_mode_makes_every_buyer_a_distributor_from_the_switch_on(shirt):
    from fenxiao.distribution.models import Distributor, DistributorTotals, JoinSource

    configure(self_purchase=True)
    a = make_distributor()
    bound, unbound = bound_buyer(a), make_buyer()
    applicant = make_buyer()
    configure(enable_mode="apply", review_mode="manual", require_real_name=False)
    distributors.apply(applicant)  # pending review when the mode switches

    configure(enable_mode="everyone")  # the enrolment runs once the switch commits

    accounts = {d.user_id: d for d in Distributor.objects.filter(source=JoinSource.EVERYONE)}
    assert set(accounts) == {bound.pk, unbound.pk}
    assert accounts[bound.pk].parent == a and accounts[unbound.pk].parent is None
    assert all(d.status == DistributorStatus.ACTIVE for d in accounts.values())
    assert DistributorTotals.objects.filter(distributor__in=accounts.values()).count() == 2
    # Every registered buyer is a distributor: the applicant waiting for review is let in.
    assert distributors.for_user(applicant).status == DistributorStatus.ACTIVE
    assert distributors.enrol_everyone() == 0  # nothing left: a re-run makes nothing

    # A buyer bound after the switch joins the binder's team at once; one registered
    # after it without a link becomes a distributor by their first purchase.
    newcomer = bound_buyer(accounts[bound.pk])
    assert distributors.for_user(newcomer).parent == accounts[bound.pk]
    walk_in = make_buyer()
    order = buy(walk_in, (sku(shirt), 1))
    snapshot = OrderAttribution.objects.get(order=order)
    assert snapshot.level1.user == walk_in and snapshot.self_purchase
    assert amounts(order) == {(0, 1): 1000}  # self-purchase on: the buyer's own 10%


def test_everyone_enrolment_works_in_chunks_and_skips_staff():
    from fenxiao.distribution.models import Distributor
    from fenxiao.testing import make_staff

    a = make_distributor()
    buyers = [bound_buyer(a) for _ in range(5)] + [make_buyer() for _ in range(2)]
    make_staff("clerk")
    DistributionSettings.objects.update(enable_mode="everyone")

    assert distributors.enrol_everyone(chunk=3) == 7
    made = Distributor.objects.filter(user__in=buyers)
    assert made.count() == 7 and made.filter(parent=a).count() == 5
    assert not Distributor.objects.filter(user__is_staff=True).exists()
    assert len(set(made.values_list("referral_code", flat=True))) == 7


@pytest.mark.parametrize("made_by", ["first purchase", "enrolment"])
def test_everyone_mode_an_account_made_before_any_binding_joins_the_first_binders_team(shirt, made_by):
    configure(self_purchase=False)
    d = make_distributor()
    walk_in = make_buyer()
    configure(enable_mode="everyone")  # enrols the walk-in, without a parent
    if made_by == "first purchase":
        buy(walk_in, (sku(shirt), 1))
    assert distributors.for_user(walk_in).parent is None

    assert visit(walk_in, d).decision == "bound"

    assert distributors.for_user(walk_in).parent == d
    # Self-purchase off: their own purchase pays their parent at level 1.
    assert amounts(buy(walk_in, (sku(shirt), 1))) == {(0, 1): 1000}
