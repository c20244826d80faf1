"""Commission on promoted lines, to the fen: a promotion's own rates (rule priority 1), and
a base that is what the line actually paid after the flash price, 满减 and coupon."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fenxiao.distribution.models import Commission, CommissionRule, SalesTier
from fenxiao.distribution.services import config, dashboard
from fenxiao.distribution.services.explain import explain_order
from fenxiao.distribution.tests.helpers import (
    amounts,
    bound_buyer,
    commission,
    line,
    make_distributor,
    pay,
    place,
    sku,
    staff_refund,
    superuser,
)
from fenxiao.orders.models import OrderDiscount
from fenxiao.testing import login, make_product

from .factories import give_coupon, make_coupon, make_flash, make_spend

pytestmark = pytest.mark.django_db

# Distribution defaults unless a test says otherwise: level 1 = 10%, level 2 = 5%,
# guard (max_commission_bp) = 50%. The buyer is bound to `b`, whose parent is `a`.


@pytest.fixture
def chain():
    a = make_distributor()
    b = make_distributor(parent=a)
    return a, b, bound_buyer(b)


def test_a_flash_sale_rate_replaces_the_normal_rules_on_what_the_line_paid(chain):
    a, b, buyer = chain
    lamp = make_product("台灯", price=9900)
    make_flash(
        lamp,
        price=5900,
        name="双12秒杀",
        commission_mode="rate",
        commission_level1=800,
        commission_level2=300,
    )
    order = pay(place(buyer, (sku(lamp), 2)))

    # Paid 2 × 59.00 = 118.00 (not 198.00). Level 1: 8% = 9.44; level 2: 3% = 3.54.
    assert amounts(order) == {(0, 1): 944, (0, 2): 354}
    one = commission(order, 1)
    assert (one.base, one.rule_source, one.rule_id, one.rule_version, one.rule_name) == (
        11800,
        "promotion",
        None,
        0,
        "双12秒杀",
    )
    assert one.rate_bp == 800
    why = dashboard.why(one)
    assert "活动「双12秒杀」佣金 8%" in why
    assert "原价 ¥99.00 × 2件 = ¥198.00" in why
    assert "限时折扣「双12秒杀」 ¥59.00/件，小计 ¥118.00" in why
    assert why.endswith("= ¥9.44")


def test_a_fixed_amount_per_unit_and_a_level_left_empty_falls_through_to_the_default(chain):
    a, b, buyer = chain
    cup = make_product("杯子", price=5000)
    make_flash(cup, price=3333, commission_mode="fixed", commission_level1=500)
    order = pay(place(buyer, (sku(cup), 3)))

    # Paid 3 × 33.33 = 99.99. Level 1: ¥5.00 × 3 = 15.00; level 2 is not set by the
    # promotion, so the default 5% decides: 4.9995 → 4.99.
    assert amounts(order) == {(0, 1): 1500, (0, 2): 499}
    assert (commission(order, 1).rule_source, commission(order, 1).fixed_per_unit) == ("promotion", 500)
    assert commission(order, 2).rule_source == "default"
    assert "活动「限时秒杀」佣金 ¥5.00/件 × 3件" in dashboard.why(commission(order, 1))


def test_an_empty_level_falls_through_to_the_product_rule(chain):
    a, b, buyer = chain
    pen = make_product("钢笔", price=10000)
    config.save_rule(CommissionRule(name="钢笔专享", product=pen, level1=700, level2=100))
    make_flash(pen, price=8000, commission_mode="rate", commission_level2=200)
    order = pay(place(buyer, (sku(pen), 1)))

    # Paid 80.00. Level 1 (not set by the promotion): product rule 7% = 5.60; level 2: 2% = 1.60.
    assert amounts(order) == {(0, 1): 560, (0, 2): 160}
    assert (commission(order, 1).rule_source, commission(order, 1).rule_name) == ("product", "钢笔专享")
    assert (commission(order, 2).rule_source, commission(order, 2).rule_name) == ("promotion", "限时秒杀")


def test_excluded_lines_pay_nothing_not_even_the_tier_bonus_and_say_why(chain):
    a, b, buyer = chain
    config.save_tier(SalesTier(threshold=0, bonus_bp=200))
    gift, book = make_product("礼盒", price=10000), make_product("图书", price=5000)
    make_flash(gift, price=6000, name="清仓特卖", commission_mode="exclude")
    order = pay(place(buyer, (sku(gift), 1), (sku(book), 1)))

    # Only the book earns: level 1 10% + 2% tier bonus = 6.00; level 2 5% = 2.50.
    assert amounts(order) == {(1, 1): 600, (1, 2): 250}
    notes = explain_order(order).notes
    assert any("礼盒" in n and "营销活动“清仓特卖”（不计佣金）" in n for n in notes)


def test_the_guard_still_caps_a_promotion_amount(chain):
    a, b, buyer = chain
    tea = make_product("茶叶", price=10000)
    # Saved around the promotion checks: the runtime guard is the last line of defence.
    make_flash(tea, price=10000, commission_mode="fixed", commission_level1=6000)
    order = pay(place(buyer, (sku(tea), 1)))

    # 60.00 + 5% of 100.00 = 65.00 asked, 50% of 100.00 = 50.00 allowed: trimmed from level 2 up.
    one, two = commission(order, 1), commission(order, 2)
    assert (one.amount, one.capped, two.amount, two.capped) == (5000, 1000, 0, 500)
    assert "超出单商品佣金上限，扣减 ¥10.00" in dashboard.why(one)


def _discounted_order(buyer):
    """Lamp (flash, own 8% on level 1) ×2 and vase ×1, then 满200减15, then a ¥10 coupon."""
    lamp, vase = make_product("台灯", price=9900), make_product("花瓶", price=10000)
    make_flash(lamp, price=5900, name="双12秒杀", commission_mode="rate", commission_level1=800)
    make_spend([(20000, 1500)], name="满200减15")
    give_coupon(buyer, make_coupon(amount=1000, name="10元券"))
    return pay(place(buyer, (sku(lamp), 2), (sku(vase), 1)))


def test_the_commission_base_is_what_the_line_paid_after_flash_price_spend_and_coupon(chain):
    a, b, buyer = chain
    order = _discounted_order(buyer)

    # Subtotals 118.00 (flash) and 100.00. 满减 15.00 over 11800 : 10000 = 8.1193… : 6.8807…
    # → 8.12 and 6.88 (largest remainder). The coupon on what is left, 109.88 : 93.12 →
    # 5.4128… : 4.5872… → 5.41 and 4.59. Paid: 104.47 and 88.53.
    assert [(ln.discount_share, ln.paid_amount) for ln in order.lines.order_by("pk")] == [
        (812 + 541, 10447),
        (688 + 459, 8853),
    ]
    assert order.discount_amount == 1500 + 1000
    rows = OrderDiscount.objects.filter(order=order).order_by("line_id", "pk")
    assert [(r.kind, r.amount) for r in rows] == [
        ("flash", 8000),
        ("spend", 812),
        ("coupon", 541),
        ("spend", 688),
        ("coupon", 459),
    ]
    # Lamp: promotion 8% of 104.47 = 8.3576 → 8.35; level 2 not set → default 5% = 5.22.
    # Vase: default 10% of 88.53 = 8.85; 5% = 4.4265 → 4.42.
    assert amounts(order) == {(0, 1): 835, (0, 2): 522, (1, 1): 885, (1, 2): 442}
    assert [c.base for c in Commission.objects.filter(order=order, level=1).order_by("order_line_id")] == [
        10447,
        8853,
    ]
    why = dashboard.why(commission(order, 1, line(order, 0)))
    assert why.startswith("订单商品实付 ¥104.47（原价 ¥99.00 × 2件 = ¥198.00")
    assert "满减「满200减15」-¥8.12，优惠券「10元券」-¥5.41，佣金按实付金额计算" in why


def test_a_partial_refund_of_a_discounted_line_reduces_commission_by_the_fen_it_returns(chain):
    a, b, buyer = chain
    order = _discounted_order(buyer)
    lamp = line(order, 0)

    staff_refund(order, {"line_id": lamp.pk, "quantity": 1}, staff=superuser())

    # One of two units returns its share of what was paid, 104.47 × 1 / 2 → 52.23 — not the
    # flash price (59.00) nor the list price (99.00). 52.24 is still paid:
    # level 1: 8.35 × 5224 / 10447 = 4.175… → 4.17; level 2: 5.22 × 5224 / 10447 = 2.61…→ 2.61.
    assert line(order, 0).refunded_amount == 5223
    one, two = commission(order, 1, lamp), commission(order, 2, lamp)
    assert (one.net_amount, one.reversed_amount) == (417, 835 - 417)
    assert (two.net_amount, two.reversed_amount) == (261, 522 - 261)
    # The other line is untouched.
    assert (
        commission(order, 1, line(order, 1)).net_amount,
        commission(order, 2, line(order, 1)).net_amount,
    ) == (
        885,
        442,
    )
    assert dashboard.why(one).endswith("退款冲减 ¥4.18，实得 ¥4.17")


def test_allocation_remainders_on_a_three_line_order_land_on_the_largest_remainders(chain):
    a, b, buyer = chain
    products = [make_product(price=price) for price in (1001, 2002, 3003)]
    make_spend([(5000, 1000)])
    give_coupon(buyer, make_coupon(amount=100))
    order = pay(place(buyer, *((sku(p), 1) for p in products)))

    # 满减 10.00 over 10.01 : 20.02 : 30.03 = 1.666… : 3.333… : 5.00 → 1.66, 3.33, 5.00 and the
    # one fen left to the largest remainder (line 1): 1.67, 3.33, 5.00.
    # Coupon 1.00 over 8.34 : 16.69 : 25.03 = 0.1666… : 0.3334… : 0.5000… → 0.16, 0.33, 0.50
    # and the fen left to line 1 again: 0.17, 0.33, 0.50.
    rows = OrderDiscount.objects.filter(order=order).order_by("line_id", "pk")
    assert [(r.kind, r.amount) for r in rows] == [
        ("spend", 167),
        ("coupon", 17),
        ("spend", 333),
        ("coupon", 33),
        ("spend", 500),
        ("coupon", 50),
    ]
    paid = [ln.paid_amount for ln in order.lines.order_by("pk")]
    assert paid == [817, 1636, 2453] and sum(paid) == 6006 - 1100
    # Commission rounds down per line: 10% → 81, 163, 245 (489, not 10% of 49.06 = 490.6).
    # 5% → 40.85, 81.8, 122.65 → 40, 81, 122.
    assert amounts(order) == {(0, 1): 81, (1, 1): 163, (2, 1): 245, (0, 2): 40, (1, 2): 81, (2, 2): 122}


def test_the_distributor_and_the_merchant_see_the_promotion_and_the_list_stays_flat(chain):
    a, b, buyer = chain
    order = _discounted_order(buyer)
    page = login(b.user).get("/d/commissions/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "活动「双12秒杀」" in text and "活动「双12秒杀」佣金 8%" in text
    assert "满减「满200减15」-¥8.12" in text

    detail = reverse("admin:distribution_commission_change", args=[commission(order, 1, line(order, 0)).pk])
    admin_page = login(superuser()).get(detail)
    assert admin_page.status_code == 200
    assert "活动「双12秒杀」佣金 8%" in admin_page.content.decode()

    def count():
        browser = login(b.user)
        with CaptureQueriesContext(connection) as queries:
            assert browser.get("/d/commissions/").status_code == 200
        return len(queries)

    few = count()
    for _ in range(4):
        _discounted_order(buyer)
    assert count() == few


def test_share_to_earn_during_a_flash_sale_is_the_promotion_figure():
    """分享赚 on the product page is what a buyer arriving now would bring in: the flash
    price, at the promotion's own commission (default level 1 here is 10%)."""
    product = make_product(price=20000)
    distributor = make_distributor()
    client = login(distributor.user)
    assert "分享赚 <b>¥20.00</b>" in client.get(f"/products/{product.pk}/").content.decode()
    make_flash(product, price=15000, commission_mode="rate", commission_level1=800)
    assert "分享赚 <b>¥12.00</b>" in client.get(f"/products/{product.pk}/").content.decode()
