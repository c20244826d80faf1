"""Promotion races, run for real on PostgreSQL: a flash sale's last units, a double-tapped
"buy", the last copies of a coupon, a cancel in the middle of a rush.

Each test commits its data (transaction=True) and releases real threads together, each on a
database connection of its own. Buyers outnumber the threads (PostgreSQL allows about a
hundred connections, shared with other test runs): a thread serves its buyers one after
another, as a web worker does, so hundreds of buyers are in flight at once.
"""

import time

from django.db.models import Sum

from fenxiao.catalog.models import Sku
from fenxiao.core.errors import DomainError
from fenxiao.orders.models import Order, OrderLine, OrderSettings, OrderStatus
from fenxiao.orders.services import checkout
from fenxiao.promotions.models import (
    BuyerAllowance,
    BuyerCoupon,
    BuyerCouponStatus,
    Coupon,
    PromotionItem,
    PromotionUse,
)
from fenxiao.promotions.services import coupons
from fenxiao.testing import (
    ApiClient,
    api_for,
    make_address,
    make_buyer,
    make_product,
    make_staff,
    postgres_only_marks,
    run_together,
)

from .factories import give_coupon, make_coupon, make_flash

pytestmark = postgres_only_marks()

THREADS = 30


def warm_up():
    """One order before the race, so settings rows created on first use already exist."""
    OrderSettings.current()
    buyer = make_buyer()
    checkout.place_order(buyer, [(make_product(stock=5).skus.get().pk, 1)], address_id=make_address(buyer).pk)


def rush(work, count: int, threads: int = THREADS) -> list:
    """work(i) for i in range(count), on `threads` threads released together; what each
    returned or raised, in order of i."""
    threads = min(threads, count)
    results: list = [None] * count

    def serve(t):
        for i in range(t, count, threads):
            try:
                results[i] = work(i)
            except Exception as exc:  # handed back to the test, which reports it
                results[i] = exc
        return None

    crashed = [r for r in run_together(threads, serve) if r is not None]
    assert not crashed, crashed[:3]
    return results


def shoppers(count: int) -> list[tuple[ApiClient, int]]:
    return [shopper(make_buyer()) for _ in range(count)]


def shopper(buyer) -> tuple[ApiClient, int]:
    return api_for(buyer), make_address(buyer).pk


def buy(client: ApiClient, address_id: int, sku_id: int):
    return client.post("/checkout", {"lines": [{"sku_id": sku_id, "quantity": 1}], "address_id": address_id})


def no_crashes(replies) -> None:
    """Every reply is a success or a 409 refusal with a code and a Chinese message."""
    crashed = [r for r in replies if isinstance(r, BaseException)]
    assert not crashed, crashed[:3]
    odd = [r for r in replies if r.status_code not in (200, 201, 409)]
    assert not odd, [(r.status_code, r.content[:200]) for r in odd[:3]]
    for reply in replies:
        if reply.status_code == 409:
            body = reply.json()
            assert body["code"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body


def refusal_codes(replies) -> set[str]:
    return {r.json()["code"] for r in replies if r.status_code == 409}


def test_300_buyers_racing_for_100_flash_units_get_exactly_100():
    warm_up()
    product = make_product("限量秒杀耳机", price=39900, stock=1000)
    sku = product.skus.get()
    promotion = make_flash(product, price=9900, quota=100, limit=1)
    people = shoppers(300)

    replies = rush(lambda i: buy(*people[i], sku.pk), 300)

    no_crashes(replies)
    placed = [r for r in replies if r.status_code == 201]
    assert len(placed) == 100
    assert refusal_codes(replies) == {"FLASH_SOLD_OUT"}
    assert {r.json()["total"] for r in placed} == {9900}  # shipping is free by default
    item = PromotionItem.objects.get(promotion=promotion)
    assert (item.sold, item.quota) == (100, 100)
    assert Sku.objects.get(pk=sku.pk).stock == 900
    lines = OrderLine.objects.filter(sku=sku)
    assert lines.count() == 100
    assert set(lines.values_list("unit_price", flat=True)) == {9900}
    assert Order.objects.filter(lines__sku=sku).values("buyer").distinct().count() == 100
    assert PromotionUse.objects.filter(item=item).aggregate(n=Sum("quantity"))["n"] == 100
    assert BuyerAllowance.objects.filter(promotion=promotion).aggregate(n=Sum("quantity"))["n"] == 100


def test_one_buyer_double_submitting_past_the_limit_gets_one_order():
    warm_up()
    product = make_product("每人限购一件", price=19900, stock=50)
    sku = product.skus.get()
    promotion = make_flash(product, price=9900, quota=20, limit=1)
    buyer = make_buyer()
    address_id = make_address(buyer).pk
    phones = [api_for(buyer) for _ in range(5)]

    replies = run_together(5, lambda i: buy(phones[i], address_id, sku.pk))

    no_crashes(replies)
    assert sorted(r.status_code for r in replies) == [201] + [409] * 4
    assert refusal_codes(replies) == {"FLASH_LIMIT_EXCEEDED"}
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert BuyerAllowance.objects.get(promotion=promotion, buyer=buyer).quantity == 1
    assert PromotionItem.objects.get(promotion=promotion).sold == 1
    assert Sku.objects.get(pk=sku.pk).stock == 49


def outcome(call):
    """What a service call did: ("ok", result) or ("refused", code); anything else raises."""
    try:
        return ("ok", call())
    except DomainError as exc:
        return ("refused", exc.code)


def test_50_buyers_claiming_the_last_10_coupons_get_10():
    coupon = make_coupon(amount=2000, min_spend=9900, total_quantity=25, per_buyer_limit=1)
    coupons.issue(coupon, [make_buyer().pk for _ in range(15)], make_staff(), audience="老客户")
    assert Coupon.objects.get(pk=coupon.pk).issued == 15
    buyers = [make_buyer() for _ in range(50)]

    results = rush(lambda i: outcome(lambda: coupons.claim(buyers[i], coupon.pk)), 50)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(kind for kind, _ in results).count("ok") == 10
    assert {code for kind, code in results if kind == "refused"} == {"COUPON_SOLD_OUT"}
    coupon.refresh_from_db()
    assert coupon.issued == coupon.total_quantity == 25
    assert BuyerCoupon.objects.filter(coupon=coupon).count() == 25
    assert (
        BuyerCoupon.objects.filter(coupon=coupon, buyer__in=buyers).values("buyer").distinct().count() == 10
    )


def test_one_buyer_claiming_five_times_at_once_gets_one_copy():
    coupon = make_coupon(amount=1000, total_quantity=100, per_buyer_limit=1)
    buyer = make_buyer()

    results = run_together(5, lambda i: outcome(lambda: coupons.claim(buyer, coupon.pk)))

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(kind for kind, _ in results) == ["ok"] + ["refused"] * 4
    assert {code for kind, code in results if kind == "refused"} == {"COUPON_LIMIT_REACHED"}
    assert BuyerCoupon.objects.filter(coupon=coupon, buyer=buyer).count() == 1
    assert Coupon.objects.get(pk=coupon.pk).issued == 1


def test_cancels_racing_checkouts_give_back_exactly_what_was_taken():
    """Ten buyers hold the whole flash stock, each with a coupon on their order. At the same
    moment they cancel, try to buy again, and twenty newcomers rush in."""
    warm_up()
    product = make_product("抢购保温杯", price=15900, stock=200)
    sku = product.skus.get()
    promotion = make_flash(product, price=12900, quota=10, limit=1)
    coupon = make_coupon(amount=1000, min_spend=5000)
    holders = []
    numbers = []
    for _ in range(10):
        buyer = make_buyer()
        give_coupon(buyer, coupon)
        holders.append(shopper(buyer))
        reply = buy(*holders[-1], sku.pk)
        assert reply.status_code == 201, reply.content
        assert reply.json()["total"] == 11900  # the flash price, less the coupon
        numbers.append(reply.json()["number"])
    assert PromotionItem.objects.get(promotion=promotion).sold == 10
    newcomers = shoppers(20)
    # A second client per holder: the cancel and the new checkout go out side by side.
    again = [(ApiClient(client.token), address_id) for client, address_id in holders]

    def keep_trying(client, address_id):
        """Tap "buy" until it works, while the sale shows sold out (for up to 5 s)."""
        for _ in range(100):
            reply = buy(client, address_id, sku.pk)
            if reply.status_code != 409 or reply.json()["code"] != "FLASH_SOLD_OUT":
                return reply
            time.sleep(0.05)
        return reply

    def act(i):
        if i < 10:
            return holders[i][0].post(f"/orders/{numbers[i]}/cancel", {"reason": "不想要了"})
        return keep_trying(*(again[i - 10] if i < 20 else newcomers[i - 20]))

    replies = run_together(40, act)

    no_crashes(replies)
    assert [r.status_code for r in replies[:10]] == [200] * 10
    assert refusal_codes(replies[10:]) <= {"FLASH_SOLD_OUT", "FLASH_LIMIT_EXCEEDED"}
    assert not Order.objects.filter(number__in=numbers).exclude(status=OrderStatus.CANCELLED).exists()
    live = OrderLine.objects.filter(sku=sku, order__status=OrderStatus.PENDING_PAYMENT)
    held = live.aggregate(n=Sum("quantity"))["n"] or 0
    assert held == len([r for r in replies[10:] if r.status_code == 201])
    assert held == 10  # every unit given back was sold again, none twice
    item = PromotionItem.objects.get(promotion=promotion)
    assert item.sold == held
    assert Sku.objects.get(pk=sku.pk).stock == 200 - held
    unreleased = PromotionUse.objects.filter(item=item, released_at__isnull=True)
    assert sorted(unreleased.values_list("order_id", flat=True)) == sorted(
        live.values_list("order_id", flat=True)
    )
    assert PromotionUse.objects.filter(item=item, released_at__isnull=False).count() == 10
    # Each buyer's allowance is what their live orders hold: 0 or 1.
    per_buyer = dict(live.values_list("order__buyer_id").annotate(n=Sum("quantity")))
    for allowance in BuyerAllowance.objects.filter(promotion=promotion):
        assert allowance.quantity == per_buyer.get(allowance.buyer_id, 0), allowance
    # A coupon is used exactly when its order is live; a cancelled order's came back.
    for copy in BuyerCoupon.objects.filter(coupon=coupon):
        if copy.status == BuyerCouponStatus.USED:
            assert copy.order.status == OrderStatus.PENDING_PAYMENT
        else:
            assert (copy.status, copy.order_id) == (BuyerCouponStatus.UNUSED, None)
            assert copy.returned_at is not None
