"""Creating, editing and ending promotions and coupons: every mistake a merchant can make is
refused with a code and a Chinese message, and nothing is written."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.promotions.models import (
    Coupon,
    Promotion,
    PromotionItem,
    PromotionKind,
    SpendTier,
)
from fenxiao.promotions.services import manage
from fenxiao.testing import make_category, make_product, make_staff

from .factories import make_coupon, make_flash

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def counts():
    return (
        Promotion.objects.count(),
        PromotionItem.objects.count(),
        SpendTier.objects.count(),
        Coupon.objects.count(),
        list(PromotionItem.objects.values_list("pk", "price", "discount_bp", "quota", "sold")),
        list(SpendTier.objects.values_list("pk", "threshold", "reduction")),
        list(Coupon.objects.values_list("pk", "name", "amount", "total_quantity", "issued")),
    )


def refused(code, call, *args, **kwargs) -> str:
    before = counts()
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    assert counts() == before
    return caught.value.message


def promotion(kind=PromotionKind.FLASH, starts_in=HOUR, hours=24, **fields):
    starts = timezone.now() + starts_in
    return Promotion(
        kind=kind, name=fields.pop("name", "双12"), starts_at=starts, ends_at=starts + hours * HOUR, **fields
    )


def item(product, **fields):
    return PromotionItem(product=product, **fields)


@pytest.fixture
def staff():
    return make_staff(superuser=True)


@pytest.fixture
def product():
    return make_product(price=9900, stock=50)


# --- windows and kinds ---------------------------------------------------------------------


def test_a_valid_flash_sale_is_saved_with_its_items(staff, product):
    saved = manage.save_promotion(promotion(), [item(product, price=5900, quota=10)], [], staff)
    assert saved.created_by == staff
    assert list(saved.items.values_list("price", "quota", "sold")) == [(5900, 10, 0)]


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"name": " "}, "名称"),
        ({"hours": 0}, "结束时间必须晚于开始时间"),
        ({"starts_in": -3 * HOUR}, "开始时间不能早于当前时间"),
        ({"starts_in": -30 * HOUR, "hours": 24}, "结束时间必须晚于当前时间"),
    ],
)
def test_window_mistakes(staff, product, fields, text):
    message = refused(
        "PROMOTION_INVALID",
        manage.save_promotion,
        promotion(**fields),
        [item(product, price=5900)],
        [],
        staff,
    )
    assert text in message


def test_a_running_promotion_keeps_its_start_and_kind(staff, product):
    running = make_flash(product, price=5900)
    running.starts_at -= HOUR
    assert "开始时间不能早于当前时间" in refused(
        "PROMOTION_INVALID", manage.save_promotion, running, list(running.items.all()), [], staff
    )
    running.refresh_from_db()
    running.kind = PromotionKind.GROUP
    assert "类型" in refused(
        "PROMOTION_INVALID", manage.save_promotion, running, list(running.items.all()), [], staff
    )
    running.refresh_from_db()
    running.name = "改名"
    manage.save_promotion(running, list(running.items.all()), [], staff)  # an unchanged start is fine
    assert Promotion.objects.get(pk=running.pk).name == "改名"


def test_an_ended_promotion_is_read_only_and_ends_once(staff, product):
    flash = make_flash(product, price=5900)
    manage.end_early(flash, staff)
    assert flash.state() == "ended"
    flash.name = "改名"
    refused("PROMOTION_ENDED", manage.save_promotion, flash, list(flash.items.all()), [], staff)
    refused("PROMOTION_ENDED", manage.end_early, flash, staff)


# --- items ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"price": 9900}, "活动价必须低于售价"),
        ({"price": 0}, "活动价必须大于 0"),
        ({}, "二选一"),
        ({"price": 5000, "discount_bp": 1000}, "二选一"),
        ({"discount_bp": 50}, "1%–99%"),
        ({"discount_bp": 9950}, "1%–99%"),
        ({"price": 5000, "quota": 51}, "不能超过商品当前库存 50 件"),
    ],
)
def test_item_mistakes(staff, product, fields, text):
    message = refused(
        "PROMOTION_INVALID", manage.save_promotion, promotion(), [item(product, **fields)], [], staff
    )
    assert text in message


def test_no_items_and_duplicate_items_are_refused(staff, product):
    sku = product.skus.get()
    refused("PROMOTION_INVALID", manage.save_promotion, promotion(), [], [], staff)
    twice = [item(product, price=5000), item(product, sku=sku, price=4000)]
    assert "重复" in refused("PROMOTION_INVALID", manage.save_promotion, promotion(), twice, [], staff)
    twice = [item(product, sku=sku, price=5000), item(product, sku=sku, price=4000)]
    assert "重复" in refused("PROMOTION_INVALID", manage.save_promotion, promotion(), twice, [], staff)
    other = make_product(price=100)
    foreign = [item(product, sku=other.skus.get(), price=50)]
    assert "不属于" in refused("PROMOTION_INVALID", manage.save_promotion, promotion(), foreign, [], staff)


def test_a_product_in_two_overlapping_flash_sales_is_refused(staff, product):
    make_flash(product, price=5900, name="先来的秒杀")
    message = refused(
        "PROMOTION_OVERLAP",
        manage.save_promotion,
        promotion(starts_in=HOUR),
        [item(product, price=5000)],
        [],
        staff,
    )
    assert "先来的秒杀" in message
    # After the other one ends, the same product may be sold again.
    later = promotion(starts_in=30 * HOUR)
    manage.save_promotion(later, [item(product, price=5000)], [], staff)


def test_quota_never_below_what_is_sold_and_sold_items_stay(staff, product):
    flash = make_flash(product, price=5900, quota=20)
    PromotionItem.objects.filter(promotion=flash).update(sold=8)
    current = flash.items.get()
    current.quota = 7
    assert "已售的 8 件" in refused("PROMOTION_INVALID", manage.save_promotion, flash, [current], [], staff)
    other = make_product(price=500)
    assert "不能删除" in refused(
        "PROMOTION_INVALID", manage.save_promotion, flash, [item(other, price=400)], [], staff
    )
    # A higher quota is fine; the sold count the form carried is never written back.
    current.quota, current.sold = 30, 0
    manage.save_promotion(flash, [current], [], staff)
    assert PromotionItem.objects.filter(pk=current.pk).values_list("quota", "sold").get() == (30, 8)


# --- 满减 and 拼团 ---------------------------------------------------------------------------


def tier(threshold, reduction, free_shipping=False):
    return SpendTier(threshold=threshold, reduction=reduction, free_shipping=free_shipping)


@pytest.mark.parametrize(
    "tiers, fields, text",
    [
        ([], {}, "至少设置一个"),
        ([tier(10000, 10000)], {}, "必须小于门槛"),
        ([tier(10000, 1000), tier(10000, 2000)], {}, "重复"),
        ([tier(10000, 0)], {}, "减免金额或勾选包邮"),
        ([tier(10000, 1000), tier(20000, 3000)], {"repeat": True}, "只能设置一个档位"),
        ([tier(10000, 1000)], {"scope": "categories"}, "至少选择一个分类"),
        ([tier(10000, 1000)], {"scope": "products"}, "至少选择一个商品"),
    ],
)
def test_spend_mistakes(staff, tiers, fields, text):
    spend = promotion(PromotionKind.SPEND, **fields)
    assert text in refused("PROMOTION_INVALID", manage.save_promotion, spend, [], tiers, staff)


def test_a_spend_promotion_is_saved_with_its_tiers_and_scope(staff):
    category = make_category("食品")
    spend = promotion(PromotionKind.SPEND, scope="categories")
    manage.save_promotion(
        spend, [], [tier(20000, 1500), tier(30000, 3000, True)], staff, categories=[category]
    )
    assert list(spend.tiers.values_list("threshold", "reduction", "free_shipping")) == [
        (20000, 1500, False),
        (30000, 3000, True),
    ]
    assert list(spend.categories.all()) == [category]


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"group_size": 1}, "成团人数"),
        ({"group_size": 101}, "成团人数"),
        ({"group_hours": 0}, "成团时限"),
        ({"group_hours": 721}, "成团时限"),
        ({"per_buyer_limit": 10_000}, "每人限购不能超过 9999 件"),
    ],
)
def test_group_mistakes(staff, product, fields, text):
    group = promotion(PromotionKind.GROUP, **fields)
    assert text in refused(
        "PROMOTION_INVALID", manage.save_promotion, group, [item(product, price=5000)], [], staff
    )


# --- commission ----------------------------------------------------------------------------


def test_commission_needs_a_level_and_rates_at_most_100_percent(staff, product):
    empty = promotion(commission_mode="rate")
    assert "至少填写一个层级" in refused(
        "PROMOTION_INVALID", manage.save_promotion, empty, [item(product, price=5000)], [], staff
    )
    over = promotion(commission_mode="rate", commission_level1=10001)
    refused("PROMOTION_INVALID", manage.save_promotion, over, [item(product, price=5000)], [], staff)


def test_normal_or_excluded_commission_keeps_no_levels(staff, product):
    excluded = promotion(commission_mode="exclude", commission_level1=500)
    manage.save_promotion(excluded, [item(product, price=5000)], [], staff)
    excluded.refresh_from_db()
    assert excluded.commission_level1 is None


# --- coupons -------------------------------------------------------------------------------


def coupon(**fields):
    defaults = {"name": "店铺券", "kind": "fixed", "amount": 1000, "min_spend": 5000, "valid_days": 7}
    return Coupon(**{**defaults, **fields})


@pytest.mark.parametrize(
    "fields, text",
    [
        ({"name": ""}, "券名称"),
        ({"amount": 0}, "面额"),
        ({"amount": 6000}, "使用门槛不能低于面额"),
        ({"kind": "percent", "amount": 0, "discount_bp": 0}, "1%–99%"),
        ({"kind": "percent", "discount_bp": 10000}, "1%–99%"),
        ({"valid_days": None}, "有效期"),
        ({"valid_days": 0}, "有效天数"),
        (
            {"valid_days": None, "valid_from": timezone.now() + HOUR, "valid_until": timezone.now()},
            "晚于开始时间",
        ),
        ({"valid_days": None, "valid_until": timezone.now() - HOUR}, "晚于当前时间"),
        ({"scope": "products"}, "至少选择一个商品"),
        ({"total_quantity": 100_000_001}, "发行量不能超过 100,000,000 张"),
        ({"per_buyer_limit": 1000}, "每人限领不能超过 999 张"),
    ],
)
def test_coupon_mistakes(staff, fields, text):
    assert text in refused("COUPON_INVALID", manage.save_coupon, coupon(**fields), staff)


def test_a_percent_coupon_is_saved_with_its_cap(staff):
    saved = manage.save_coupon(coupon(kind="percent", amount=0, discount_bp=1000, max_discount=2000), staff)
    saved.refresh_from_db()
    assert (saved.discount_bp, saved.max_discount, saved.amount) == (1000, 2000, 0)


def test_coupon_quantity_never_below_issued_and_issued_is_never_overwritten(staff):
    existing = make_coupon(amount=1000, min_spend=5000, valid_days=7, total_quantity=100)
    Coupon.objects.filter(pk=existing.pk).update(issued=40)
    existing.total_quantity = 39
    assert "已发放的 40 张" in refused("COUPON_INVALID", manage.save_coupon, existing, staff)
    existing.total_quantity, existing.issued = 50, 0  # a stale copy from the form
    manage.save_coupon(existing, staff)
    assert Coupon.objects.filter(pk=existing.pk).values_list("total_quantity", "issued").get() == (50, 40)


def test_the_largest_limits_allowed_are_saved(staff, product):
    flash = manage.save_promotion(promotion(per_buyer_limit=9_999), [item(product, price=5000)], [], staff)
    assert Promotion.objects.get(pk=flash.pk).per_buyer_limit == 9_999
    saved = manage.save_coupon(coupon(total_quantity=100_000_000, per_buyer_limit=999), staff)
    saved.refresh_from_db()
    assert (saved.total_quantity, saved.per_buyer_limit) == (100_000_000, 999)
