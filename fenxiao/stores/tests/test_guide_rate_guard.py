"""A store's own 导购 rate (导购一级佣金比例) is held to the guard (单商品佣金上限) when it is
saved, like every commission rule: it replaces level 1 for the store's 导购, while level 2
and 3 still pay their normal rates (and the tier bonus and team commission still add), so
a rate that could push a line past the cap is refused with the reason, and nothing is kept.

Defaults: level 1 = 10%, level 2 = 5%, cap 50%."""

import pytest
from django.core.exceptions import ValidationError

from fenxiao.core.errors import DomainError
from fenxiao.distribution.errors import RuleExceedsGuard
from fenxiao.distribution.models import DistributorGrade, SalesTier
from fenxiao.distribution.services import config, promotion_guard
from fenxiao.distribution.tests.helpers import configure
from fenxiao.stores.models import Store
from fenxiao.stores.services import rules
from fenxiao.testing import login, make_buyer, make_staff

from .helpers import make_store

pytestmark = pytest.mark.django_db


def rate_of(store) -> int | None:
    return Store.objects.get(pk=store.pk).guide_level1_bp


def test_a_rate_within_the_guard_is_saved():
    store = make_store("湖滨店")
    rules.set_guide_rate(store, 4500)  # 45% + level 2 5% = 50%: exactly the cap
    assert rate_of(store) == 4500
    rules.set_guide_rate(store, None)  # back to the normal rules
    assert rate_of(store) is None


@pytest.mark.parametrize("bp", [6000, 4600])
def test_a_rate_that_could_pass_the_guard_with_level_2_is_refused(bp):
    store = make_store("湖滨店", guide_level1_bp=1200)
    with pytest.raises(RuleExceedsGuard) as refused:
        rules.set_guide_rate(store, bp)
    message = refused.value.message
    assert "导购一级佣金比例" in message and "湖滨店" in message and "50%" in message, message
    assert rate_of(store) == 1200  # nothing kept


@pytest.mark.parametrize("bp", [20000, 10001, -1, "15", True])
def test_a_rate_outside_0_to_100_percent_is_refused(bp):
    store = make_store("湖滨店")
    with pytest.raises(DomainError) as refused:
        rules.set_guide_rate(store, bp)
    assert refused.value.message == "导购一级佣金比例必须是 0%–100% 之间的比例"
    assert rate_of(store) is None


def test_the_model_refuses_more_than_100_percent():
    store = make_store("湖滨店")
    store.guide_level1_bp = 20000
    with pytest.raises(ValidationError) as refused:
        store.full_clean()
    assert refused.value.message_dict["guide_level1_bp"] == ["导购一级佣金比例不能超过 100%"]


def test_tier_bonus_team_commission_and_level_3_count_too():
    store = make_store("湖滨店")
    SalesTier.objects.create(threshold=100000, bonus_bp=200)
    with pytest.raises(RuleExceedsGuard):
        rules.set_guide_rate(store, 4400)  # 44 + tier 2 + level 2 5 = 51%
    rules.set_guide_rate(store, 4300)
    config.save_grade(DistributorGrade(name="金牌", weight=3, team_bp=0))
    with pytest.raises(RuleExceedsGuard):
        config.save_grade(DistributorGrade(name="钻石", weight=4, team_bp=100))  # 43 + 2 + 5 + 1
    configure(levels=3, level3_bp=0)
    with pytest.raises(RuleExceedsGuard):
        configure(level3_bp=100)


def test_the_store_rate_counts_when_other_rules_are_saved():
    """Saving the default rates, a grade or a tier later is held to the store's rate too."""
    make_store("湖滨店", guide_level1_bp=4000)
    with pytest.raises(RuleExceedsGuard) as refused:
        configure(level2_bp=1500)  # 40 + 15 = 55%
    assert "湖滨店" in refused.value.message
    with pytest.raises(RuleExceedsGuard):
        config.save_grade(DistributorGrade(name="高级", weight=2, level2_bp=1100))
    with pytest.raises(RuleExceedsGuard):
        config.save_tier(SalesTier(threshold=100000, bonus_bp=600))
    configure(level2_bp=1000)  # 40 + 10 = 50%: allowed


def test_a_promotion_leaving_level_1_to_the_normal_rules_counts_the_store_rate():
    """A promotion's empty level 1 falls back to the normal rules, and for a 导购 that is the
    store's rate."""
    make_store("湖滨店", guide_level1_bp=3000)
    with pytest.raises(RuleExceedsGuard):
        promotion_guard.check_promotion_commission("rate", {1: None, 2: 2500}, None)  # 30 + 25
    promotion_guard.check_promotion_commission("rate", {1: None, 2: 2000}, None)


# --- the backend page (门店码与导购) -------------------------------------------------------


def _post(client, store, rate: str):
    return client.post(f"/backend/stores/storeqr/{store.pk}/change/", {"guide_level1_bp": rate})


def test_backend_takes_the_rate_in_percent_and_shows_the_refusal_next_to_it():
    store = make_store("湖滨店", manager=make_buyer())
    boss = login(make_staff("boss", superuser=True))
    page = boss.get(f"/backend/stores/storeqr/{store.pk}/change/").content.decode()
    assert "导购一级佣金比例（%）" in page

    refused = _post(boss, store, "60")
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors["guide_level1_bp"]
    assert "超过单商品佣金上限" in errors[0] and "60%" in errors[0], errors
    assert rate_of(store) is None

    too_big = _post(boss, store, "200")
    assert too_big.context["adminform"].form.errors["guide_level1_bp"] == ["比例不能大于 100.00 %"]
    assert rate_of(store) is None

    saved = _post(boss, store, "15.5")
    assert saved.status_code == 302 and rate_of(store) == 1550
    listing = boss.get("/backend/stores/storeqr/").content.decode()
    assert "15.50 %" in listing

    cleared = _post(boss, store, "")
    assert cleared.status_code == 302 and rate_of(store) is None
