"""The promotions API and checkout with promotions, over HTTP, to the fen: flash sales, a
product's offers, the coupon center, claiming, my coupons, 满减, and the checkout preview."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.orders.models import Order, OrderSettings
from fenxiao.promotions.models import BuyerCoupon, BuyerCouponStatus, Coupon, GroupBuy, PromotionItem
from fenxiao.promotions.services import offers as offers_service
from fenxiao.testing import (
    ApiClient,
    api_for,
    assert_refused,
    login,
    make_address,
    make_buyer,
    make_category,
    make_product,
)

from .factories import give_coupon, make_coupon, make_flash, make_group, make_spend

pytestmark = pytest.mark.django_db


def _sku(product):
    return product.skus.get()


# --- flash sales ------------------------------------------------------------------------------


def test_flash_sales_list_running_then_upcoming_with_every_figure():
    shoe, bag, later, far = (make_product(price=p) for p in (9900, 999, 5000, 5000))
    running = make_flash(shoe, price=5900, quota=10, limit=2, name="双12秒杀")
    PromotionItem.objects.filter(promotion=running).update(sold=3)
    make_flash(bag, discount_bp=2000, name="八折")  # 20% off ¥9.99 → ¥1.99 off
    upcoming = make_flash(later, price=3000, starts_in=timedelta(hours=2), name="明早开抢")
    make_flash(far, price=3000, starts_in=timedelta(hours=48), name="后天")
    make_flash(make_product(price=5000, listed=False), price=1000, name="下架商品")

    reply = ApiClient().get("/flash-sales")
    assert reply.status_code == 200, reply.content
    sales = reply.json()
    assert [s["name"] for s in sales] == ["双12秒杀", "八折", "明早开抢"]
    sale = sales[0]
    assert (sale["state"], sale["state_display"], sale["per_buyer_limit"]) == ("running", "进行中", 2)
    assert sale["countdown_to"] == sale["ends_at"]
    [item] = sale["items"]
    assert item["product_id"] == shoe.pk and item["sku_id"] is None
    assert (item["flash_price"], item["regular_price"]) == (5900, 9900)
    assert (item["flash_price_display"], item["regular_price_display"]) == ("¥59.00", "¥99.00")
    assert (item["quota"], item["sold"], item["remaining"], item["percent_sold"]) == (10, 3, 7, 30)
    assert item["sold_out"] is False
    assert sales[1]["items"][0]["flash_price"] == 800
    assert sales[1]["items"][0]["remaining"] is None
    assert sales[2]["state"] == "upcoming"
    assert sales[2]["countdown_to"] == sales[2]["starts_at"]
    assert sales[2]["starts_at"][:16] == upcoming.starts_at.isoformat()[:16]

    only_upcoming = ApiClient().get("/flash-sales", state="upcoming").json()
    assert [s["name"] for s in only_upcoming] == ["明早开抢"]
    only_running = ApiClient().get("/flash-sales", state="running").json()
    assert [s["name"] for s in only_running] == ["双12秒杀", "八折"]


def test_a_flash_sale_ended_early_is_not_listed():
    promotion = make_flash(make_product(price=9900), price=5900)
    promotion.ended_at = timezone.now() - timedelta(minutes=1)
    promotion.save()
    assert ApiClient().get("/flash-sales").json() == []


def test_flash_sale_list_reads_a_fixed_number_of_queries(django_assert_max_num_queries):
    for _ in range(5):
        make_flash(make_product(price=9900), price=5900)
    with django_assert_max_num_queries(4):  # sales, items with products and SKUs, images
        reply = ApiClient().get("/flash-sales")
    assert len(reply.json()) == 5


def test_flash_offers_for_product_cards():
    shoe, bag, plain = make_product(price=9900), make_product(price=999), make_product(price=5000)
    multi = make_product(price=8000, specs_list=[{"色": "红"}, {"色": "蓝"}])
    red, blue = multi.skus.order_by("pk")
    make_flash(shoe, price=5900, quota=4)
    make_flash(bag, discount_bp=2000, starts_in=timedelta(hours=3), name="预告")
    sale = make_flash(multi, price=6000, sku=blue, name="蓝色秒杀")
    PromotionItem.objects.create(promotion=sale, product=multi, sku=red, price=7000)

    ids = [shoe.pk, bag.pk, plain.pk, multi.pk, make_product(listed=False).pk]
    reply = ApiClient().get("/flash-offers", product_ids=ids)
    assert reply.status_code == 200, reply.content
    offers = {o["product_id"]: o for o in reply.json()}
    assert set(offers) == {shoe.pk, bag.pk, multi.pk}
    assert (
        offers[shoe.pk]["flash_price"],
        offers[shoe.pk]["regular_price"],
        offers[shoe.pk]["remaining"],
    ) == (
        5900,
        9900,
        4,
    )
    assert (offers[bag.pk]["state"], offers[bag.pk]["flash_price"]) == ("upcoming", 800)
    assert offers[bag.pk]["countdown_to"] == offers[bag.pk]["starts_at"]
    # The card shows the lowest flash price among the SKUs.
    assert (offers[multi.pk]["flash_price"], offers[multi.pk]["sku_id"]) == (6000, blue.pk)
    # Once that SKU's flash stock is gone, the card and a share offer the SKU still selling.
    PromotionItem.objects.filter(promotion=sale, sku=blue).update(quota=2, sold=2)
    reply = ApiClient().get("/flash-offers", product_ids=[multi.pk])
    assert [(o["flash_price"], o["sku_id"]) for o in reply.json()] == [(7000, red.pk)]
    assert offers_service.selling_flash(multi).price == 7000


# --- 满减 ---------------------------------------------------------------------------------------


def test_spend_promotions_running_now_with_tiers_in_words():
    make_spend([(20000, 1500), (30000, 3000, True)], name="双12满减")
    make_spend([(10000, 1000)], repeat=True, stackable=False, name="每满100减10")
    make_spend([(5000, 500)], starts_in=timedelta(hours=1), name="未开始")

    reply = ApiClient().get("/spend-promotions")
    assert reply.status_code == 200
    by_name = {p["name"]: p for p in reply.json()}
    assert set(by_name) == {"双12满减", "每满100减10"}
    tiered = by_name["双12满减"]
    assert [(t["threshold"], t["reduction"], t["free_shipping"]) for t in tiered["tiers"]] == [
        (20000, 1500, False),
        (30000, 3000, True),
    ]
    assert tiered["summary"] == "满¥200.00减¥15.00；满¥300.00减¥30.00、包邮"
    assert (tiered["scope"], tiered["scope_display"], tiered["stackable"]) == ("shop", "全店通用", True)
    repeat = by_name["每满100减10"]
    assert repeat["summary"] == "每满¥100.00减¥10.00"
    assert (repeat["repeat"], repeat["stackable"]) == (True, False)


# --- a product's promotions -------------------------------------------------------------------


def test_product_promotions_show_flash_spend_group_and_coupons_for_it():
    shoes = make_category("鞋")
    sport = make_category("运动鞋", parent=shoes)
    product = make_product(price=9900, category=sport)
    other = make_product(price=9900)
    flash = make_flash(product, price=6900, quota=20, limit=1, name="秒杀")
    covering = make_spend([(20000, 2000)], scope="categories", categories=[shoes], name="鞋类满减")
    make_spend([(20000, 2000)], scope="products", products=[other], name="别的商品满减")
    group = make_group(product, price=4900, size=3, hours=12, name="三人团")
    for_it = make_coupon(amount=1000, min_spend=5000, scope="products", products=[product], name="鞋券")
    shop_wide = make_coupon(discount_bp=1000, max_discount=2000, name="全店9折")
    make_coupon(amount=500, scope="products", products=[other], name="别的券")

    reply = ApiClient().get(f"/products/{product.pk}/promotions")
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["flash"]["promotion_id"] == flash.pk
    assert (body["flash"]["flash_price"], body["flash"]["regular_price"]) == (6900, 9900)
    assert (body["flash"]["state"], body["flash"]["per_buyer_limit"], body["flash"]["remaining"]) == (
        "running",
        1,
        20,
    )
    assert [p["id"] for p in body["spend"]] == [covering.pk]
    assert body["spend"][0]["category_ids"] == [shoes.pk]
    [offer] = body["groups"]
    assert offer["promotion_id"] == group.pk
    assert (offer["group_price"], offer["regular_price"], offer["group_size"], offer["group_hours"]) == (
        4900,
        9900,
        3,
        12,
    )
    coupons = {c["id"]: c for c in body["coupons"]}
    assert set(coupons) == {for_it.pk, shop_wide.pk}
    assert coupons[for_it.pk]["summary"] == "满¥50.00减¥10.00"
    assert coupons[shop_wide.pk]["summary"] == "无门槛9折，最多减¥20.00"
    assert coupons[for_it.pk]["can_claim"] is True


def test_product_without_promotions_has_empty_offers():
    product = make_product(price=9900)
    body = ApiClient().get(f"/products/{product.pk}/promotions").json()
    assert body == {"product_id": product.pk, "flash": None, "spend": [], "groups": [], "coupons": []}


def test_promotions_of_an_unknown_or_delisted_product_are_404():
    hidden = make_product(listed=False)
    assert_refused(ApiClient().get(f"/products/{hidden.pk}/promotions"), 404, "PRODUCT_NOT_FOUND")
    assert_refused(ApiClient().get(f"/products/{hidden.pk + 1000}/promotions"), 404, "PRODUCT_NOT_FOUND")


# --- coupon center, claiming, my coupons ------------------------------------------------------


def test_coupon_center_for_visitors_and_for_a_buyer():
    fixed = make_coupon(amount=1000, min_spend=10000, total_quantity=100, per_buyer_limit=1, name="满100减10")
    make_coupon(amount=500, claimable=False, name="只能发放")
    make_coupon(amount=500, is_active=False, name="已停用")
    make_coupon(amount=500, valid_until=timezone.now() - timedelta(days=1), name="已过期")
    buyer = make_buyer()
    give_coupon(buyer, fixed)

    visitor = ApiClient().get("/coupons").json()
    assert [c["name"] for c in visitor] == ["满100减10"]
    assert visitor[0]["summary"] == "满¥100.00减¥10.00"
    assert (visitor[0]["remaining"], visitor[0]["claimed"], visitor[0]["can_claim"]) == (100, 0, True)

    mine = api_for(buyer).get("/coupons").json()
    assert (mine[0]["claimed"], mine[0]["can_claim"]) == (1, False)
    # The H5 session counts as the buyer too.
    session = login(buyer).get("/api/v1/coupons").json()
    assert session[0]["claimed"] == 1
    # A stale token reads as a visitor rather than being turned away.
    assert ApiClient("not-a-token").get("/coupons").json()[0]["claimed"] == 0


def test_claiming_takes_one_copy_and_a_second_past_the_limit_is_refused():
    coupon = make_coupon(amount=1000, min_spend=10000, total_quantity=10, per_buyer_limit=1, valid_days=7)
    buyer = make_buyer()
    client = api_for(buyer)

    reply = client.post(f"/coupons/{coupon.pk}/claim")
    assert reply.status_code == 201, reply.content
    body = reply.json()
    copy = BuyerCoupon.objects.get(buyer=buyer)
    assert (body["id"], body["coupon_id"], body["status"], body["source"]) == (
        copy.pk,
        coupon.pk,
        "unused",
        "claimed",
    )
    assert (body["amount"], body["min_spend"]) == (1000, 10000)
    assert copy.valid_until - copy.valid_from == timedelta(days=7)

    assert_refused(client.post(f"/coupons/{coupon.pk}/claim"), 409, "COUPON_LIMIT_REACHED")
    assert BuyerCoupon.objects.filter(buyer=buyer).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).issued == 1
    center = client.get("/coupons").json()
    assert (center[0]["remaining"], center[0]["claimed"], center[0]["can_claim"]) == (9, 1, False)


def test_claiming_a_limit_of_two_allows_two():
    coupon = make_coupon(amount=300, per_buyer_limit=2)
    client = api_for(make_buyer())
    assert client.post(f"/coupons/{coupon.pk}/claim").status_code == 201
    assert client.post(f"/coupons/{coupon.pk}/claim").status_code == 201
    assert_refused(client.post(f"/coupons/{coupon.pk}/claim"), 409, "COUPON_LIMIT_REACHED")
    assert Coupon.objects.get(pk=coupon.pk).issued == 2


def test_claiming_needs_a_buyer_and_a_claimable_coupon_with_copies_left():
    coupon = make_coupon(amount=1000, total_quantity=1)
    assert_refused(ApiClient().post(f"/coupons/{coupon.pk}/claim"), 401, "UNAUTHORIZED")
    assert Coupon.objects.get(pk=coupon.pk).issued == 0
    api_for(make_buyer()).post(f"/coupons/{coupon.pk}/claim")
    late = make_buyer()
    assert_refused(api_for(late).post(f"/coupons/{coupon.pk}/claim"), 409, "COUPON_SOLD_OUT")
    hidden = make_coupon(amount=1000, claimable=False)
    assert_refused(api_for(late).post(f"/coupons/{hidden.pk}/claim"), 404, "COUPON_NOT_FOUND")
    assert_refused(api_for(late).post(f"/coupons/{hidden.pk + 100}/claim"), 404, "COUPON_NOT_FOUND")
    assert not BuyerCoupon.objects.filter(buyer=late).exists()


def test_my_coupons_needs_a_buyer_and_sorts_unused_used_expired():
    assert_refused(ApiClient().get("/me/coupons"), 401, "UNAUTHORIZED")
    buyer = make_buyer()
    coupon = make_coupon(discount_bp=1500, max_discount=3000, min_spend=0, name="85折")
    unused = give_coupon(buyer, coupon)
    used = give_coupon(buyer, coupon)
    BuyerCoupon.objects.filter(pk=used.pk).update(status=BuyerCouponStatus.USED, used_at=timezone.now())
    expired = give_coupon(buyer, coupon, days=1, starts_in=timedelta(days=-3))
    give_coupon(make_buyer(), coupon)  # someone else's

    body = api_for(buyer).get("/me/coupons").json()
    assert [c["id"] for c in body["unused"]] == [unused.pk]
    assert [c["id"] for c in body["used"]] == [used.pk]
    assert [c["id"] for c in body["expired"]] == [expired.pk]
    assert body["unused"][0]["summary"] == "无门槛8.5折，最多减¥30.00"
    assert body["used"][0]["used_at"] is not None
    assert body["expired"][0]["status"] == "expired"
    assert (body["unused"][0]["usable"], body["unused"][0]["unusable_reason"]) == (True, "")
    assert not body["used"][0]["usable"] and not body["expired"][0]["usable"]

    # Held, unexpired, yet checkout would refuse it: said on the copy, as 我的优惠券 says it.
    later = give_coupon(buyer, make_coupon(amount=500, name="周末券"), starts_in=timedelta(days=2))
    stopped_coupon = make_coupon(amount=800, name="停用券")
    stopped = give_coupon(buyer, stopped_coupon)
    Coupon.objects.filter(pk=stopped_coupon.pk).update(is_active=False)
    body = api_for(buyer).get("/me/coupons").json()
    held = {c["id"]: (c["usable"], c["unusable_reason"]) for c in body["unused"]}
    start = timezone.localtime(later.valid_from).strftime("%Y-%m-%d %H:%M")
    assert held == {
        unused.pk: (True, ""),
        later.pk: (False, f"{start} 起可用"),
        stopped.pk: (False, "商家已停用此券，暂不能使用"),
    }


# --- checkout with promotions -----------------------------------------------------------------


@pytest.fixture
def basket():
    """A flash product (¥99.00 → ¥59.00, two of them), a plain one at ¥100.01, 满200减15 with
    包邮 and 满300减30, ¥8.00 shipping, and a buyer holding three coupons."""
    OrderSettings.objects.update_or_create(pk=1, defaults={"shipping_fee": 800})
    flash_product, plain = make_product(price=9900), make_product(price=10001)
    make_flash(flash_product, price=5900, name="限时秒杀")
    make_spend([(20000, 1500, True), (30000, 3000)], name="满200减15")
    buyer = make_buyer()
    fixed = give_coupon(buyer, make_coupon(amount=1000, min_spend=15000, name="满150减10"))
    percent = give_coupon(
        buyer,
        make_coupon(discount_bp=1000, max_discount=500, scope="products", products=[plain], name="单品9折"),
    )
    too_high = give_coupon(buyer, make_coupon(amount=5000, min_spend=50000, name="满500减50"))
    lines = [{"sku_id": _sku(flash_product).pk, "quantity": 2}, {"sku_id": _sku(plain).pk, "quantity": 1}]
    return buyer, lines, fixed, percent, too_high


def test_preview_applies_flash_spend_and_the_best_coupon_to_the_fen(basket):
    buyer, lines, fixed, percent, too_high = basket
    reply = api_for(buyer).post("/checkout/preview", {"lines": lines})
    assert reply.status_code == 200, reply.content
    q = reply.json()
    first, second = q["lines"]
    assert (first["original_price"], first["unit_price"], first["subtotal"]) == (9900, 5900, 11800)
    # 满减 ¥15.00 over 11800 : 10001 by largest remainder, then the coupon's ¥10.00 over what is left.
    assert first["discounts"] == [
        {"kind": "flash", "name": "限时秒杀", "amount": 8000},
        {"kind": "spend", "name": "满200减15", "amount": 812},
        {"kind": "coupon", "name": "满150减10", "amount": 541},
    ]
    assert second["discounts"] == [
        {"kind": "spend", "name": "满200减15", "amount": 688},
        {"kind": "coupon", "name": "满150减10", "amount": 459},
    ]
    assert (first["discount_share"], first["paid_amount"]) == (1353, 10447)
    assert (second["discount_share"], second["paid_amount"]) == (1147, 8854)
    assert q["discounts"] == [
        {"kind": "spend", "name": "满200减15", "amount": 1500},
        {"kind": "coupon", "name": "满150减10", "amount": 1000},
        {"kind": "free_shipping", "name": "满200减15", "amount": 800},
    ]
    assert (q["goods_amount"], q["discount_amount"], q["shipping_fee"], q["total"]) == (21801, 2500, 0, 19301)
    assert q["coupon_id"] == fixed.pk
    assert (q["saved_amount"], q["saved_amount_display"]) == (11300, "¥113.00")
    assert q["hints"] == ["满200减15：再买 ¥81.99 可减 ¥30.00"]
    assert [(o["id"], o["discount"], o["usable"]) for o in q["coupon_options"]] == [
        (fixed.pk, 1000, True),
        (percent.pk, 500, True),
        (too_high.pk, 0, False),
    ]
    assert q["coupon_options"][2]["reason"] == "满 ¥500.00 可用，还差 ¥296.99"
    assert q["group"] is None


def test_preview_with_a_chosen_coupon_or_none(basket):
    buyer, lines, fixed, percent, _ = basket
    client = api_for(buyer)
    chosen = client.post("/checkout/preview", {"lines": lines, "coupon_id": percent.pk}).json()
    assert chosen["coupon_id"] == percent.pk
    assert [line["discount_share"] for line in chosen["lines"]] == [812, 688 + 500]
    assert (chosen["discount_amount"], chosen["total"]) == (2000, 19801)

    without = client.post("/checkout/preview", {"lines": lines, "coupon_id": None}).json()
    assert without["coupon_id"] is None
    assert (without["discount_amount"], without["total"]) == (1500, 20301)

    auto = client.post("/checkout/preview", {"lines": lines, "coupon_id": "auto"}).json()
    assert auto["coupon_id"] == fixed.pk


def test_placing_the_order_keeps_every_discount_and_uses_the_coupon(basket):
    buyer, lines, fixed, _, _ = basket
    client = api_for(buyer)
    address = make_address(buyer)
    reply = client.post("/checkout", {"lines": lines, "address_id": address.pk, "expected_total": 19301})
    assert reply.status_code == 201, reply.content
    order = reply.json()
    assert (order["total"], order["discount_amount"], order["shipping_fee"]) == (19301, 2500, 0)
    assert [line["original_price"] for line in order["lines"]] == [9900, 10001]
    assert order["awaiting_group"] is False
    assert BuyerCoupon.objects.get(pk=fixed.pk).status == BuyerCouponStatus.USED

    detail = client.get(f"/orders/{order['number']}").json()
    line_ids = [line["id"] for line in detail["lines"]]
    assert [(d["line_id"], d["kind"], d["amount"]) for d in detail["discounts"]] == [
        (line_ids[0], "flash", 8000),
        (line_ids[0], "spend", 812),
        (line_ids[0], "coupon", 541),
        (line_ids[1], "spend", 688),
        (line_ids[1], "coupon", 459),
        (None, "free_shipping", 800),
    ]
    assert detail["discounts"][-1]["kind_display"] == "满额包邮"


def test_placing_with_no_coupon_leaves_the_coupons_unused(basket):
    buyer, lines, *copies = basket
    address = make_address(buyer)
    reply = api_for(buyer).post("/checkout", {"lines": lines, "address_id": address.pk, "coupon_id": None})
    assert reply.status_code == 201, reply.content
    assert reply.json()["total"] == 20301
    assert all(c.status == BuyerCouponStatus.UNUSED for c in BuyerCoupon.objects.filter(buyer=buyer))


def test_open_a_group_then_a_friend_joins_it_at_the_group_price():
    product = make_product(price=9900)
    promotion = make_group(product, price=4900, size=2, name="两人拼团")
    leader, friend = make_buyer(), make_buyer()
    line = [{"sku_id": _sku(product).pk, "quantity": 1}]

    q = api_for(leader).post("/checkout/preview", {"lines": line, "group_promotion_id": promotion.pk}).json()
    assert (q["lines"][0]["unit_price"], q["total"]) == (4900, 4900)
    assert q["lines"][0]["discounts"] == [{"kind": "group", "name": "两人拼团", "amount": 5000}]
    assert q["group"] == {"promotion_id": promotion.pk, "name": "两人拼团", "group_id": None, "group_size": 2}

    body = {"lines": line, "address_id": make_address(leader).pk, "group_promotion_id": promotion.pk}
    placed = api_for(leader).post("/checkout", body)
    assert placed.status_code == 201, placed.content
    assert placed.json()["awaiting_group"] is True
    group = GroupBuy.objects.get()

    joined = api_for(friend).post("/checkout/preview", {"lines": line, "join_group_id": group.pk}).json()
    assert joined["group"]["group_id"] == group.pk
    assert joined["total"] == 4900
    body = {"lines": line, "address_id": make_address(friend).pk, "join_group_id": group.pk}
    assert api_for(friend).post("/checkout", body).status_code == 201
    assert GroupBuy.objects.get().seats_taken == 2
    assert Order.objects.filter(awaiting_group=True).count() == 2


def test_preview_without_promotions_keeps_the_catalog_price():
    product = make_product(price=5000)
    q = api_for(make_buyer()).post(
        "/checkout/preview", {"lines": [{"sku_id": _sku(product).pk, "quantity": 2}]}
    )
    body = q.json()
    assert (body["total"], body["saved_amount"], body["coupon_id"]) == (10000, 0, None)
    assert body["lines"][0]["discounts"] == [] and body["discounts"] == [] and body["coupon_options"] == []


def test_preview_with_promotions_is_flat_in_lines(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = [make_product(price=9900) for _ in range(20)]
    for product in products:
        make_flash(product, price=5900, quota=50, limit=5)
    make_spend([(10000, 1000), (50000, 6000, True)])
    buyer = make_buyer()
    for _ in range(3):
        give_coupon(buyer, make_coupon(amount=500, min_spend=1000))
    client = api_for(buyer)

    def body(chosen):
        return {"lines": [{"sku_id": _sku(p).pk, "quantity": 1} for p in chosen]}

    one, twenty = body(products[:1]), body(products)
    # The first call writes the token's "last used" and the shop's order settings.
    client.post("/checkout/preview", one)
    with CaptureQueriesContext(connection) as single:
        assert client.post("/checkout/preview", one).status_code == 200
    with django_assert_num_queries(len(single.captured_queries)):
        reply = client.post("/checkout/preview", twenty)
    assert reply.json()["discount_amount"] == 6000 + 500


def test_my_coupons_says_why_in_the_callers_language():
    buyer = make_buyer()
    coupon = make_coupon(amount=800, name="停用券")
    give_coupon(buyer, coupon)
    Coupon.objects.filter(pk=coupon.pk).update(is_active=False)
    api = api_for(buyer)
    reply = api.client.get("/api/v1/me/coupons", HTTP_ACCEPT_LANGUAGE="en", **api._headers())
    assert (
        reply.json()["unused"][0]["unusable_reason"]
        == "The shop has stopped this coupon; it can't be used for now"
    )
