"""The order page's header at 1280 px: the order's next step as a button (改价, 发货, 核销,
处理售后), every other action under one 更多操作 dropdown, and a title of 订单 › <number>
(it read 订单 › 订单 › <number>, app and model, cut to 订… › 订… beside eight buttons)."""

import re

import pytest
from django.urls import reverse

from fenxiao.orders.models import AfterSale, Order
from fenxiao.orders.services import after_sales, lifecycle
from fenxiao.testing import in_english, login, make_buyer, make_product, make_staff

from .backend import make_order, pay, texts, url

pytestmark = pytest.mark.django_db

ALL = {"ship", "packing", "adjust", "address", "refund", "cancel", "note", "verify-pickup", "after-sale"}


def header(boss, order) -> tuple[set[str], set[str]]:
    """The actions (by url path) shown as buttons, and those under 更多操作."""
    body = boss.get(url(order)).content.decode()
    prefix = re.escape(f"/backend/orders/order/{order.pk}/")
    more = body.index("更多操作")
    menu_start = body.index('<template x-teleport="body">', more)
    menu = body[menu_start : body.index("</template>", menu_start)]
    buttons = set(re.findall(prefix + r"([\w-]+)/", body[:more])) - {"change"}
    listed = set(re.findall(prefix + r"([\w-]+)/", menu))
    assert (buttons | listed) <= ALL and not buttons & listed
    return buttons, listed


def refund_request(order, reason="不想要了"):
    return after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason=reason, lines=[{"line_id": order.lines.first().pk}]
    )


def test_each_state_offers_its_next_step_as_a_button_and_the_rest_under_more(boss):
    unpaid = make_order()
    assert header(boss, unpaid) == ({"adjust"}, {"address", "note", "cancel"})

    to_ship = pay(make_order())
    assert header(boss, to_ship) == ({"ship"}, {"packing", "address", "note", "refund", "cancel"})

    grouping = pay(make_order())
    Order.objects.filter(pk=grouping.pk).update(awaiting_group=True)  # 拼团: waits for its group
    assert header(boss, grouping) == (set(), {"address", "note", "refund", "cancel"})

    shipped = lifecycle.ship(pay(make_order()), make_staff(), carrier="顺丰", tracking_number="SF1")
    assert header(boss, shipped) == (set(), {"packing", "note", "refund"})

    Order.objects.filter(pk=shipped.pk).update(status="completed")
    assert header(boss, shipped) == (set(), {"note", "refund"})

    lifecycle.cancel(unpaid, make_staff(), reason="买家不要了")
    assert header(boss, unpaid) == (set(), {"note"})


def test_an_order_with_an_open_after_sale_offers_to_handle_it(boss):
    order = pay(make_order(prices=(3000, 2000)))
    after_sale = refund_request(order)
    assert header(boss, order) == ({"ship", "after-sale"}, {"packing", "address", "note", "refund", "cancel"})
    response = boss.get(url(order, "after-sale"))
    assert response.status_code == 302 and response.url == url(after_sale)

    # Two open after-sales: the after-sale list of this order, open ones only.
    second = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="发错颜色", lines=[{"line_id": order.lines.last().pk}]
    )
    listing = boss.get(boss.get(url(order, "after-sale")).url).content.decode()
    assert after_sale.number in listing and second.number in listing
    other = refund_request(pay(make_order()))
    assert other.number not in listing

    # Settled: no button, and an old link says so instead of failing.
    AfterSale.objects.filter(order=order).update(status="rejected")
    assert "after-sale" not in header(boss, order)[0]
    response = boss.get(url(order, "after-sale"))
    assert response.status_code == 302 and response.url == url(order)
    assert texts(response) == [f"订单 {order.number} 没有进行中的售后"]
    assert boss.get("/backend/orders/order/999999/after-sale/").status_code == 404


def test_handling_an_after_sale_needs_the_after_sale_permission():
    order = pay(make_order())
    after_sale = refund_request(order)
    clerk = login(make_staff("clerk", perms=["orders.view_order", "orders.change_order"]))
    assert url(order, "after-sale") not in clerk.get(url(order)).content.decode()
    response = clerk.get(url(order, "after-sale"))
    assert getattr(response, "url", None) != url(after_sale)


def test_a_pickup_order_offers_verification_as_its_button(boss):
    from fenxiao.orders.services import checkout
    from fenxiao.stores.testing import make_store

    sku = make_product("桂花乌龙", price=4500).skus.get()
    store = make_store("湖滨店", stock={sku.pk: 5})
    order = checkout.place_order(make_buyer(), [(sku.pk, 1)], fulfilment="pickup", pickup_store_id=store.pk)
    order = pay(order)
    assert header(boss, order) == ({"verify-pickup"}, {"note", "refund", "cancel"})


def test_the_title_is_the_order_list_and_the_order(boss):
    order = make_order()
    body = boss.get(url(order)).content.decode()
    title = re.search(r"<h1 [^>]*>(.*?)</h1>", body, re.S).group(1)
    links = re.findall(r'<a href="([^"]+)"[^>]*>\s*([^<]*?)\s*</a\s*>', title)
    assert links == [(reverse("admin:orders_order_changelist"), "订单"), (url(order), order.number)]


def test_the_header_is_english_in_english(boss):
    order = pay(make_order())
    refund_request(order)
    body = in_english(boss).get(url(order)).content.decode()
    title = re.search(r"<h1 [^>]*>(.*?)</h1>", body, re.S).group(1)
    assert "More actions" in body and "Handle after-sale" in body
    assert re.findall(r">\s*([^<]*?)\s*</a\s*>", title) == ["Orders", order.number]
