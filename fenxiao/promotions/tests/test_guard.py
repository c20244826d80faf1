"""A promotion's own commission is held to the guard (单商品佣金上限) when it is saved:
rates with everything they are paid on top of, fixed amounts against the cheapest price the
promotion sells at. Defaults: 2 levels, 10 % / 5 %, guard 50 %."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.distribution.errors import RuleExceedsGuard
from fenxiao.distribution.models import CommissionRule, DistributorGrade, RuleKind, SalesTier
from fenxiao.distribution.services.promotion_guard import check_promotion_commission
from fenxiao.promotions.models import Promotion, PromotionItem, PromotionKind, SpendTier
from fenxiao.promotions.services import manage
from fenxiao.testing import make_product, make_staff

pytestmark = pytest.mark.django_db

GUARD = "COMMISSION_RULE_EXCEEDS_GUARD"


def test_rates_up_to_the_guard_pass_and_one_bp_more_is_refused():
    check_promotion_commission("rate", {1: 3000, 2: 2000, 3: None}, None)
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("rate", {1: 3000, 2: 2001, 3: None}, None)


def test_tier_bonus_and_team_commission_count_against_rates():
    SalesTier.objects.create(threshold=100000, bonus_bp=300)
    DistributorGrade.objects.create(name="金牌", weight=1, team_bp=200)
    check_promotion_commission("rate", {1: 3000, 2: 1500}, None)
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("rate", {1: 3000, 2: 1501}, None)


def test_an_empty_level_counts_at_the_largest_rate_it_could_fall_back_to():
    check_promotion_commission("rate", {1: 4500, 2: None}, None)  # + default 5 %
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("rate", {1: 4501, 2: None}, None)
    DistributorGrade.objects.create(name="金牌", weight=1, level2_bp=800)
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("rate", {1: 4300, 2: None}, None)  # + 8 % of the grade
    product = make_product()
    CommissionRule.objects.create(name="爆款", product=product, kind=RuleKind.RATE, level2=1200)
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("rate", {1: 3900, 2: None}, None)  # + 12 % of a product rule
    check_promotion_commission("rate", {1: 3800, 2: None}, None)


def test_fixed_amounts_are_weighed_per_unit_against_the_cheapest_price():
    check_promotion_commission("fixed", {1: 400, 2: 100}, 1000)  # ¥5 of ¥10 at 50 %
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("fixed", {1: 400, 2: 101}, 1000)
    check_promotion_commission("fixed", {1: 450, 2: None}, 1000)  # + 5 % of ¥10
    with pytest.raises(RuleExceedsGuard):
        check_promotion_commission("fixed", {1: 451, 2: None}, 1000)
    check_promotion_commission("fixed", {1: 10_000, 2: None}, None)  # nothing priced yet


def test_normal_and_excluded_promotions_are_not_checked():
    check_promotion_commission("normal", {1: 99999}, 1)
    check_promotion_commission("exclude", {1: 99999}, 1)


def _window():
    starts = timezone.now() + timedelta(hours=1)
    return {"starts_at": starts, "ends_at": starts + timedelta(days=1)}


def test_saving_a_flash_sale_over_the_guard_writes_nothing():
    product = make_product(price=2000)
    staff = make_staff(superuser=True)
    # ¥6 per unit on a ¥10 flash price: over ¥5 (50 %), though under 50 % of the normal ¥20.
    flash = Promotion(
        kind=PromotionKind.FLASH, name="秒杀", commission_mode="fixed", commission_level1=600, **_window()
    )
    with pytest.raises(RuleExceedsGuard) as caught:
        manage.save_promotion(flash, [PromotionItem(product=product, price=1000)], [], staff)
    assert caught.value.code == GUARD
    assert "¥10.00" in caught.value.message
    assert not Promotion.objects.exists() and not PromotionItem.objects.exists()
    flash.commission_level1 = 400  # + 5 % of ¥10 = ¥4.50 ≤ ¥5
    manage.save_promotion(flash, [PromotionItem(product=product, price=1000)], [], staff)


def test_a_percent_off_item_is_weighed_at_its_discounted_price():
    product = make_product(price=2000)
    flash = Promotion(
        kind=PromotionKind.FLASH, name="五折", commission_mode="fixed", commission_level1=500, **_window()
    )
    with pytest.raises(RuleExceedsGuard):  # 50 % off ¥20 = ¥10: ¥5 + 5 % = ¥5.50 > ¥5
        manage.save_promotion(flash, [PromotionItem(product=product, discount_bp=5000)], [], None)


def test_saving_a_spend_promotion_with_rates_over_the_guard_writes_nothing():
    spend = Promotion(
        kind=PromotionKind.SPEND, name="满减", commission_mode="rate", commission_level1=4600, **_window()
    )
    with pytest.raises(RuleExceedsGuard):
        manage.save_promotion(spend, [], [SpendTier(threshold=10000, reduction=1000)], None)
    assert not Promotion.objects.exists() and not SpendTier.objects.exists()
