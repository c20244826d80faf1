"""Demo distribution: settings, three grades, rules, a two-level distributor tree with bound
buyers, then (after the orders) commission in every state, settlement and withdrawals.

Set up before the orders are placed, so the orders' attribution and commission come from
the real checkout and payment hooks.
"""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from fenxiao.catalog.models import Category, Product
from fenxiao.distribution.models import (
    Commission,
    CommissionRule,
    CommissionStatus,
    DistributorGrade,
    RuleKind,
    SalesTier,
    Touch,
    TouchSource,
)
from fenxiao.distribution.services import (
    agreement,
    binding,
    config,
    distributors,
    grades,
    payouts,
    settlement,
    withdrawals,
)
from fenxiao.orders.models import Order

from .people import People

GRADES = [
    # name, weight, default, level 1 bp, level 2 bp, team bp, conditions, logic
    ("普通", 10, True, None, None, 0, {}, "all"),
    # Reached by sales, never by team size: a higher rate for recruiting is what 合规概览 flags.
    ("高级", 20, False, 1200, 600, 0, {"min_own_sales": 100_000, "min_team_sales": 300_000}, "any"),
    ("金牌", 30, False, 1500, 800, 200, {"min_own_sales": 500_000, "min_team_sales": 1_000_000}, "all"),
]


def setup_distribution(people: People) -> dict:
    admin = people.admin
    config.update_settings(
        admin,
        levels=2,
        enable_mode="apply",
        review_mode="manual",
        require_real_name=True,
        bind_mode="first",
        self_purchase=False,
        level1_bp=1000,
        level2_bp=500,
        max_commission_bp=5000,
        freeze_days=7,
        settlement_mode="auto",
        settlement_cycle="daily",
        withdraw_min=1000,
        withdraw_max=500_000,
        withdraw_fee_bp=0,
        withdraw_limit=3,
        withdraw_period="monthly",
        withdraw_methods=["wechat", "alipay", "bank", "store_credit"],
        agreement_text=agreement.DEFAULT_TEXT,
        agreement_required=True,
    )
    made = {}
    for name, weight, default, l1, l2, team, conditions, logic in GRADES:
        made[name] = config.save_grade(
            DistributorGrade(
                name=name,
                weight=weight,
                is_default=default,
                level1_bp=l1,
                level2_bp=l2,
                team_bp=team,
                logic=logic,
                **conditions,
            )
        )
    config.save_tier(SalesTier(threshold=1_000_000, bonus_bp=200))
    beauty = Category.objects.filter(name="美妆个护", parent__isnull=True).first()
    if beauty:
        config.save_rule(
            CommissionRule(name="美妆个护高佣", category=beauty, kind=RuleKind.RATE, level1=1500, level2=500)
        )
    star = Product.objects.filter(is_listed=True).order_by("-price").first()
    if star:
        config.save_rule(
            CommissionRule(
                name=f"{star.name[:20]}固定佣金",
                product=star,
                kind=RuleKind.FIXED,
                level1=min(2000, star.price // 10),
                level2=min(800, star.price // 25),
            )
        )

    # The tree: A (金牌, designated) recruits B, B recruits C. D is bound to B and E
    # (bound to C) has applied and awaits review.
    a_user, b_user, c_user, d_user, e_user = people.buyers[:5]
    a = distributors.designate(a_user, admin, grade=made["金牌"])
    binding.record_touch(b_user, a, TouchSource.LINK, target="/")
    b = distributors.designate(b_user, admin, grade=made["高级"])
    binding.record_touch(c_user, b, TouchSource.POSTER, target="/")
    c = distributors.designate(c_user, admin)
    binding.record_touch(d_user, b, TouchSource.QR, target="/")
    binding.record_touch(e_user, c, TouchSource.LINK, target="/")
    # A has agreed to the terms since; B and C (designated) are asked on their 分销中心.
    agreement.agree(a, agreement.current().version)
    distributors.apply(
        e_user,
        real_name="刘思琪",
        note="想把喜欢的零食分享给同事",
        agreed_version=agreement.current().version,
    )
    return {"a": a, "b": b, "c": c}


def finish_distribution(people: People, tree: dict) -> None:
    """After the backdated orders: commission times follow the orders, then settle."""
    for order in Order.objects.filter(commissions__isnull=False).distinct():
        Commission.objects.filter(order=order).update(created_at=order.paid_at or F("created_at"))
        if order.completed_at:
            Commission.objects.filter(order=order, status=CommissionStatus.FROZEN).update(
                frozen_until=config.hold_until(order.completed_at)
            )
    Touch.objects.update(created_at=timezone.now() - timedelta(days=35))
    settlement.settle_due()
    grades.upgrade()
    _withdrawals(people, tree)
    _held_for_review(people, tree)
    _missing_order_claim(tree)


def _withdrawals(people: People, tree: dict) -> None:
    from fenxiao.distribution.services.ledger import balance

    a, b = tree["a"], tree["b"]
    paid_out = balance(a.pk) // 2
    if paid_out >= 1000:
        done = withdrawals.request(
            a,
            amount=paid_out,
            method="alipay",
            account={"name": "林晓雨", "account": "linxiaoyu@example.com"},
        )
        withdrawals.approve(done, people.finance)
        payouts.execute_payout(done.pk)  # the worker would do this moments later
    waiting = min(balance(b.pk), 5000)
    if waiting >= 1000:
        withdrawals.request(
            b,
            amount=waiting,
            method="bank",
            account={"name": "陈浩", "bank": "招商银行上海张江支行", "account": "6214 8301 2345 6789"},
        )


def _held_for_review(people: People, tree: dict) -> None:
    """风控审核 opens on a real case: D, bound to B, has an order delivered to B's own phone
    and address, so the guards hold B's commission on it for the merchant's review."""
    from fenxiao.customers.services.addresses import save_address
    from fenxiao.orders.services.checkout import place_order

    from .orders import pay_in_sandbox

    b, d_user = tree["b"], people.buyers[3]
    recipient = b.user.addresses.order_by("id").first()
    fields = ("recipient", "phone", "province", "city", "district", "detail")
    address = save_address(d_user, {name: getattr(recipient, name) for name in fields})
    sku = Product.objects.filter(is_listed=True).order_by("price").first().skus.order_by("id").first()
    pay_in_sandbox(place_order(d_user, [(sku.pk, 2)], address_id=address.pk))


def _missing_order_claim(tree: dict) -> None:
    """掉单申诉 opens on a real case: C says a recent order nobody was paid on came through
    their poster; the buyer had indeed arrived through C before."""
    from fenxiao.distribution.services import claims

    c = tree["c"]
    recent = timezone.now() - timedelta(days=claims.CLAIM_DAYS - 1)
    order = (
        Order.objects.filter(paid_at__gte=recent, attribution__isnull=True, refunded_amount=0)
        .exclude(buyer=c.user)
        .order_by("-paid_at")
        .first()
    )
    if order is None:
        return
    touch = binding.record_touch(order.buyer, c, TouchSource.POSTER)
    if touch is not None:  # before the order, as the buyer says it happened
        Touch.objects.filter(pk=touch.pk).update(created_at=order.paid_at - timedelta(hours=2))
    claims.file(
        c,
        order_number=order.number,
        phone_tail=order.buyer.phone[-4:],
        reason="客户是在门店扫了我的海报进入商城的，付款时没有显示我的推荐",
    )
