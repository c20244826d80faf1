"""The merchant backend for orders, after-sales, settings and payments, as staff use it."""

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import AfterSale, Order, OrderEvent, OrderSettings
from fenxiao.orders.services import after_sales
from fenxiao.orders.services.checkout import place_order
from fenxiao.payments.gateways.sandbox import SandboxGateway
from fenxiao.payments.models import Payment, PaymentNotification, Refund, SandboxTrade
from fenxiao.payments.services.payments import start_payment
from fenxiao.testing import make_address, make_buyer, make_category, make_product, make_staff, sms_code_for

pytestmark = pytest.mark.django_db

OWN_APPS = {"auth", "customers", "catalog", "orders", "payments"}


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def make_order(*, prices=(4990,), quantity=1, stock=10, buyer=None) -> Order:
    buyer = buyer or make_buyer()
    address = make_address(buyer)
    skus = [make_product(price=price, stock=stock).skus.get() for price in prices]
    return place_order(buyer, [(sku.pk, quantity) for sku in skus], address_id=address.pk)


def pay(order: Order) -> Order:
    """The buyer pays on the sandbox cashier; the gateway's signed notification marks it paid."""
    payment = start_payment(order, "sandbox")
    SandboxGateway().complete_trade(payment.out_trade_no)
    order.refresh_from_db()
    assert order.status == "pending_shipment"
    return order


def url(obj, action=None):
    """The change page of `obj`, or the page of one of its actions ("delete", "ship" …)."""
    opts = obj._meta
    if action is None:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    if action in ("delete", "history"):
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{action}", args=[obj.pk])
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{changelist}{obj.pk}/{action}/"


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot(order: Order) -> tuple:
    order.refresh_from_db()
    return (
        order.status,
        order.total,
        order.discount_amount,
        order.shipping_fee,
        order.refunded_amount,
        order.carrier,
        order.tracking_number,
        OrderEvent.objects.filter(order=order).count(),
        AfterSale.objects.filter(order=order).count(),
        Refund.objects.count(),
    )


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
    # A forged notification: refused, logged and counted.
    forged = Client().post("/api/v1/payments/notify/sandbox", b"{}", content_type="application/json")
    assert forged.status_code == 400
    sms_code_for("13912345678")  # a registration code in the sandbox SMS outbox
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
    response = client.post(url(order, "ship"), {"carrier": "顺丰速运", "tracking_number": "SF1234567890"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.carrier, order.tracking_number) == ("shipped", "顺丰速运", "SF1234567890")
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
    response = boss.post(url(order, "ship"), {"carrier": "中通", "tracking_number": "ZT1"})
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


# --- refunds, after-sales, cancellation --------------------------------------------------


def refund_form(order, **lines):
    data = {"kind": "refund_only", "reason": "商品瑕疵", "restock": ""}
    for line_id, (quantity, amount) in lines.items():
        data[f"line_{line_id}_selected"] = "on"
        data[f"line_{line_id}_quantity"] = quantity
        data[f"line_{line_id}_amount"] = amount
    return data


def test_staff_partial_refund_through_backend():
    order = pay(make_order(prices=(3000, 2000), stock=5))
    first, second = order.lines.order_by("id")
    staff = make_staff(perms=["orders.view_order", "orders.change_aftersale"])
    client = login(staff)
    assert client.get(url(order, "refund")).status_code == 200
    data = refund_form(order, **{str(first.pk): ("1", "12.50")})
    data["restock"] = "yes"
    response = client.post(url(order, "refund"), data)
    assert response.status_code == 302, texts(response)
    order.refresh_from_db()
    assert order.refunded_amount == 1250
    after_sale = order.after_sales.get()
    assert (after_sale.status, after_sale.amount, after_sale.requested_by) == ("refunded", 1250, "staff")
    refund = Refund.objects.get(after_sale=after_sale)
    assert (refund.amount, refund.status) == (1250, "succeeded")
    assert Sku.objects.get(pk=first.sku_id).stock == 5
    assert Sku.objects.get(pk=second.sku_id).stock == 4
    kinds = list(order.events.values_list("kind", flat=True))
    assert "after_sale_requested" in kinds and "after_sale_approved" in kinds


@pytest.mark.parametrize("amount", ["50.01", "1000", "-1", "0", "abc"])
def test_refund_above_paid_or_nonsense_writes_nothing(boss, amount):
    order = pay(make_order(prices=(5000,)))
    line = order.lines.get()
    before = snapshot(order)
    response = boss.post(url(order, "refund"), refund_form(order, **{str(line.pk): ("", amount)}))
    assert response.status_code == 200
    assert snapshot(order) == before


def test_refund_without_lines_or_reason_is_refused(boss):
    order = pay(make_order())
    before = snapshot(order)
    assert boss.post(url(order, "refund"), {"kind": "refund_only", "reason": "x"}).status_code == 200
    line = order.lines.get()
    data = refund_form(order, **{str(line.pk): ("", "")})
    data["reason"] = ""
    assert boss.post(url(order, "refund"), data).status_code == 200
    data = refund_form(order, **{str(line.pk): ("", "")})
    data["kind"] = "return_refund"  # not shipped yet: the service refuses
    response = boss.post(url(order, "refund"), data)
    assert response.status_code == 200 and texts(response)
    assert snapshot(order) == before


def test_refund_needs_change_aftersale():
    order = pay(make_order())
    client = login(make_staff(perms=["orders.view_order", "orders.change_order"]))
    line = order.lines.get()
    before = snapshot(order)
    response = client.post(url(order, "refund"), refund_form(order, **{str(line.pk): ("", "")}))
    assert response.status_code == 403
    assert snapshot(order) == before


def test_approve_buyer_request(boss):
    order = pay(make_order(prices=(2000,)))
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    page = boss.get(url(after_sale))
    assert "同意并退款" in page.content.decode()
    assert boss.get(url(after_sale, "approve")).status_code == 200
    response = boss.post(url(after_sale, "approve"), {"_confirm": "1"})
    assert response.status_code == 302, texts(response)
    after_sale.refresh_from_db()
    order.refresh_from_db()
    assert after_sale.status == "refunded"
    assert (order.refunded_amount, order.status) == (2000, "cancelled")
    again = boss.post(url(after_sale, "approve"), {"_confirm": "1"})
    assert again.status_code == 200 and texts(again)
    assert Refund.objects.filter(after_sale=after_sale).count() == 1


def test_reject_needs_reason(boss):
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    response = boss.post(url(after_sale, "reject"), {"reason": "  "})
    assert response.status_code == 200
    after_sale.refresh_from_db()
    assert after_sale.status == "requested"
    response = boss.post(url(after_sale, "reject"), {"reason": "商品已使用"})
    assert response.status_code == 302
    after_sale.refresh_from_db()
    assert (after_sale.status, after_sale.reject_reason) == ("rejected", "商品已使用")
    assert order.events.last().kind == "after_sale_rejected"
    assert boss.get(url(after_sale)).status_code == 200


def test_after_sale_actions_need_permission():
    order = pay(make_order())
    after_sale = after_sales.request_after_sale(
        order, order.buyer, kind="refund_only", reason="不想要了", lines=[{"line_id": order.lines.get().pk}]
    )
    viewer = login(make_staff(perms=["orders.view_aftersale", "orders.view_order"]))
    assert viewer.get(url(after_sale)).status_code == 200
    assert viewer.post(url(after_sale, "approve"), {}).status_code == 403
    assert viewer.post(url(after_sale, "reject"), {"reason": "x"}).status_code == 403
    after_sale.refresh_from_db()
    assert after_sale.status == "requested"


def test_cancel_unpaid_order(boss):
    unpaid = make_order(stock=3)
    sku = unpaid.lines.get().sku
    response = boss.post(url(unpaid, "cancel"), {"reason": "买家要求"})
    assert response.status_code == 302, texts(response)
    unpaid.refresh_from_db()
    assert unpaid.status == "cancelled"
    assert Sku.objects.get(pk=sku.pk).stock == 3
    again = boss.post(url(unpaid, "cancel"), {"reason": ""})
    assert again.status_code == 200 and texts(again)


def test_cancel_paid_order_refunds_in_full(boss):
    paid = pay(make_order(prices=(2500,)))
    response = boss.post(url(paid, "cancel"), {"reason": ""})
    assert response.status_code == 302, texts(response)
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("cancelled", 2500)

    again = boss.post(url(paid, "cancel"), {"reason": ""})
    assert again.status_code == 200 and texts(again)


def test_cancelling_a_paid_order_needs_refund_permission():
    order = pay(make_order())
    client = login(make_staff(perms=["orders.view_order", "orders.change_order"]))
    before = snapshot(order)
    response = client.post(url(order, "cancel"), {"reason": "x"})
    assert response.status_code == 200
    assert any("售后" in text for text in texts(response))
    assert snapshot(order) == before


# --- payments ---------------------------------------------------------------------------


def test_failed_refund_can_be_retried(boss, monkeypatch):
    order = pay(make_order(prices=(3000,)))
    # The gateway is down for refunds at first.
    original = SandboxGateway.refund
    from fenxiao.payments.gateways.base import RefundResult

    monkeypatch.setattr(
        SandboxGateway, "refund", lambda self, **kw: RefundResult(succeeded=False, failure_reason="网关维护")
    )
    after_sales.request_after_sale(
        order, make_staff(), kind="refund_only", reason="退款", lines=[{"line_id": order.lines.get().pk}]
    )
    refund = Refund.objects.get()
    assert refund.status == "failed"
    page = boss.get(url(refund))
    assert "重试退款" in page.content.decode()
    monkeypatch.setattr(SandboxGateway, "refund", original)
    assert login(make_staff(perms=["payments.view_refund"])).post(url(refund, "retry"), {}).status_code == 403
    response = boss.post(url(refund, "retry"), {"_confirm": "1"})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 3000
    # Retrying what is not failed is refused politely.
    response = boss.post(
        reverse("admin:payments_refund_changelist"),
        {"action": "retry_selected", "_selected_action": [refund.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert any("已完成，无需重试" in text for text in texts(response))
    assert Refund.objects.get().status == "succeeded"
    assert SandboxTrade.objects.get().refunded_amount == 3000


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
    response = boss.post(
        url(settings),
        {
            "payment_timeout_minutes": "15",
            "auto_complete_days": "7",
            "after_sale_days": "15",
            "shipping_fee": "8.5",
            "free_shipping_threshold": "99.00",
        },
    )
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
            },
        )
        assert bad.status_code == 200
    settings.refresh_from_db()
    assert (settings.payment_timeout_minutes, settings.shipping_fee) == (15, 850)
    assert OrderSettings.objects.count() == 1


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
