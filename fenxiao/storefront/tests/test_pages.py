"""Every H5 page renders for the people who use it, with flat query counts on hot pages."""

import pytest
from django.test import Client

from fenxiao.distribution.services import config, distributors
from fenxiao.storefront.models import Banner
from fenxiao.testing import make_address, make_buyer, make_category, make_product, make_staff, pay_in_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    category = make_category("服装")
    products = [
        make_product(
            f"衬衫{i}", category=category, price=1990 + i, specs_list=[{"颜色": "白"}, {"颜色": "蓝"}]
        )
        for i in range(3)
    ]
    Banner.objects.create(title="双十二大促", subtitle="全场满99包邮")
    return products


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_public_pages_render(shop):
    client = Client()
    for url in [
        "/",
        "/categories/",
        f"/categories/?c={shop[0].category_id}",
        "/search/?q=衬衫",
        "/search/?q=衬衫&sort=-price",
        f"/products/{shop[0].pk}/",
        "/login/",
        "/register/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "¥" in response.content.decode() or url in ("/login/", "/register/")
    assert client.get("/products/999999/").status_code == 404
    assert client.get("/me/").status_code == 302  # sign-in first


def test_buyer_pages_render(shop):
    buyer = make_buyer()
    make_address(buyer)
    client = signed_in(buyer)
    sku = shop[0].skus.first()
    assert client.post("/cart/add/", {"sku": sku.pk, "qty": 2}).status_code == 302
    for url in [
        "/me/",
        "/cart/",
        f"/checkout/?sku={sku.pk}&qty=1",
        "/orders/",
        "/me/addresses/",
        "/me/addresses/new/",
        "/d/",
    ]:
        assert client.get(url).status_code == 200, url
    response = client.post(f"/checkout/?sku={sku.pk}&qty=1", {"expected_total": sku.price})
    assert response.status_code == 302
    assert response["Location"].startswith("/orders/"), response["Location"]
    number = response["Location"].split("/")[2]
    for url in [f"/orders/{number}/", f"/orders/{number}/pay/", f"/orders/{number}/result/"]:
        assert client.get(url).status_code == 200, url


def test_distributor_pages_render(shop):
    user = make_buyer()
    distributors.designate(user, make_staff())
    client = signed_in(user)
    for url in [
        "/d/",
        "/d/commissions/",
        "/d/team/",
        "/d/team/?depth=2",
        "/d/rankings/",
        "/d/rankings/?by=commission&period=week",
        "/d/withdraw/",
        "/d/share/",
        f"/d/share/?product={shop[0].pk}",
        f"/products/{shop[0].pk}/",
    ]:
        assert client.get(url).status_code == 200, url
    product_page = client.get(f"/products/{shop[0].pk}/").content.decode()
    assert "分享赚" in product_page
    qr = client.get("/d/share/qr.png?path=/")
    assert qr["Content-Type"] == "image/png" and qr.content[:4] == b"\x89PNG"
    poster = client.get(f"/d/share/poster/{shop[0].pk}.png")
    assert poster["Content-Type"] == "image/png" and len(poster.content) > 5000


def test_apply_page_follows_enable_mode(shop):
    config.update_settings(None, enable_mode="designated")
    client = signed_in(make_buyer())
    assert "暂不开放申请" in client.get("/d/").content.decode()
    config.update_settings(None, enable_mode="apply", review_mode="manual")
    client.post("/d/", {"real_name": "张三"})
    waiting = client.get("/d/").content.decode()
    assert "等待商家审核" in waiting
    # A next step while the merchant reviews: where the answer arrives, and the shop.
    assert "审核结果会通知到“我的 - 消息”" in waiting and 'href="/" data-testid="apply-browse"' in waiting


def test_home_and_product_queries_are_flat(django_assert_max_num_queries):
    category = make_category("数码")
    for i in range(3):
        make_product(f"耳机{i}", category=category)
    client = Client()
    with django_assert_max_num_queries(8) as few:
        client.get("/")
    for i in range(25):
        make_product(f"数据线{i}", category=category)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")
    many_skus = make_product("手机壳", category=category, specs_list=[{"颜色": str(i)} for i in range(20)])
    # 商品评价 (its figures and latest reviews) costs one query of the 9.
    with django_assert_max_num_queries(9):
        client.get(f"/products/{many_skus.pk}/")


def test_buyer_requests_a_partial_refund_and_cancels_an_order_from_the_h5_pages(shop):
    from fenxiao.orders.models import AfterSale, Order

    buyer = make_buyer()
    make_address(buyer)
    client = signed_in(buyer)
    sku = shop[0].skus.first()
    placed = client.post(f"/checkout/?sku={sku.pk}&qty=2", {"expected_total": sku.price * 2})
    number = placed["Location"].split("/")[2]
    order = Order.objects.get(number=number)
    pay_in_sandbox(order)
    line = order.lines.get()
    # One of two units, at ¥5.00 (typed in yuan).
    response = client.post(
        f"/orders/{number}/after-sale/",
        {
            "kind": "refund_only",
            "reason": "少发了一件",
            f"line_{line.pk}": "1",
            f"qty_{line.pk}": "1",
            f"amount_{line.pk}": "5.00",
        },
    )
    assert response.status_code == 302
    after_sale = AfterSale.objects.get(order=order)
    assert (after_sale.amount, after_sale.status) == (500, "requested")
    # A second request for the same line is refused with the reason shown, nothing written:
    # the only line is held, so the form leads back to the order and its request.
    again = client.post(
        f"/orders/{number}/after-sale/",
        {"kind": "refund_only", "reason": "再试一次", f"line_{line.pk}": "1"},
        follow=True,
    )
    assert "订单商品均已退款或正在售后中" in again.content.decode()
    assert AfterSale.objects.filter(order=order).count() == 1
    # Withdraw it, then cancel the paid, unshipped order: a full refund.
    client.post(f"/orders/{number}/after-sale/{after_sale.number}/withdraw/")
    client.post(f"/orders/{number}/cancel/", {"reason": "不想要了"})
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("cancelled", order.paid_amount)


def test_my_group_buys_are_reached_from_my_page_and_empty_has_a_next_step():
    """我的拼团 was only linked from a group's own page: a buyer who left it could not find
    their groups again. 我的 lists it; with no group yet, the page offers 去逛逛."""
    client = signed_in(make_buyer())
    assert 'href="/groups/mine/"' in client.get("/me/").content.decode()
    empty = client.get("/groups/mine/").content.decode()
    assert "还没有参加过拼团" in empty
    assert '<a class="btn" href="/">去逛逛</a>' in empty


def test_empty_lists_offer_a_next_step():
    """An empty 我的订单 (any tab) offers 去逛逛; an empty 佣金明细 or 我的团队 offers 去分享,
    where the distributor gets their link, instead of only saying 快去分享吧."""
    user = make_buyer()
    distributors.designate(user, make_staff())
    client = signed_in(user)
    for url in ["/orders/", "/orders/?status=pending_payment"]:
        assert '<a class="btn" href="/">去逛逛</a>' in client.get(url).content.decode(), url
    for url in ["/d/commissions/", "/d/commissions/?status=settled", "/d/team/", "/d/team/?depth=2"]:
        assert '<a class="btn" href="/d/share/">去分享</a>' in client.get(url).content.decode(), url
