"""Demo promotions, running from the moment the demo loads, so the home page has a 限时抢购
block, the cart its "再买 ¥N 可减 ¥M", the coupon center coupons to claim and the group page
an open group.

What the first banner promises ("满 99 包邮 · 新品 8 折起") is what runs: a 满减 with free
shipping from ¥99 and two reductions, and a flash sale of the newest products from 20 % off.
The second banner's "耳机配件低至 5 折" is the limited 秒杀. Windows are relative to the load
(weeks long), so a demo started today still has its promotions running next week.

Made after the demo orders, which are backdated to before any promotion started; the one
group-buy order is placed and paid now, through checkout and the sandbox, like the others.
"""

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from fenxiao.catalog.models import Category, Product
from fenxiao.orders.services.checkout import place_order
from fenxiao.orders.services.promotions_port import Choice
from fenxiao.promotions.models import (
    CommissionMode,
    Coupon,
    CouponKind,
    Promotion,
    PromotionItem,
    PromotionKind,
    Scope,
    SpendTier,
)
from fenxiao.promotions.services import coupons

from .orders import pay_in_sandbox
from .people import People

NEW_ARRIVALS = [("全棉四件套", 2000), ("天然乳胶护颈枕", 2000), ("可折叠布艺收纳箱 三只装", 2500)]
FLASH_DEAL = "编织快充数据线 双Type-C"  # 5 折, limited stock, one per buyer
FLASH_QUOTA = 50
GROUP_PRODUCT = "316不锈钢保温杯"
GROUP_PRICE = 5900


def create_promotions(people: People) -> None:
    now = timezone.now()
    _spend(now)
    _flash(now)
    _coupons(now, people)
    _group(now, people)


def _window(now, days: int) -> dict:
    return {"starts_at": now - timedelta(hours=2), "ends_at": now + timedelta(days=days)}


def _product(name: str) -> Product:
    return Product.objects.get(name=name)


def _spend(now) -> None:
    promotion = Promotion.objects.create(
        kind=PromotionKind.SPEND, name="冬季焕新季", scope=Scope.SHOP, stackable=True, **_window(now, 30)
    )
    SpendTier.objects.bulk_create(
        [
            SpendTier(promotion=promotion, threshold=9900, reduction=0, free_shipping=True),
            SpendTier(promotion=promotion, threshold=20000, reduction=1500, free_shipping=True),
            SpendTier(promotion=promotion, threshold=30000, reduction=3000, free_shipping=True),
        ]
    )


def _flash(now) -> None:
    arrivals = Promotion.objects.create(kind=PromotionKind.FLASH, name="新品尝鲜 8折起", **_window(now, 14))
    PromotionItem.objects.bulk_create(
        PromotionItem(promotion=arrivals, product=_product(name), discount_bp=off)
        for name, off in NEW_ARRIVALS
    )
    # The 秒杀 lines are sold at cost: they earn no commission.
    deal = Promotion.objects.create(
        kind=PromotionKind.FLASH,
        name="数码好物节 限量秒杀",
        per_buyer_limit=1,
        commission_mode=CommissionMode.EXCLUDE,
        **_window(now, 7),
    )
    product = _product(FLASH_DEAL)
    stock = product.skus.filter(is_active=True).aggregate(n=Sum("stock"))["n"] or 0
    PromotionItem.objects.create(
        promotion=deal, product=product, discount_bp=5000, quota=min(FLASH_QUOTA, stock)
    )


def _coupons(now, people: People) -> None:
    until = now + timedelta(days=30)
    welcome = Coupon.objects.create(
        name="新人专享券",
        kind=CouponKind.FIXED,
        amount=1000,
        min_spend=9900,
        valid_until=until,
        valid_days=7,
        total_quantity=1000,
        per_buyer_limit=1,
    )
    snacks = Coupon.objects.create(
        name="零食茶饮9折券",
        kind=CouponKind.PERCENT,
        discount_bp=1000,
        max_discount=2000,
        min_spend=5000,
        scope=Scope.CATEGORIES,
        valid_until=until,
        valid_days=15,
        total_quantity=500,
        per_buyer_limit=1,
    )
    snacks.categories.set(Category.objects.filter(name="食品生鲜", parent__isnull=True))
    # One buyer has claimed one already, so 我的优惠券 is not empty.
    coupons.claim(people.buyers[0], welcome.pk)


def _group(now, people: People) -> None:
    product = _product(GROUP_PRODUCT)
    promotion = Promotion.objects.create(
        kind=PromotionKind.GROUP,
        name="两人拼团 保温杯",
        group_size=2,
        group_hours=48,
        commission_mode=CommissionMode.RATE,
        commission_level1=800,
        commission_level2=300,
        **_window(now, 30),
    )
    PromotionItem.objects.create(promotion=promotion, product=product, price=GROUP_PRICE)
    # 老王 (bound to a distributor) opened a group and paid; it waits for a second member.
    leader = people.buyers[3]
    sku = product.skus.filter(is_active=True, stock__gt=0).order_by("code").first()
    order = place_order(
        leader,
        [(sku.pk, 1)],
        address_id=leader.addresses.order_by("id").first().pk,
        note="拼团给家里人也带一个",
        choice=Choice(group_promotion=promotion.pk),
    )
    pay_in_sandbox(order)
