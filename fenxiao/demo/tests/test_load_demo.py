"""`manage.py load_demo`: the demo shop `make run` starts with, and only in demo mode."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import F, Min
from django.test import Client
from django.utils import timezone

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services.products import sanitize_description
from fenxiao.customers.models import Address, User
from fenxiao.distribution.models import ClaimStatus, OrderClaim
from fenxiao.distribution.services import compliance
from fenxiao.orders.models import AfterSale, Order, OrderEvent, OrderSettings, OrderStatus
from fenxiao.payments.models import Payment, Refund
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db

COUNTED = [Category, Product, Sku, ProductImage, User, Address, Order, OrderEvent, AfterSale, Payment, Refund]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def load_demo(*args) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_catalog_is_listed_priced_and_illustrated(media_root):
    load_demo()
    listed = Product.objects.filter(is_listed=True)
    assert listed.count() >= 25
    assert 1 <= Product.objects.filter(is_listed=False).count() <= 2
    for product in listed.prefetch_related("skus", "images"):
        skus, images = list(product.skus.all()), list(product.images.all())
        assert skus and 1 <= len(images) <= 3, product.name
        assert product.price == min(sku.price for sku in skus)
        assert all(0 < sku.price <= sku.list_price for sku in skus)
        assert all(sku.specs and sku.weight_grams > 0 for sku in skus)
        assert product.description == sanitize_description(product.description)
        for image in images:
            assert default_storage.exists(image.image.name)
            assert Path(image.image.path).is_relative_to(media_root)
            assert (image.image.width, image.image.height) == (800, 800)
        # 颜色 first: each of the (first three) colours shows its own picture as its 规格图.
        if list(skus[0].specs)[:1] == ["颜色"]:
            colours = list(dict.fromkeys(sku.specs["颜色"] for sku in skus))
            by_colour = {colour: images[i].pk for i, colour in enumerate(colours[:3])}
            assert {sku.specs["颜色"]: sku.image_id for sku in skus} == {
                colour: by_colour.get(colour) for colour in colours
            }, product.name
    # Two levels: every product sits in a leaf whose parent is a top-level category.
    assert not Product.objects.filter(category__parent__isnull=True).exists()
    assert not Category.objects.filter(parent__parent__isnull=False).exists()
    assert Category.objects.filter(parent__isnull=True).count() == 5
    order_settings = OrderSettings.current()
    assert (order_settings.shipping_fee, order_settings.free_shipping_threshold) == (1000, 9900)


def test_orders_in_every_state_with_refunds_settled():
    load_demo()
    for status in OrderStatus.values:
        assert Order.objects.filter(status=status).count() >= 2, status
    paid_states = [OrderStatus.PENDING_SHIPMENT, OrderStatus.SHIPPED, OrderStatus.COMPLETED]
    assert not Order.objects.filter(status__in=paid_states).exclude(paid_amount=F("total")).exists()
    cancelled = Order.objects.filter(status=OrderStatus.CANCELLED)
    assert cancelled.filter(paid_amount=0).count() >= 2
    assert cancelled.filter(paid_amount__gt=0, refunded_amount=F("paid_amount")).count() >= 2
    partly = Order.objects.filter(
        status=OrderStatus.COMPLETED, refunded_amount__gt=0, refunded_amount__lt=F("paid_amount")
    )
    assert partly.filter(after_sales__status=AfterSale.Status.REFUNDED).exists()
    assert AfterSale.objects.filter(status=AfterSale.Status.REQUESTED).exists()
    assert AfterSale.objects.filter(status=AfterSale.Status.REJECTED).exists()
    assert Refund.objects.exists()
    assert not Refund.objects.exclude(status=Refund.Status.SUCCEEDED).exists()
    # Spread over the past month, oldest first, nothing in the future.
    now = timezone.now()
    first = Order.objects.aggregate(first=Min("created_at"))["first"]
    assert (now - first).days >= 10
    by_id = list(Order.objects.order_by("id").values_list("created_at", flat=True))
    assert by_id == sorted(by_id)
    assert not Order.objects.filter(paid_at__lt=F("created_at")).exists()
    assert not Order.objects.filter(completed_at__lt=F("shipped_at")).exists()
    assert not OrderEvent.objects.filter(created_at__gt=now).exists()
    assert not Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, pay_deadline__lte=now).exists()
    assert not Order.objects.filter(status=OrderStatus.SHIPPED, auto_complete_at__lte=now).exists()
    # 掉单申诉 has a case to open: a recent order nobody earned on, claimed by C.
    assert OrderClaim.objects.filter(status=ClaimStatus.OPEN, previous_level1__isnull=True).count() == 1
    # The demo's grades are reached by sales: 合规概览 finds no pay for recruiting.
    recruiting = next(s for s in compliance.summary().sections if s.key == "recruiting")
    assert recruiting.ok, recruiting.explanation


def test_demo_accounts_sign_in(settings):
    out = load_demo()
    assert Client().login(username="admin", password="admin123456")
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    for username, password, role in [("yunying", "yunying123456", "运营"), ("caiwu", "caiwu123456", "财务")]:
        user = authenticate(username=username, password=password)
        assert user is not None and user.is_staff and not user.is_superuser
        assert list(user.groups.values_list("name", flat=True)) == [role]
    for n in range(1, 6):
        buyer = User.objects.get(phone=f"1380000000{n}")
        assert buyer.nickname and not buyer.is_staff
        assert 1 <= buyer.addresses.count() <= 2
    assert Client().login(username="13800000001", password="buyer123456")
    for text in [f"{settings.SITE_URL}/backend/", "/api/docs", "admin123456", "13800000005"]:
        assert text in out


def test_if_empty_loads_an_empty_shop_once(settings):
    settings.SITE_URL = "http://192.168.1.20:8123"
    assert "演示数据已载入" in load_demo("--if-empty")
    loaded = counts()
    assert loaded["Product"] >= 25
    skipped = load_demo("--if-empty")
    assert skipped.startswith("商城已有商品数据，跳过演示数据载入。")
    # Where to go next, at the address actually served.
    assert "商家后台  http://192.168.1.20:8123/backend/" in skipped
    assert counts() == loaded


def test_refuses_to_load_over_existing_products():
    make_product("已有商品")
    with pytest.raises(CommandError, match="已有商品"):
        load_demo()
    assert Product.objects.count() == 1
    assert not User.objects.filter(username="admin").exists()


def test_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="FENXIAO_DEMO=1"):
        load_demo("--if-empty")
    assert not User.objects.filter(username="admin").exists()
    assert not Product.objects.exists()


@pytest.mark.django_db(transaction=True)  # flush runs committed, as from the command line
def test_reset_starts_the_demo_over(media_root):
    load_demo()
    loaded = counts()
    files_after_first_load = [p for p in media_root.rglob("*") if p.is_file()]
    make_product("员工后来加的商品")
    User.objects.create_user(username="13900000009", phone="13900000009", password="x" * 12)
    Client().login(username="admin", password="admin123456")

    out = load_demo("--reset")

    assert "演示数据已载入" in out
    assert counts() == loaded
    assert not Product.objects.filter(name="员工后来加的商品").exists()
    assert not User.objects.filter(username="13900000009").exists()
    # The old pictures went with their rows: only the new load's files are left.
    files = {str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file()}
    assert files == set(ProductImage.objects.values_list("image", flat=True))
    assert len(files) == len(files_after_first_load)
    assert Client().login(username="caiwu", password="caiwu123456")


def test_each_kind_of_promotion_is_running_and_the_banner_is_true():
    from fenxiao.orders.services.checkout import place_order, quote
    from fenxiao.orders.services.promotions_port import Choice
    from fenxiao.promotions.models import GroupBuy, Promotion, running
    from fenxiao.promotions.services import coupons, offers

    out = load_demo()
    assert "限时折扣「新品尝鲜 8折起」" in out and "领券中心：新人专享券" in out
    now = timezone.now()
    live = Promotion.objects.filter(running(now + timedelta(days=6)))
    assert set(live.values_list("kind", flat=True)) == {"flash", "spend", "group"}

    # 新品 8 折起: the newest products at 20 % off or more; the 秒杀 has its own stock and limit.
    items = offers.running_flash_items(now)
    assert len(items) >= 3
    assert all(
        i.discount_bp >= 2000 or i.price_for(i.product.price) <= i.product.price * 8 // 10 for i in items
    )
    newest = Product.objects.filter(is_listed=True).order_by("-created_at", "-id")[:3]
    assert {i.product_id for i in items} >= {p.pk for p in newest}
    deal = next(i for i in items if i.quota)
    assert deal.promotion.per_buyer_limit == 1 and deal.sold == 0 and deal.quota > 0

    # 满 99 包邮, 满 200 减 15, 满 300 减 30; what is missing is named in the cart.
    buyer = User.objects.get(phone="13800000002")
    cheap = Sku.objects.filter(product__is_listed=True, price__lt=5000, stock__gt=5).exclude(
        product__in=[i.product_id for i in items]
    )[0]
    small = quote([(cheap.pk, 1)], buyer=buyer, choice=Choice(coupon=None))
    assert small.shipping_fee == 1000 and any("再买" in hint for hint in small.hints)
    pricey = Sku.objects.filter(product__is_listed=True, price__gte=30000, stock__gt=0).exclude(
        product__in=[i.product_id for i in items]
    )[0]
    big = quote([(pricey.pk, 1)], buyer=buyer, choice=Choice(coupon=None))
    assert (big.discount_amount, big.shipping_fee) == (3000, 0)

    # Coupons to claim in the coupon center; one buyer holds one already.
    center = offers.claimable_coupons(buyer, now=now)
    assert len(center) >= 2 and all(c.can_claim for c in center)
    assert coupons.claim(buyer, center[0].pk).usable()
    assert coupons.wallet(User.objects.get(phone="13800000001"))["unused"]

    # An open group, its leader paid; a second buyer joins through the shared group and it succeeds.
    group = GroupBuy.objects.get()
    assert (group.status, group.seats_taken, group.paid_count, group.size) == ("open", 1, 1, 2)
    assert group.deadline > now + timedelta(hours=24)
    leader_order = group.members.get().order
    assert (leader_order.status, leader_order.awaiting_group) == (OrderStatus.PENDING_SHIPMENT, True)
    sku = leader_order.lines.get().sku
    joined = place_order(
        buyer, [(sku.pk, 1)], address_id=buyer.addresses.first().pk, choice=Choice(join_group=group.pk)
    )
    assert joined.lines.get().unit_price == group.item.price
    from fenxiao.demo.shop.orders import pay_in_sandbox

    pay_in_sandbox(joined)
    group.refresh_from_db()
    leader_order.refresh_from_db()
    assert group.status == "succeeded" and not leader_order.awaiting_group
