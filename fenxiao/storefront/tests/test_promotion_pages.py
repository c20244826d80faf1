"""The H5 side of promotions: flash prices and countdowns, coupons (center, wallet, claiming),
the group-buy entry, 满减 in the cart, the coupon picker at checkout, and the order's
discounts. Figures are checked to the fen; hot pages keep flat query counts."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.utils import timezone

from fenxiao.orders.models import Order, OrderDiscount
from fenxiao.promotions.models import BuyerCoupon, BuyerCouponStatus, Coupon, GroupBuy
from fenxiao.promotions.tests.factories import give_coupon, make_coupon, make_flash, make_group, make_spend
from fenxiao.testing import in_english, make_address, make_buyer, make_category, make_product, pay_in_sandbox

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def said(response) -> list[str]:
    """The messages a redirect carries; they are dropped from the client so the next
    request starts clean (nothing renders them in between)."""
    response.client.cookies.pop("messages", None)
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def buyer():
    user = make_buyer()
    make_address(user)
    return user


# --- flash prices on cards, the home page's 限时抢购, the product page ------------------------


def test_cards_show_the_flash_price_countdown_and_progress():
    category = make_category("零食")
    running = make_product("坚果礼盒", category=category, price=9900)
    make_flash(running, price=5990, quota=40).items.update(sold=10)
    upcoming = make_product("牛肉干", category=category, price=3900)
    make_flash(upcoming, price=1990, starts_in=timedelta(hours=3))
    gone = make_product("果干", category=category, price=2900)
    make_flash(gone, price=990, quota=5).items.update(sold=5)
    plain = make_product("薯片", category=category, price=1290)
    client = Client()

    for url in ["/", f"/categories/?c={category.pk}", "/search/?q="]:
        html = html_of(client.get(url))
        card = _card(html, running.pk)
        assert "¥59.90" in card and '<span class="strike">¥99.00</span>' in card
        assert "距结束" in card and "已抢 25%" in card
        card = _card(html, upcoming.pk)
        assert "¥39.00" in card and "¥19.90 抢" in card and "距开始" in card
        assert re.search(r"<b data-countdown-clock>0[23]:\d\d:\d\d</b>", card)
        assert "已抢光" in _card(html, gone.pk)
        assert "距" not in _card(html, plain.pk) and "¥12.90" in _card(html, plain.pk)

    home = html_of(client.get("/"))
    block = home[home.index('aria-label="限时抢购"') : home.index("为你推荐")]
    # Running items only, soonest to end first; the upcoming sale is not in the block.
    assert "坚果礼盒" in block and "果干" in block and "牛肉干" not in block
    assert "¥59.90" in block and "¥9.90" in block and 'href="/coupons/"' in home


@pytest.fixture
def shop_window(settings):
    """The home page's window kept for a minute, as a web process keeps it (10 s by default)."""
    from fenxiao.storefront.views import window

    settings.STOREFRONT_WINDOW_SECONDS = 60
    window.forget()
    yield window
    window.forget()


def test_the_home_window_is_served_again_until_its_next_flash_change(shop_window):
    from unittest import mock

    from django.test.utils import CaptureQueriesContext

    nuts = make_product("坚果礼盒", price=9900)
    make_flash(nuts, price=5990, starts_in=timedelta(seconds=30))
    client = Client()
    first = html_of(client.get("/"))
    assert "¥19.90" not in first and "距开始" in _card(first, nuts.pk) and "¥99.00" in _card(first, nuts.pk)
    # Served again without reading the catalog: a product listed since is not in it yet.
    later = make_product("牛肉干", price=1990)
    with CaptureQueriesContext(connection) as read:
        again = html_of(client.get("/"))
    assert "牛肉干" not in again and not [q for q in read.captured_queries if "catalog_" in q["sql"]]
    # The body carries the clock of this response, not the copy's.
    assert 'data-now="' in again and 'data-now="' not in _card(again, nuts.pk)

    # The copy ends when the flash sale starts (30 s), not after its minute.
    start = timezone.now() + timedelta(seconds=30)
    stamp = shop_window.monotonic() + 30
    with (
        mock.patch("django.utils.timezone.now", lambda: start),
        mock.patch.object(shop_window, "monotonic", lambda: stamp),
    ):
        fresh = html_of(client.get("/"))
    assert "牛肉干" in fresh and f'href="/products/{later.pk}/"' in fresh
    card = _card(fresh, nuts.pk)
    assert "¥59.90" in card and "距结束" in card
    block = fresh[fresh.index('aria-label="限时抢购"') : fresh.index("为你推荐")]
    assert "坚果礼盒" in block


def _card(html: str, product_id: int) -> str:
    start = html.index(f'<a class="card" href="/products/{product_id}/"')
    return html[start : html.index("</a>", start)]


def test_listing_pages_stay_flat_with_flash_sales(django_assert_max_num_queries):
    category = make_category("数码")
    for i in range(3):
        make_flash(make_product(f"耳机{i}", category=category), price=4990, quota=10)
    client = Client()
    urls = ["/", f"/categories/?c={category.pk}", "/search/?q=耳机"]
    budgets = {}
    for url in urls:
        with django_assert_max_num_queries(12) as few:
            client.get(url)
        budgets[url] = len(few.captured_queries)
    for i in range(15):
        make_flash(make_product(f"耳机x{i}", category=category), discount_bp=2000, quota=10)
    for url in urls:
        with django_assert_max_num_queries(budgets[url]):
            assert "距结束" in client.get(url).content.decode()


def test_product_page_shows_flash_coupons_and_group_buy(buyer):
    product = make_product("保温杯", price=12900, specs_list=[{"颜色": "白"}, {"颜色": "黑"}])
    white, black = product.skus.order_by("pk")
    make_flash(product, price=8800, sku=white, quota=20, limit=2, name="周末秒杀")
    coupon = make_coupon(amount=1000, min_spend=5000, name="杯子专享券", scope="products", products=[product])
    make_coupon(amount=500, name="别的商品券", scope="products", products=[make_product()])
    promo = make_group(product, price=9900, size=3, name="三人团")
    leader = make_buyer(nickname="小王")
    opened = GroupBuy.objects.create(
        promotion=promo,
        item=promo.items.get(),
        leader=leader,
        size=3,
        seats_taken=1,
        deadline=timezone.now() + timedelta(hours=5),
    )
    GroupBuy.objects.create(  # full: not offered
        promotion=promo,
        item=promo.items.get(),
        leader=make_buyer(),
        size=3,
        seats_taken=3,
        deadline=timezone.now() + timedelta(hours=5),
    )

    html = html_of(signed_in(buyer).get(f"/products/{product.pk}/"))
    assert 'data-testid="flash-banner"' in html and "每人限购2件" in html
    assert '<span class="price big" data-sku-price>¥88.00</span>' in html
    assert '<span class="strike" data-sku-strike>¥129.00</span>' in html
    assert "杯子专享券" in html and "别的商品券" not in html and "满¥50.00可用" in html
    assert f'action="/coupons/{coupon.pk}/claim/"' in html and "csrfmiddlewaretoken" in html
    assert f'href="/checkout/?sku={white.pk}&amp;qty=1&amp;group={promo.pk}"' in html
    assert "发起拼团 ¥99.00" in html
    assert f'href="/groups/{opened.pk}/"' in html and '还差 <b class="price">2</b> 人' in html
    assert html.count('data-testid="open-group"') == 1
    # The SKU picker knows each SKU's flash and group price.
    picker = json.loads(re.search(r'<script id="sku-data" type="application/json">(.*?)</script>', html)[1])
    assert [(s["id"], s["price"], s["flash"], s["group"]) for s in picker] == [
        (white.pk, 12900, 8800, 9900),
        (black.pk, 12900, None, 9900),
    ]
    # 加入购物车 / 立即购买 are still there.
    assert 'hx-post="/cart/add/"' in html and 'formaction="/checkout/buy/"' in html


def test_a_product_page_offers_the_coupons_whose_scope_covers_the_product(buyer):
    drinks = make_category("饮品")
    tea = make_category("茶叶", parent=drinks)
    product = make_product("龙井", category=tea)
    make_coupon(amount=100, name="全店券")
    make_coupon(amount=200, name="饮品券", scope="categories", categories=[drinks])  # the parent
    make_coupon(amount=300, name="龙井券", scope="products", products=[product, make_product()])
    make_coupon(
        amount=400, name="咖啡券", scope="categories", categories=[make_category("咖啡", parent=drinks)]
    )
    make_coupon(amount=500, name="别的商品券", scope="products", products=[make_product()])
    html = html_of(signed_in(buyer).get(f"/products/{product.pk}/"))
    offered = {name for name in ("全店券", "饮品券", "龙井券", "咖啡券", "别的商品券") if name in html}
    assert offered == {"全店券", "饮品券", "龙井券"}
    center = html_of(signed_in(buyer).get("/coupons/"))
    assert all(name in center for name in ("全店券", "饮品券", "龙井券", "咖啡券", "别的商品券"))


def test_product_page_queries_stay_flat(buyer, django_assert_max_num_queries):
    category = make_category("家居")
    product = make_product("抱枕", category=category, specs_list=[{"色": str(i)} for i in range(3)])
    make_flash(product, price=1000, quota=10)
    make_coupon(amount=100, scope="categories", categories=[category])
    promo = make_group(product, price=1500)
    client = signed_in(buyer)
    with django_assert_max_num_queries(25) as few:
        html_of(client.get(f"/products/{product.pk}/"))
    budget = len(few.captured_queries)
    many = make_product("靠垫", category=category, specs_list=[{"色": str(i)} for i in range(20)])
    make_flash(many, discount_bp=1000, quota=10)
    make_group(many, price=1500)
    for _ in range(10):
        make_coupon(amount=100, scope="products", products=[many, product])
        make_coupon(amount=100, scope="categories", categories=[category])
        GroupBuy.objects.create(
            promotion=promo,
            item=promo.items.get(),
            leader=make_buyer(),
            size=2,
            seats_taken=1,
            deadline=timezone.now() + timedelta(hours=1),
        )
    for target in (product, many):
        with django_assert_max_num_queries(budget):
            html_of(client.get(f"/products/{target.pk}/"))


# --- coupons: the center, claiming, the wallet --------------------------------------------------


def test_claiming_in_the_coupon_center(buyer):
    coupon = make_coupon(amount=2000, min_spend=10000, name="满100减20", per_buyer_limit=1)
    client = signed_in(buyer)
    html = html_of(client.get("/coupons/"))
    assert "满100减20" in html and "¥20.00" in html and "满¥100.00可用" in html and ">领取<" in html

    reply = client.post(f"/coupons/{coupon.pk}/claim/", HTTP_HX_REQUEST="true")
    body = html_of(reply)
    assert "领取成功" in body and "已领取" in body and 'hx-swap-oob="true"' in body
    assert BuyerCoupon.objects.filter(buyer=buyer, coupon=coupon).count() == 1

    again = client.post(f"/coupons/{coupon.pk}/claim/", HTTP_HX_REQUEST="true")
    assert again["HX-Reswap"] == "none" and "每人限领1张，您已领取" in html_of(again)
    # Without htmx: a redirect back with the message.
    reply = client.post(f"/coupons/{coupon.pk}/claim/", {"next": "/coupons/"})
    assert reply.status_code == 302 and reply["Location"] == "/coupons/"
    assert said(reply) == ["每人限领1张，您已领取"]

    mine = html_of(client.get("/me/coupons/"))
    assert "满100减20" in mine and "未使用（1）" in mine and "已使用（0）" in mine
    assert "/me/coupons/" in html_of(client.get("/me/"))


def test_claim_errors_are_shown_in_chinese(buyer):
    client = signed_in(buyer)
    gone = make_coupon(amount=100, total_quantity=1, issued=1, name="已发完")
    expired = make_coupon(amount=100, valid_until=timezone.now() - timedelta(days=1), name="过期券")
    for coupon, message in [(gone, "优惠券已领完"), (expired, "优惠券已过期，不能再领取")]:
        reply = client.post(f"/coupons/{coupon.pk}/claim/", HTTP_HX_REQUEST="true")
        assert message in html_of(reply)
    assert "优惠券不存在" in html_of(client.post("/coupons/999999/claim/", HTTP_HX_REQUEST="true"))
    assert client.get("/coupons/999999/claim/").status_code == 405
    # Signed out: sign in first, then back.
    reply = Client().post(f"/coupons/{gone.pk}/claim/", HTTP_HX_REQUEST="true")
    assert reply.status_code == 200 and reply["HX-Redirect"].startswith("/login/")
    assert not BuyerCoupon.objects.exists()


def test_my_coupons_tabs(buyer):
    client = signed_in(buyer)
    give_coupon(buyer, make_coupon(amount=100, name="能用的"))
    used = give_coupon(buyer, make_coupon(amount=200, name="用过的"))
    BuyerCoupon.objects.filter(pk=used.pk).update(status=BuyerCouponStatus.USED)
    give_coupon(buyer, make_coupon(amount=300, name="过期的"), starts_in=timedelta(days=-40))
    pages = {tab: html_of(client.get(f"/me/coupons/?tab={tab}")) for tab in ("unused", "used", "expired")}
    assert "能用的" in pages["unused"] and "用过的" not in pages["unused"]
    assert "用过的" in pages["used"] and "过期的" in pages["expired"] and "能用的" not in pages["expired"]
    assert "未使用（1）" in html_of(client.get("/me/coupons/?tab=bogus"))
    assert Client().get("/me/coupons/").status_code == 302


def test_the_coupon_center_says_when_a_coupon_claimed_now_can_be_used(buyer):
    """A coupon whose dates start later is usable from then (not 领取后7天内有效 from today),
    and N days after claiming that pass the coupon's end say the end."""
    now = timezone.now()
    starts = now + timedelta(days=3)
    make_coupon(amount=100, name="下周券", valid_from=starts, valid_days=7)
    make_coupon(amount=200, name="月底券", valid_until=now + timedelta(days=2), valid_days=7)
    make_coupon(amount=300, name="七天券", valid_days=7)

    def card(html, name):
        return next(c for c in html.split('<div class="coupon')[1:] if name in c)

    html = html_of(signed_in(buyer).get("/coupons/"))
    local = timezone.localtime
    start, end = (
        local(starts).strftime("%Y-%m-%d %H:%M"),
        local(starts + timedelta(days=7)).strftime("%Y-%m-%d %H:%M"),
    )
    assert f"{start} 起可用，{end} 前有效" in card(html, "下周券")
    month_end = card(html, "月底券")
    assert f"{local(now + timedelta(days=2)):%Y-%m-%d} 前有效" in month_end and "领取后" not in month_end
    assert "领取后7天内有效" in card(html, "七天券")

    copy = signed_in(buyer).post(f"/coupons/{Coupon.objects.get(name='下周券').pk}/claim/")
    assert copy.status_code == 302
    held = BuyerCoupon.objects.get(coupon__name="下周券")
    assert (held.valid_from, held.valid_until) == (starts, starts + timedelta(days=7))


def _my_coupon(html: str, name: str) -> str:
    return next(c for c in html.split('data-testid="my-coupon"')[1:] if name in c)


def test_my_coupons_says_which_held_coupons_cannot_be_used_yet_or_any_more(buyer):
    """A copy that starts later, or of a coupon the merchant stopped, is not offered 去使用
    (checkout would refuse it); the others go where they can be used."""
    client = signed_in(buyer)
    scarf = make_product("羊绒围巾", price=19900)
    shoes = make_category("鞋靴")
    give_coupon(buyer, make_coupon(amount=1000, name="围巾券", scope="products", products=[scarf]))
    give_coupon(buyer, make_coupon(amount=1000, name="鞋靴券", scope="categories", categories=[shoes]))
    give_coupon(buyer, make_coupon(amount=1000, name="全店券"))
    give_coupon(buyer, make_coupon(amount=1000, name="停用券", is_active=False))
    later = give_coupon(buyer, make_coupon(amount=1000, name="明天券"), starts_in=timedelta(days=1))

    html = html_of(client.get("/me/coupons/"))
    assert "未使用（5）" in html
    assert f'href="/products/{scarf.pk}/">去使用' in _my_coupon(html, "围巾券")
    assert f'href="/categories/?c={shoes.pk}">去使用' in _my_coupon(html, "鞋靴券")
    assert 'href="/">去使用' in _my_coupon(html, "全店券")
    stopped = _my_coupon(html, "停用券")
    assert "商家已停用此券，暂不能使用" in stopped and "已停用" in stopped and "去使用" not in stopped
    tomorrow = _my_coupon(html, "明天券")
    start = timezone.localtime(later.valid_from).strftime("%Y-%m-%d %H:%M")
    assert f"{start} 起可用" in tomorrow and "未开始" in tomorrow and "去使用" not in tomorrow

    english = html_of(in_english(client).get("/me/coupons/"))
    assert "The shop has stopped this coupon" in english and f"Usable from {start}" in english


def test_my_coupons_costs_the_same_queries_however_many_coupons(buyer, django_assert_max_num_queries):
    client = signed_in(buyer)
    for n in range(2):
        product = make_product(f"商品{n}")
        give_coupon(buyer, make_coupon(amount=100, name=f"券{n}", scope="products", products=[product]))
    with django_assert_max_num_queries(20) as few:
        html_of(client.get("/me/coupons/"))
    for n in range(2, 8):
        product = make_product(f"商品{n}")
        give_coupon(buyer, make_coupon(amount=100, name=f"券{n}", scope="products", products=[product]))
        give_coupon(
            buyer, make_coupon(amount=100, name=f"类{n}", scope="categories", categories=[make_category()])
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html_of(client.get("/me/coupons/"))


# --- the cart -------------------------------------------------------------------------------------


def test_cart_shows_flash_prices_the_spend_discount_and_what_to_add(buyer):
    tea = make_product("绿茶", price=3000)
    cup = make_product("茶杯", price=1250)
    make_flash(tea, price=2500)
    make_spend([(5000, 500), (10000, 1500)], name="满减节")
    client = signed_in(buyer)
    client.post("/cart/add/", {"sku": tea.skus.get().pk, "qty": 2})
    client.post("/cart/add/", {"sku": cup.skus.get().pk, "qty": 1})
    html = html_of(client.get("/cart/"))
    # 2 × ¥25.00 + ¥12.50 = ¥62.50, 满 ¥50 减 ¥5 → ¥57.50; ¥37.50 more for the ¥15 tier.
    assert '<span class="strike">¥30.00</span>' in html
    assert 'data-testid="cart-total">¥57.50<' in html and "已减 ¥5.00" in html
    assert "满减节：再买 ¥37.50 可减 ¥15.00" in html
    # Unticking the cup (as htmx posts the form): ¥50.00 − ¥5.00.
    line = buyer.cart.lines.get(sku__product=tea)
    html = html_of(client.post("/cart/", {"selection": "1", "line": [line.pk]}, HTTP_HX_REQUEST="true"))
    assert 'data-testid="cart-total">¥45.00<' in html


# --- checkout ---------------------------------------------------------------------------------------


@pytest.fixture
def basket(buyer):
    """A ¥300 SKU on flash at ¥200 (×1), a ¥50 满减 over ¥150, and two coupons: ¥30 (over
    ¥100) and 10% off capped at ¥15; a third one needs ¥500."""
    product = make_product("羽绒服", price=30000)
    make_flash(product, price=20000, name="冬季秒杀")
    make_spend([(15000, 5000)], name="满150减50")
    big = give_coupon(buyer, make_coupon(amount=3000, min_spend=10000, name="满100减30"))
    pct = give_coupon(buyer, make_coupon(discount_bp=1000, max_discount=1500, name="九折券"))
    far = give_coupon(buyer, make_coupon(amount=10000, min_spend=50000, name="满500减100"))
    return product.skus.get(), big, pct, far


def test_checkout_shows_every_discount_and_preselects_the_best_coupon(buyer, basket):
    sku, big, pct, far = basket
    html = html_of(signed_in(buyer).get(f"/checkout/?sku={sku.pk}&qty=1"))
    assert 'data-testid="line-price">¥200.00<span class="strike" data-testid="line-original">¥300.00<' in html
    assert 'data-testid="checkout-original">¥300.00<' in html
    assert 'data-testid="checkout-flash-saved">-¥100.00<' in html
    assert '满减 · 满150减50</span><span class="price">-¥50.00<' in html
    assert '优惠券 · 满100减30</span><span class="price">-¥30.00<' in html
    # ¥200 − ¥50 − ¥30 = ¥120; saved ¥100 + ¥50 + ¥30.
    assert 'data-testid="checkout-total">¥120.00<' in html and 'data-testid="checkout-saved">¥180.00<' in html
    # The picker: best first and chosen, the ¥15 one usable, the ¥500 one greyed with its reason.
    assert re.search(
        rf'class="coupon chosen" href="/checkout/\?sku={sku.pk}&amp;qty=1&amp;coupon={big.pk}', html
    )
    assert "-¥15.00" in html and "满 ¥500.00 可用，还差 ¥350.00" in html
    assert f'action="/checkout/?sku={sku.pk}&amp;qty=1&amp;coupon={big.pk}"' in html


def test_checkout_with_another_coupon_or_none_and_the_order_keeps_the_discounts(buyer, basket):
    sku, big, pct, far = basket
    client = signed_in(buyer)
    html = html_of(client.get(f"/checkout/?sku={sku.pk}&qty=1&coupon={pct.pk}"))
    assert 'data-testid="checkout-total">¥135.00<' in html  # 200 − 50 − min(15, 10% of 150)
    html = html_of(client.get(f"/checkout/?sku={sku.pk}&qty=1&coupon=none"))
    assert 'data-testid="checkout-total">¥150.00<' in html and "● 不使用优惠券" in html
    assert f'action="/checkout/?sku={sku.pk}&amp;qty=1&amp;coupon=none"' in html

    reply = client.post(f"/checkout/?sku={sku.pk}&qty=1&coupon={pct.pk}", {"expected_total": 13500})
    order = Order.objects.get(buyer=buyer)
    assert reply.status_code == 302 and reply["Location"] == f"/orders/{order.number}/pay/"
    assert (order.goods_amount, order.discount_amount, order.total) == (20000, 6500, 13500)
    assert BuyerCoupon.objects.get(pk=pct.pk).status == BuyerCouponStatus.USED
    assert sorted(OrderDiscount.objects.filter(order=order).values_list("kind", "amount")) == [
        ("coupon", 1500),
        ("flash", 10000),
        ("spend", 5000),
    ]
    html = html_of(client.get(f"/orders/{order.number}/"))
    assert '<span class="strike">¥300.00</span>' in html
    assert 'data-testid="order-original">¥300.00<' in html
    assert 'data-testid="order-price-saved">-¥100.00<' in html
    assert "满减 · 满150减50</span><span>-¥50.00<" in html and "优惠券 · 九折券</span><span>-¥15.00<" in html

    # The coupon is gone now: asking for it again says so and falls back to the best one.
    reply = client.get(f"/checkout/?sku={sku.pk}&qty=1&coupon={pct.pk}")
    assert reply.status_code == 302 and reply["Location"] == f"/checkout/?sku={sku.pk}&qty=1"
    assert said(reply) == ["优惠券已使用"]


def test_checkout_posting_a_stale_coupon_goes_back_to_the_best_one(buyer, basket):
    sku, big, pct, far = basket
    client = signed_in(buyer)
    BuyerCoupon.objects.filter(pk=big.pk).update(status=BuyerCouponStatus.USED)
    reply = client.post(f"/checkout/?sku={sku.pk}&qty=1&coupon={big.pk}", {"expected_total": 12000})
    assert reply.status_code == 302 and reply["Location"] == f"/checkout/?sku={sku.pk}&qty=1"
    assert said(reply) == ["优惠券已使用"] and not Order.objects.exists()


def test_bad_checkout_parameters_never_fail(buyer, basket):
    sku, big, pct, far = basket
    client = signed_in(buyer)
    other = give_coupon(make_buyer(), make_coupon(amount=100))
    base = f"/checkout/?sku={sku.pk}&qty=1"
    for extra in ["&coupon=abc", "&coupon=-1", "&coupon=99999999999999999999", "&group=x", "&join=&group="]:
        html = html_of(client.get(base + extra))
        assert 'data-testid="checkout-total">¥120.00<' in html, extra
    for extra, message in [
        (f"&coupon={far.pk}", "满 ¥500.00 可用，还差 ¥350.00"),
        ("&coupon=99999", "优惠券不存在"),
    ]:
        reply = client.get(base + extra)
        assert reply.status_code == 302 and reply["Location"] == base, extra
        assert said(reply) == [message]
    # Another buyer's coupon does not exist for this one.
    reply = client.get(base + f"&coupon={other.pk}")
    assert reply.status_code == 302 and reply["Location"] == base and said(reply) == ["优惠券不存在"]
    product_page = f"/products/{sku.product_id}/"
    for extra, code_message in [("&group=99999", "拼团活动不存在"), ("&join=99999", "拼团不存在")]:
        reply = client.get(base + extra)
        assert reply.status_code == 302 and reply["Location"] == product_page
        assert said(reply) == [code_message]
        reply = client.post(base + extra, {"expected_total": 1})
        assert reply.status_code == 302 and said(reply) == [code_message]
    assert not Order.objects.exists()


def test_flash_refusals_at_checkout_are_messages(buyer):
    product = make_product("秒杀耳机", price=19900)
    sku = product.skus.get()
    make_flash(product, price=9900, quota=1, limit=1, name="一元秒")
    client = signed_in(buyer)
    reply = client.get(f"/checkout/?sku={sku.pk}&qty=2")
    assert reply.status_code == 302 and reply["Location"] == f"/products/{product.pk}/"
    assert said(reply) == ["“秒杀耳机”活动库存仅剩1件"]
    client.post("/cart/add/", {"sku": sku.pk, "qty": 2})
    line = buyer.cart.lines.get()
    reply = client.get(f"/checkout/?lines={line.pk}")
    assert reply.status_code == 302 and reply["Location"] == "/cart/"
    # The cart says why too, at catalog prices.
    assert "活动库存仅剩1件" in html_of(client.get("/cart/"))
    reply = client.post(f"/checkout/?sku={sku.pk}&qty=1", {"expected_total": 9900})
    assert reply.status_code == 302 and Order.objects.count() == 1
    reply = client.get(f"/checkout/?sku={sku.pk}&qty=1")
    assert said(reply) == ["“秒杀耳机”活动库存已抢光"]


def test_group_checkout_prices_at_the_group_price_and_keeps_the_group_in_the_url(buyer):
    product = make_product("拼团锅", price=19900)
    sku = product.skus.get()
    promo = make_group(product, price=12900, size=2)
    client = signed_in(buyer)
    url = f"/checkout/?sku={sku.pk}&qty=1&group={promo.pk}"
    html = html_of(client.get(url))
    assert 'data-testid="checkout-total">¥129.00<' in html and "发起拼团：2 人成团" in html
    assert 'action="{}"'.format(url.replace("&", "&amp;")) in html
    reply = client.post(url, {"expected_total": 12900})
    order = Order.objects.get(buyer=buyer)
    assert reply["Location"] == f"/orders/{order.number}/pay/" and order.total == 12900
    group = GroupBuy.objects.get()
    # Paid, the order waits for its group: 待成团 in the buyer's list and page, not 待发货.
    pay_in_sandbox(order)
    for page in ("/orders/", f"/orders/{order.number}/"):
        body = html_of(client.get(page))
        assert "待成团" in body and "待发货" not in body.split("</nav>")[-1], page
    # A second buyer joins it from the URL the group page links to.
    other = make_buyer()
    make_address(other)
    join = f"/checkout/?sku={sku.pk}&qty=1&join={group.pk}"
    html = html_of(signed_in(other).get(join))
    assert "参加拼团：该团还差 1 人成团" in html and 'action="{}"'.format(join.replace("&", "&amp;")) in html
    reply = signed_in(buyer).get(join)
    assert reply.status_code == 302 and said(reply) == ["您已在该团中"]


def test_a_second_flash_purchase_over_the_limit_is_a_message(buyer):
    product = make_product("限购面膜", price=9900)
    sku = product.skus.get()
    make_flash(product, price=4900, limit=1, name="面膜秒杀")
    client = signed_in(buyer)
    assert client.post(f"/checkout/?sku={sku.pk}&qty=1", {"expected_total": 4900}).status_code == 302
    reply = client.get(f"/checkout/?sku={sku.pk}&qty=1")
    assert reply.status_code == 302 and reply["Location"] == f"/products/{product.pk}/"
    assert said(reply) == ["“面膜秒杀”每人限购1件，您已购买1件"]
    reply = client.post(f"/checkout/?sku={sku.pk}&qty=1", {"expected_total": 4900})
    assert reply.status_code == 302 and said(reply) == ["“面膜秒杀”每人限购1件，您已购买1件"]
    assert Order.objects.count() == 1


def test_cart_and_checkout_queries_stay_flat_with_promotions(buyer, django_assert_max_num_queries):
    category = make_category("日用")
    make_spend([(1000, 100)], scope="categories", categories=[category])
    give_coupon(buyer, make_coupon(amount=100, scope="categories", categories=[category]))
    give_coupon(buyer, make_coupon(discount_bp=500, scope="products", products=[make_product()]))
    client = signed_in(buyer)

    def add(count):
        for i in range(count):
            product = make_product(f"日用品{i}", category=category, price=1500)
            make_flash(product, price=1200, quota=50)
            client.post("/cart/add/", {"sku": product.skus.get().pk, "qty": 1})
        return ",".join(str(pk) for pk in buyer.cart.lines.values_list("pk", flat=True))

    lines = add(2)
    with django_assert_max_num_queries(40) as few:
        assert "已减" in html_of(client.get("/cart/"))
    cart_budget = len(few.captured_queries)
    with django_assert_max_num_queries(40) as few:
        assert "checkout-discount-coupon" in html_of(client.get(f"/checkout/?lines={lines}"))
    checkout_budget = len(few.captured_queries)
    lines = add(8)
    with django_assert_max_num_queries(cart_budget):
        assert 'data-testid="cart-total">¥119.00<' in html_of(client.get("/cart/"))  # 10 × ¥12 − ¥1
    with django_assert_max_num_queries(checkout_budget):
        html_of(client.get(f"/checkout/?lines={lines}"))


def test_the_product_page_stops_selling_what_checkout_would_refuse_in_a_flash_sale(buyer):
    """Flash stock gone, or the buyer's limit reached: the product page says so and its
    buttons are disabled for the SKUs the sale covers (checkout refuses them rather than
    charge the regular price); SKUs outside the sale still sell."""
    one = make_product("秒杀耳机", price=19900)
    promo = make_flash(one, price=9900, quota=2)
    page = html_of(Client().get(f"/products/{one.pk}/"))
    assert 'data-testid="flash-refusal"' not in page
    assert page.count("data-needs-sku disabled") == 0
    promo.items.update(sold=2)
    page = html_of(Client().get(f"/products/{one.pk}/"))
    assert "活动库存已抢光，活动结束后可按原价购买" in page
    assert page.count("data-needs-sku disabled") == 2  # 加入购物车 and 立即购买

    shirt = make_product("秒杀T恤", price=5900, specs_list=[{"颜色": "白"}, {"颜色": "黑"}])
    white, black = shirt.skus.order_by("pk")
    make_flash(shirt, price=2900, sku=white, limit=1, name="T恤秒杀")
    client = signed_in(buyer)
    client.post(f"/checkout/?sku={white.pk}&qty=1", {"expected_total": 2900})
    page = html_of(client.get(f"/products/{shirt.pk}/"))
    assert "每人限购1件，您已购买1件" in page
    skus = {
        s["id"]: s["refused"]
        for s in json.loads(re.search(r'id="sku-data"[^>]*>(.*?)</script>', page).group(1))
    }
    assert skus == {white.pk: True, black.pk: False}
    assert "您已购买" not in html_of(Client().get(f"/products/{shirt.pk}/"))  # a visitor holds none
