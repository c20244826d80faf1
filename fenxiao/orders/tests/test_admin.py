"""The merchant backend for orders, as staff use it: every page opens, shipping, price and
address changes, order settings, and a list whose queries do not grow with its rows."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from fenxiao.customers.models import Segment
from fenxiao.customers.services import wallet
from fenxiao.orders.models import Order, OrderSettings
from fenxiao.orders.services import after_sales, lifecycle, reviews
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.models import Payment, PaymentNotification, Refund
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import make_address, make_buyer, make_category, make_product, make_staff, sms_code_for

from .backend import login, make_order, pay, snapshot, texts, url

pytestmark = pytest.mark.django_db


OWN_APPS = {"auth", "customers", "catalog", "orders", "payments"}


# --- every page opens ---------------------------------------------------------------------


@pytest.fixture
def everything(settings, tmp_path):
    """At least one record of every model the backend shows, in interesting states."""
    settings.MEDIA_ROOT = tmp_path
    parent = make_category("服装")
    make_category("T恤", parent=parent)
    OrderSettings.current()
    unpaid = make_order()
    start_payment(unpaid, "sandbox")
    shipped = pay(make_order(prices=(3000, 2000)))
    after_sales.request_after_sale(
        shipped,
        make_staff(perms=[]),
        kind="refund_only",
        reason="少发一件",
        lines=[{"line_id": shipped.lines.first().pk}],
    )
    requested = pay(make_order())
    after_sales.request_after_sale(
        requested,
        requested.buyer,
        kind="refund_only",
        reason="不想要了",
        lines=[{"line_id": requested.lines.first().pk}],
    )
    lifecycle.ship(pay(make_order()), make_staff(), carrier="顺丰", tracking_number="SF1")  # a parcel
    received = pay(make_order())
    lifecycle.ship(received, make_staff(), carrier="顺丰", tracking_number="SF2")
    lifecycle.complete(received, actor=received.buyer)
    reviews.write(received.buyer, received.lines.first().pk, 5, "很好")  # 商品评价
    # A forged notification: refused, logged and counted.
    forged = Client().post("/api/v1/payments/notify/sandbox", b"{}", content_type="application/json")
    assert forged.status_code == 400
    sms_code_for("13912345678")  # a registration code in the sandbox SMS outbox
    wallet.credit(requested.buyer_id, 500, source_key="adjust:test-admin", note="客服补偿")  # 商城余额流水
    Segment.objects.create(name="回头客", criteria={"orders_min": 2})
    return {"unpaid": unpaid, "shipped": shipped, "requested": requested}


def filter_params(model, model_admin) -> dict:
    """A value for every list filter of a page, some of them nonsense on purpose."""
    params = {}
    for spec in model_admin.list_filter:
        name = spec[0] if isinstance(spec, tuple) else spec
        if not isinstance(name, str):
            continue
        field = model._meta.get_field(name.split("__")[0])
        if field.is_relation:
            params[f"{name}__id__exact"] = "1"
        elif field.get_internal_type() in ("DateTimeField", "DateField"):
            params.update({f"{name}_from": "2020-01-01", f"{name}_to": "2099-12-31"})
        else:
            params[f"{name}__exact"] = "1"
    return params


def test_every_changelist_and_change_page_opens(boss, everything):
    checked = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in OWN_APPS:
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = boss.get(changelist, follow=True)
        assert response.status_code == 200, changelist
        response = boss.get(changelist, {"q": "1 测试' OR 1=1 --"}, follow=True)
        assert response.status_code == 200, changelist
        response = boss.get(changelist, filter_params(model, model_admin), follow=True)
        assert response.status_code == 200, changelist
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {opts.model_name} to open"
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = boss.get(change)
        assert response.status_code == 200, change
        if model_admin.has_add_permission(boss.get(changelist).wsgi_request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            assert boss.get(add).status_code == 200, add
        checked += 1
    assert checked >= 10


HUGE = "99999999999999999999"  # past 64 bits: SQLite cannot bind it


def huge_filter_params(model, model_admin) -> dict:
    """Every list filter of a page, its own (a parameter name) and the field ones, given a
    number no database integer holds, as a hand-edited address would."""
    params = {}
    for spec in model_admin.list_filter:
        name = spec[0] if isinstance(spec, tuple) else spec
        if isinstance(name, str):
            field = model._meta.get_field(name.split("__")[0])
            params[name if field.is_relation else f"{name}__exact"] = HUGE  # ?store=<id>
        elif getattr(name, "parameter_name", None):
            params[name.parameter_name] = HUGE
    return params


def test_every_changelist_takes_a_number_too_large_as_a_bad_filter(boss, everything):
    checked = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in OWN_APPS:
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        one_at_a_time = [{key: value} for key, value in huge_filter_params(model, model_admin).items()]
        for params in [*one_at_a_time, {"p": HUGE}, {"o": HUGE}]:
            response = boss.get(changelist, params)
            assert response.status_code in (200, 302), (changelist, params, response.status_code)
            assert boss.get(changelist, params, follow=True).status_code == 200, (changelist, params)
        checked += 1
    assert checked >= 10
    reply = boss.get(reverse("admin:orders_order_change", args=[HUGE]))
    assert reply.status_code in (302, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"status": "pending_shipment"},
        {"status": "nonsense"},
        {"created_at_from": "2020-01-01", "created_at_to": "2099-12-31"},
        {"created_at_from": "not-a-date", "created_at_to": "2099-13-45"},
        {"q": "13900000000"},
        {"q": "张三"},
        {"o": "3"},
        {"p": "999"},
    ],
)
def test_order_list_filters_and_search_never_fail(boss, everything, query):
    response = boss.get(reverse("admin:orders_order_changelist"), query, follow=True)
    assert response.status_code == 200


def test_order_list_filters_by_status_and_date(boss, everything):
    changelist = reverse("admin:orders_order_changelist")
    response = boss.get(changelist, {"status": "pending_payment"})
    assert everything["unpaid"].number in response.content.decode()
    assert everything["requested"].number not in response.content.decode()
    response = boss.get(changelist, {"created_at_from": "2000-01-01", "created_at_to": "2000-01-02"})
    assert everything["unpaid"].number not in response.content.decode()
    response = boss.get(changelist, {"q": everything["unpaid"].buyer.phone})
    body = response.content.decode()
    assert everything["unpaid"].number in body and everything["shipped"].number not in body


@pytest.mark.parametrize("path", ["ship", "adjust", "address", "refund", "cancel"])
def test_action_pages_open_and_unknown_orders_are_404(boss, everything, path):
    order = everything["requested"]
    assert boss.get(url(order, path)).status_code == 200
    assert boss.get(f"/backend/orders/order/999999/{path}/").status_code == 404
    assert boss.get(f"/backend/orders/order/abc/{path}/").status_code == 404


def test_order_detail_shows_lines_events_after_sales_and_money(boss, everything):
    order = everything["shipped"]
    body = boss.get(url(order)).content.decode()
    assert order.number in body
    assert "¥50.00" in body  # the total
    for line in order.lines.all():
        assert line.product_name in body
    assert "买家下单" in body and "买家已付款" in body
    assert order.after_sales.get().number in body
    assert Refund.objects.get(payment__order=order).out_refund_no in body
    # Each row says what it is once, in its columns (no title line repeating its str()).
    for line in order.lines.all():
        assert str(line) not in body


def test_a_group_buy_order_waiting_for_its_group_offers_no_shipping(boss):
    """待成团: 发货 and 打印发货单 are not offered until the group is complete (shipping would
    only refuse); the order can still be noted, refunded or cancelled."""
    waiting, ready = pay(make_order()), pay(make_order())
    Order.objects.filter(pk=waiting.pk).update(awaiting_group=True)
    shown = boss.get(url(ready)).content.decode()
    assert url(ready, "ship") in shown and url(ready, "packing") in shown
    page = boss.get(url(waiting)).content.decode()
    assert url(waiting, "ship") not in page and url(waiting, "packing") not in page
    assert url(waiting, "note") in page and url(waiting, "cancel") in page


def test_records_changed_only_by_actions_offer_no_empty_history(boss, everything):
    """An order, an after-sale, a payment keep their own log; Django's history of form saves
    was always empty for them. A product, edited as a form, keeps its history."""
    order = everything["shipped"]
    for record in (order, order.after_sales.get(), order.payments.get()):
        page = boss.get(url(record)).content.decode()
        assert url(record, "history") not in page, record
    product = order.lines.first().product
    assert url(product, "history") in boss.get(url(product)).content.decode()


def test_order_detail_cannot_be_saved_as_a_form(boss, everything):
    order = everything["unpaid"]
    before = snapshot(order)
    response = boss.post(url(order), {"total": "1", "status": "cancelled"})
    assert response.status_code == 403
    assert snapshot(order) == before


# --- ship ---------------------------------------------------------------------------------


def test_ship_through_backend():
    order = pay(make_order())
    staff = make_staff(perms=["orders.view_order", "orders.change_order"])
    client = login(staff)
    page = client.get(url(order)).content.decode()
    assert url(order, "ship") in page
    assert url(order, "adjust") not in page  # only for unpaid orders
    assert url(order, "refund") not in page  # needs orders.change_aftersale
    response = client.post(url(order, "ship"), {"carrier": "shunfeng", "tracking_number": "SF1234567890"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("shipped", "shunfeng", "SF1234567890")
    event = order.events.last()
    assert (event.kind, event.actor_id) == ("shipped", staff.pk)


@pytest.mark.parametrize(
    "data",
    [
        {"carrier": "顺丰速运", "tracking_number": ""},
        {"carrier": "顺丰速运", "tracking_number": "   "},
        {"carrier": "", "tracking_number": "SF1"},
        {"carrier": "顺丰速运", "tracking_number": "X" * 41},
        {},
    ],
)
def test_ship_with_bad_input_shows_error_and_writes_nothing(boss, data):
    order = pay(make_order())
    before = snapshot(order)
    response = boss.post(url(order, "ship"), data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert snapshot(order) == before


def test_ship_refused_by_service_shows_message(boss):
    order = make_order()  # unpaid: cannot ship
    before = snapshot(order)
    response = boss.post(url(order, "ship"), {"carrier": "zhongtong", "tracking_number": "ZT1"})
    assert response.status_code == 200
    assert any("状态" in text for text in texts(response))
    assert snapshot(order) == before


def test_staff_without_change_order_cannot_ship():
    order = pay(make_order())
    viewer = login(make_staff(perms=["orders.view_order"]))
    page = viewer.get(url(order))
    assert page.status_code == 200
    assert url(order, "ship") not in page.content.decode()
    before = snapshot(order)
    response = viewer.post(url(order, "ship"), {"carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 403
    assert snapshot(order) == before


def test_buyer_cannot_reach_backend():
    order = pay(make_order())
    buyer = login(order.buyer)
    response = buyer.post(url(order, "ship"), {"carrier": "顺丰", "tracking_number": "SF1"})
    assert response.status_code == 302  # to the backend login
    order.refresh_from_db()
    assert order.status == "pending_shipment"


# --- adjust price and address ------------------------------------------------------------


def test_adjust_price_in_yuan():
    order = make_order(prices=(3333, 6667))
    client = login(make_staff(perms=["orders.view_order", "orders.change_order"]))
    assert client.get(url(order, "adjust")).status_code == 200
    response = client.post(
        url(order, "adjust"), {"discount_amount": "10.01", "shipping_fee": "8.00", "reason": "老客户优惠"}
    )
    assert response.status_code == 302, texts(response)
    order.refresh_from_db()
    assert (order.discount_amount, order.shipping_fee, order.total) == (1001, 800, 9799)
    assert [line.discount_share for line in order.lines.order_by("id")] == [334, 667]
    assert order.events.last().kind == "price_adjusted"


@pytest.mark.parametrize(
    "data",
    [
        {"discount_amount": "100.00", "shipping_fee": "0"},  # total would be 0
        {"discount_amount": "150.00", "shipping_fee": "0"},  # total would be negative
        {"discount_amount": "1.001", "shipping_fee": "0"},  # third decimal
        {"discount_amount": "abc", "shipping_fee": "0"},
        {"discount_amount": "1e999999", "shipping_fee": "0"},
        {"discount_amount": "NaN", "shipping_fee": "0"},
        {"discount_amount": "1", "shipping_fee": "-1"},
        {"discount_amount": "", "shipping_fee": ""},
    ],
)
def test_adjust_price_to_nothing_or_nonsense_is_refused(boss, data):
    order = make_order(prices=(10000,))
    before = snapshot(order)
    response = boss.post(url(order, "adjust"), data)
    assert response.status_code == 200
    assert snapshot(order) == before


def test_adjust_price_of_paid_order_is_refused(boss):
    order = pay(make_order())
    before = snapshot(order)
    response = boss.post(url(order, "adjust"), {"discount_amount": "1.00", "shipping_fee": "0"})
    assert response.status_code == 200
    assert any("待付款" in text for text in texts(response))
    assert snapshot(order) == before


def test_change_address(boss):
    order = make_order()
    response = boss.post(
        url(order, "address"),
        {
            "recipient": "李四",
            "phone": "13700001111",
            "province": "广东省",
            "city": "深圳市",
            "district": "南山区",
            "detail": "科技园 1 号",
        },
    )
    assert response.status_code == 302, texts(response)
    order.refresh_from_db()
    assert (order.recipient, order.address_text) == ("李四", "广东省深圳市南山区科技园 1 号")
    bad = boss.post(
        url(order, "address"),
        {"recipient": "王五", "phone": "12345", "province": "广东省", "city": "深圳市", "detail": "x"},
    )
    assert bad.status_code == 200
    order.refresh_from_db()
    assert order.recipient == "李四"


# --- payments ---------------------------------------------------------------------------


def test_payment_records_are_read_only(boss, everything):
    payment = Payment.objects.first()
    assert boss.get(reverse("admin:payments_payment_add")).status_code == 403
    assert boss.post(url(payment), {"amount": "1"}).status_code == 403
    assert boss.get(url(payment, "delete")).status_code == 403
    note = PaymentNotification.objects.first()
    assert boss.get(url(note)).status_code == 200
    assert boss.post(url(note), {}).status_code == 403


# --- settings --------------------------------------------------------------------------


def test_order_settings_is_one_record_edited_in_yuan(boss):
    changelist = reverse("admin:orders_ordersettings_changelist")
    response = boss.get(changelist)
    assert response.status_code == 302
    settings = OrderSettings.objects.get()
    assert response["Location"] == url(settings)
    assert boss.get(reverse("admin:orders_ordersettings_add")).status_code == 403
    assert boss.get(url(settings, "delete")).status_code == 403
    form = boss.get(url(settings)).content.decode()
    assert 'value="0.00"' in form
    ok = {
        "payment_timeout_minutes": "15",
        "auto_complete_days": "7",
        "signed_auto_complete_days": "2",
        "after_sale_days": "15",
        "shipping_fee": "8.5",
        "free_shipping_threshold": "99.00",
        "low_stock_threshold": "10",
        "after_sale_respond_days": "2",
        "return_ship_days": "7",
        "return_receive_days": "10",
    }
    response = boss.post(url(settings), ok)
    assert response.status_code == 302
    settings.refresh_from_db()
    assert (settings.shipping_fee, settings.free_shipping_threshold, settings.payment_timeout_minutes) == (
        850,
        9900,
        15,
    )
    bad = boss.post(
        url(settings),
        {
            "payment_timeout_minutes": "15",
            "auto_complete_days": "7",
            "after_sale_days": "15",
            "shipping_fee": "8.555",
            "free_shipping_threshold": "-1",
            "low_stock_threshold": "10",
        },
    )
    assert bad.status_code == 200
    settings.refresh_from_db()
    assert settings.shipping_fee == 850
    for minutes in ("0", "99999999999999999999", "abc"):
        bad = boss.post(
            url(settings),
            {
                "payment_timeout_minutes": minutes,
                "auto_complete_days": "7",
                "after_sale_days": "15",
                "shipping_fee": "1",
                "free_shipping_threshold": "0",
                "low_stock_threshold": "10",
            },
        )
        assert bad.status_code == 200
    settings.refresh_from_db()
    assert (settings.payment_timeout_minutes, settings.shipping_fee) == (15, 850)
    assert OrderSettings.objects.count() == 1
    # The stock warning level of the to-do panel: whole pieces, 0 turns it off.
    for bad_level in ("-1", "abc", "1000001"):
        reply = boss.post(url(settings), {**ok, "low_stock_threshold": bad_level})
        assert reply.status_code == 200
    assert boss.post(url(settings), {**ok, "low_stock_threshold": "0"}).status_code == 302
    settings.refresh_from_db()
    assert settings.low_stock_threshold == 0


# --- query budget ----------------------------------------------------------------------


def test_order_list_queries_do_not_grow_with_rows(boss, django_assert_max_num_queries):
    changelist = reverse("admin:orders_order_changelist")
    category = make_category()
    sku = make_product(category=category, stock=1000).skus.get()

    def orders(n):
        for _ in range(n):
            buyer = make_buyer()
            place_order(buyer, [(sku.pk, 1)], address_id=make_address(buyer).pk)

    orders(3)
    boss.get(changelist)  # warm the session and content types
    with django_assert_max_num_queries(12) as few:
        assert boss.get(changelist).status_code == 200
    orders(27)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = boss.get(changelist)
    assert response.status_code == 200
    assert Order.objects.count() == 30
    assert response.content.decode().count("/change/") >= 30
    assert len(many.captured_queries) == len(few.captured_queries)
