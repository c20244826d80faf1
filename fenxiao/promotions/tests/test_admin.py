"""The promotions backend as the merchant uses it: lists by state, one form per kind typed in
yuan and %, ending early, issuing coupons to pasted phone numbers, and each promotion's
figures to the fen. Works for a superuser and for staff holding only the promotions
permissions."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.tests.helpers import bound_buyer, full_refund, make_distributor, receive
from fenxiao.orders.models import Order
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.checkout import place_order
from fenxiao.promotions.models import (
    BuyerCoupon,
    Coupon,
    CouponIssue,
    GroupBuy,
    GroupMember,
    Promotion,
    PromotionItem,
    SpendTier,
)
from fenxiao.promotions.services import manage
from fenxiao.promotions.services.figures import promotion_figures
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox

from .factories import make_coupon, make_flash, make_group, make_spend

pytestmark = pytest.mark.django_db


def url(name, *args, **query):
    path = reverse(f"admin:promotions_{name}", args=args)
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def texts(reply) -> list[str]:
    return [str(m) for m in get_messages(reply.wsgi_request)]


@pytest.fixture(params=["superuser", "marketing"])
def boss(request) -> Client:
    if request.param == "superuser":
        user = make_staff("boss", superuser=True)
    else:
        user = make_staff("marketing")
        user.user_permissions.set(Permission.objects.filter(content_type__app_label="promotions"))
    client = Client()
    client.force_login(user)
    return client


def when(value) -> dict:
    local = timezone.localtime(value)
    return {"0": f"{local:%Y-%m-%d}", "1": f"{local:%H:%M:%S}"}


def window(starts_in=timedelta(hours=1), hours=48) -> dict:
    starts = timezone.now() + starts_in
    data = {}
    for name, value in (("starts_at", starts), ("ends_at", starts + timedelta(hours=hours))):
        for suffix, text in when(value).items():
            data[f"{name}_{suffix}"] = text
    return data


def inline(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


COMMISSION_NORMAL = {"commission_mode": "normal"}


# --- lists and pages -----------------------------------------------------------------------


def test_list_by_state_and_every_page_loads(boss):
    product = make_product(price=9900)
    running = make_flash(product, price=5900, name="进行中的秒杀")
    upcoming = make_spend([(20000, 1500)], name="下周满减", starts_in=timedelta(days=7))
    ended = make_group(
        make_product(), price=100, name="上月拼团", starts_in=timedelta(days=-30), window_hours=24
    )
    coupon = make_coupon(amount=1000, min_spend=5000, valid_days=7, name="新人券")
    group = GroupBuy.objects.create(
        promotion=running, item=running.items.get(), leader=make_buyer(), size=2, deadline=timezone.now()
    )
    GroupMember.objects.create(group=group, buyer=group.leader, is_leader=True)

    everything = boss.get(url("promotion_changelist")).content.decode()
    assert all(p.name in everything for p in (running, upcoming, ended))
    for state, shown, hidden in (
        ("running", running, upcoming),
        ("upcoming", upcoming, ended),
        ("ended", ended, running),
    ):
        page = boss.get(url("promotion_changelist", state=state)).content.decode()
        assert shown.name in page and hidden.name not in page, state
    assert upcoming.name in boss.get(url("promotion_changelist", kind__exact="spend")).content.decode()

    for path in (
        url("promotion_add", kind="flash"),
        url("promotion_add", kind="spend"),
        url("promotion_add", kind="group"),
        url("promotion_change", running.pk),
        url("promotion_change", upcoming.pk),
        url("promotion_change", ended.pk),
        url("promotion_end_now", running.pk),
        url("coupon_changelist"),
        url("coupon_add"),
        url("coupon_change", coupon.pk),
        url("coupon_issue_to_buyers", coupon.pk),
        url("couponissue_changelist"),
        url("groupbuy_changelist"),
        url("groupbuy_change", group.pk),
    ):
        assert boss.get(path).status_code == 200, path
    # An ended promotion is shown read only, without 提前结束.
    ended_page = boss.get(url("promotion_change", ended.pk)).content.decode()
    assert 'name="_save"' not in ended_page and url("promotion_end_now", ended.pk) not in ended_page
    assert "¥1.00" in ended_page and "Rate1" not in ended_page  # amounts in ¥, labels in Chinese


def test_list_queries_do_not_grow_with_rows(boss, django_assert_max_num_queries):
    product = make_product()
    for n in range(3):
        make_spend([(10000 + n, 100)], name=f"满减{n}")
    boss.get(url("promotion_changelist"))
    with django_assert_max_num_queries(20) as few:
        boss.get(url("promotion_changelist"))
    for n in range(12):
        make_flash(make_product(), price=100, name=f"秒杀{n}")
    make_flash(product, price=100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        boss.get(url("promotion_changelist"))


# --- create and edit per kind --------------------------------------------------------------


def test_create_a_flash_sale_in_yuan_and_percent(boss):
    cheap, other = make_product(price=9900, stock=30), make_product(price=2000, stock=30)
    data = {
        "name": "双12秒杀",
        **window(),
        "per_buyer_limit": "2",
        "commission_mode": "rate",
        "rate1": "12.5",
        "rate2": "",
        "rate3": "",
        **inline(
            "items",
            [
                {"product": cheap.pk, "sku_code": "", "price": "59.90", "discount_bp": "", "quota": "10"},
                {"product": other.pk, "sku_code": other.skus.get().code, "price": "", "discount_bp": "15"},
            ],
        ),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_add", kind="flash"), data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    flash = Promotion.objects.get(name="双12秒杀")
    assert (flash.kind, flash.per_buyer_limit, flash.commission_mode, flash.commission_level1) == (
        "flash",
        2,
        "rate",
        1250,
    )
    assert list(flash.items.values_list("product_id", "sku_id", "price", "discount_bp", "quota")) == [
        (cheap.pk, None, 5990, None, 10),
        (other.pk, other.skus.get().pk, None, 1500, None),
    ]


def test_a_refused_form_shows_the_reason_and_writes_nothing(boss):
    product = make_product(price=9900)
    data = {
        "name": "太便宜",
        **window(),
        "per_buyer_limit": "0",
        **COMMISSION_NORMAL,
        **inline("items", [{"product": product.pk, "price": "99.00", "quota": ""}]),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_add", kind="flash"), data)
    assert reply.status_code == 200
    assert "活动价必须低于售价 ¥99.00" in reply.content.decode()
    assert not Promotion.objects.exists() and not PromotionItem.objects.exists()
    # Over the commission guard: refused the same way.
    data.update({"items-0-price": "10.00", "commission_mode": "rate", "rate1": "60"})
    reply = boss.post(url("promotion_add", kind="flash"), data)
    assert reply.status_code == 200 and "单商品佣金上限" in reply.content.decode()
    assert not Promotion.objects.exists()


def test_create_a_spend_promotion_with_tiers_in_yuan(boss):
    data = {
        "name": "满200减15",
        **window(),
        "scope": "shop",
        "stackable": "on",
        **COMMISSION_NORMAL,
        **inline(
            "tiers",
            [
                {"threshold": "200", "reduction": "15"},
                {"threshold": "300.00", "reduction": "30", "free_shipping": "on"},
            ],
        ),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_add", kind="spend"), data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    spend = Promotion.objects.get(name="满200减15")
    assert (spend.kind, spend.stackable, spend.repeat) == ("spend", True, False)
    assert list(spend.tiers.values_list("threshold", "reduction", "free_shipping")) == [
        (20000, 1500, False),
        (30000, 3000, True),
    ]


def test_create_a_group_buy_and_edit_it(boss):
    product = make_product(price=9900, stock=20)
    data = {
        "name": "两人拼团",
        **window(),
        "per_buyer_limit": "1",
        "group_size": "3",
        "group_hours": "24",
        "commission_mode": "fixed",
        "fixed1": "5.00",
        **inline("items", [{"product": product.pk, "price": "69", "quota": "20"}]),
        "_save": "保存",
    }
    assert boss.post(url("promotion_add", kind="group"), data).status_code == 302
    group = Promotion.objects.get(name="两人拼团")
    assert (group.kind, group.group_size, group.group_hours, group.commission_level1) == ("group", 3, 24, 500)
    item = group.items.get()
    assert (item.price, item.quota) == (6900, 20)

    data.update(
        {
            "name": "三人拼团",
            **inline(
                "items", [{"id": item.pk, "promotion": group.pk, "product": product.pk, "price": "65.5"}], 1
            ),
        }
    )
    data["items-0-quota"] = "15"
    reply = boss.post(url("promotion_change", group.pk), data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    item.refresh_from_db()
    assert (Promotion.objects.get(pk=group.pk).name, item.price, item.quota) == ("三人拼团", 6550, 15)


def test_edit_a_running_flash_sale_as_its_form_shows_it(boss):
    product = make_product(price=9900, stock=30)
    flash = make_flash(product, price=5900, quota=10, name="进行中")
    item = flash.items.get()
    PromotionItem.objects.filter(pk=item.pk).update(sold=4)
    start, end = when(flash.starts_at), when(flash.ends_at)
    data = {
        "name": "进行中（加量）",
        # The page shows times to the minute; the start sent back unchanged is kept as saved.
        "starts_at_0": start["0"],
        "starts_at_1": start["1"][:5],
        "ends_at_0": end["0"],
        "ends_at_1": end["1"][:5],
        "per_buyer_limit": "0",
        **COMMISSION_NORMAL,
        **inline(
            "items",
            [{"id": item.pk, "promotion": flash.pk, "product": product.pk, "price": "59", "quota": "20"}],
            1,
        ),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_change", flash.pk), data)
    assert reply.status_code == 302, reply.content.decode()[:3000]
    saved = Promotion.objects.get(pk=flash.pk)
    assert (saved.name, saved.starts_at) == ("进行中（加量）", flash.starts_at)
    assert PromotionItem.objects.filter(pk=item.pk).values_list("quota", "sold").get() == (20, 4)

    data["items-0-quota"] = "3"  # below the 4 sold
    reply = boss.post(url("promotion_change", flash.pk), data)
    assert reply.status_code == 200 and "不能少于已售的 4 件" in reply.content.decode()
    assert PromotionItem.objects.get(pk=item.pk).quota == 20


def test_end_early(boss):
    flash = make_flash(make_product(), price=100)
    assert boss.get(url("promotion_end_now", flash.pk)).status_code == 200
    reply = boss.post(url("promotion_end_now", flash.pk), {})
    assert reply.status_code == 302
    flash.refresh_from_db()
    assert flash.state() == "ended"
    assert any("已结束" in t for t in texts(reply))
    assert "提前结束）" in boss.get(url("promotion_change", flash.pk)).content.decode()
    # Ending it again is refused with a message, never a 500.
    again = boss.post(url("promotion_end_now", flash.pk), {})
    assert again.status_code == 302 and texts(again) == ["活动已结束"]


# --- coupons -------------------------------------------------------------------------------


def test_create_coupons_in_yuan_and_percent(boss):
    base = {
        "is_active": "on",
        "claimable": "on",
        "scope": "shop",
        "total_quantity": "100",
        "per_buyer_limit": "1",
    }
    reply = boss.post(
        url("coupon_add"),
        {
            **base,
            "name": "满50减10",
            "kind": "fixed",
            "amount": "10",
            "min_spend": "50.00",
            "valid_days": "7",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:3000]
    fixed = Coupon.objects.get(name="满50减10")
    assert (fixed.amount, fixed.min_spend, fixed.valid_days) == (1000, 5000, 7)

    until = when(timezone.now() + timedelta(days=30))
    reply = boss.post(
        url("coupon_add"),
        {
            **base,
            "name": "九折券",
            "kind": "percent",
            "discount_bp": "10",
            "max_discount": "20",
            "valid_until_0": until["0"],
            "valid_until_1": until["1"],
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:3000]
    percent = Coupon.objects.get(name="九折券")
    assert (percent.discount_bp, percent.max_discount, percent.amount) == (1000, 2000, 0)

    reply = boss.post(
        url("coupon_add"),
        {**base, "name": "门槛太低", "kind": "fixed", "amount": "10", "min_spend": "5", "valid_days": "7"},
    )
    assert reply.status_code == 200 and "使用门槛不能低于面额" in reply.content.decode()
    assert not Coupon.objects.filter(name="门槛太低").exists()


def test_issue_a_coupon_to_pasted_phones_and_see_the_log(boss):
    coupon = make_coupon(amount=1000, min_spend=5000, valid_days=7, total_quantity=2, name="回馈券")
    first, second, third = make_buyer(), make_buyer(), make_buyer()
    # The second typed on a full-width keyboard, in groups: the same buyer.
    typed = "".join(chr(0xFF10 + int(d)) for d in second.phone)
    second_typed = f"{typed[:3]}－{typed[3:7]}　{typed[7:]}"
    pasted = f"{first.phone}\n {second_typed} \n\n{third.phone}\n13000000000\n{first.phone}"
    reply = boss.post(url("coupon_issue_to_buyers", coupon.pk), {"phones": pasted, "note": "老客回馈"})
    assert reply.status_code == 302
    assert texts(reply) == ["已发放 2 张（共 3 位买家），1 位已达领取上限或券已发完，1 个手机号未注册已跳过"]
    assert BuyerCoupon.objects.filter(coupon=coupon).count() == 2
    log = CouponIssue.objects.get()
    assert (log.requested, log.issued, log.note) == (3, 2, "老客回馈")
    page = boss.get(url("couponissue_changelist")).content.decode()
    assert "回馈券" in page and "老客回馈" in page
    listing = boss.get(url("coupon_changelist")).content.decode()
    assert "2 / 2" in listing

    bad = boss.post(url("coupon_issue_to_buyers", coupon.pk), {"phones": "12345"})
    assert bad.status_code == 200 and "手机号格式有误" in bad.content.decode()
    assert CouponIssue.objects.count() == 1


# --- figures -------------------------------------------------------------------------------


def test_figures_to_the_fen_after_a_paid_order(boss):
    flash_product, plain = make_product(price=9900), make_product(price=3000)
    flash = make_flash(flash_product, price=5900, name="秒杀")
    distributor = make_distributor()
    buyer = bound_buyer(distributor)
    address = make_address(buyer)
    order = place_order(
        buyer, [(flash_product.skus.get().pk, 2), (plain.skus.get().pk, 1)], address_id=address.pk
    )
    pay_in_sandbox(order)
    # A cancelled order of another buyer counts for nothing.
    other = make_buyer()
    cancelled = place_order(other, [(flash_product.skus.get().pk, 1)], address_id=make_address(other).pk)
    lifecycle.cancel_unpaid(cancelled, actor=other, reason="不要了")
    assert Order.objects.get(pk=cancelled.pk).status == "cancelled"
    # Nor does an order still waiting for its money, nor one whose money all went back.
    waiting = make_buyer()
    place_order(waiting, [(flash_product.skus.get().pk, 1)], address_id=make_address(waiting).pk)
    returned = bound_buyer(distributor)
    refunded = place_order(returned, [(flash_product.skus.get().pk, 1)], address_id=make_address(returned).pk)
    pay_in_sandbox(refunded)
    full_refund(receive(Order.objects.get(pk=refunded.pk)))

    figures = promotion_figures([flash.pk])[flash.pk]
    # 2 × ¥59.00 paid on the flash line; ¥40.00 × 2 below the original price;
    # 10 % level-1 commission on the flash line only.
    assert (figures.orders, figures.buyers, figures.gmv, figures.discount, figures.commission) == (
        1,
        1,
        11800,
        8000,
        1180,
    )
    page = boss.get(url("promotion_change", flash.pk)).content.decode()
    assert "¥118.00" in page and "¥80.00" in page and "¥11.80" in page
    assert "1 单 / ¥118.00 / ¥80.00" in boss.get(url("promotion_changelist")).content.decode()


def test_order_page_lists_its_discounts_per_line():
    product = make_product(price=9900, name="羊毛衫")
    make_flash(product, price=5900, name="双12秒杀")
    buyer = make_buyer()
    order = place_order(buyer, [(product.skus.get().pk, 1)], address_id=make_address(buyer).pk)
    client = Client()
    client.force_login(make_staff("boss", superuser=True))
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "优惠明细" in page and "双12秒杀" in page and "¥40.00" in page


def test_a_repeat_spend_with_two_tiers_is_refused_in_the_form(boss):
    data = {
        "name": "每满100减10",
        **window(),
        "scope": "shop",
        "repeat": "on",
        **COMMISSION_NORMAL,
        **inline("tiers", [{"threshold": "100", "reduction": "10"}, {"threshold": "200", "reduction": "30"}]),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_add", kind="spend"), data)
    assert reply.status_code == 200 and "每满减只能设置一个档位" in reply.content.decode()
    assert not SpendTier.objects.exists()


def test_a_refusal_after_the_form_was_checked_is_shown_not_a_500(boss, monkeypatch):
    """Another save can get in between the form's check and the real save (two tabs, a
    flash sale saved meanwhile): the service's refusal then comes back as a message."""
    product = make_product(price=9900)
    real = manage.save_promotion
    calls = []

    def second_refused(promotion, items, tiers, staff, **kwargs):
        calls.append(staff)
        if staff is not None:  # the real save, not the form's trial
            raise manage.PromotionInvalid("商品已在同一时段的限时折扣中", code="PROMOTION_OVERLAP")
        return real(promotion, items, tiers, staff, **kwargs)

    monkeypatch.setattr(manage, "save_promotion", second_refused)
    data = {
        "name": "撞车",
        **window(),
        "per_buyer_limit": "0",
        **COMMISSION_NORMAL,
        **inline("items", [{"product": product.pk, "price": "59", "quota": ""}]),
        "_save": "保存",
    }
    reply = boss.post(url("promotion_add", kind="flash"), data)
    assert reply.status_code == 302 and len(calls) == 2
    assert texts(reply) == ["商品已在同一时段的限时折扣中"]
    assert not Promotion.objects.exists() and not PromotionItem.objects.exists()
