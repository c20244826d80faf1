"""The order page's 发货 form ships the whole order or part of it (per line quantity, carrier
from the list), and the page shows each parcel with its goods, state and trail."""

import re

import pytest

from fenxiao.orders.models import Order, Parcel, TrackingEvent

from .backend import texts, url
from .logistics_helpers import paid_order
from .test_tracking import waybill_of

pytestmark = pytest.mark.django_db


def test_ship_part_then_the_rest_from_the_order_page(boss, pushes_in_process):
    order = paid_order((3, 1))
    first, second = order.lines.all()
    form = boss.get(url(order, "ship")).content.decode()
    assert "顺丰速运" in form and "极兔速递" in form and "本次发货" in form

    response = boss.post(
        url(order, "ship"),
        {
            "carrier": "shunfeng",
            "tracking_number": "SF7001",
            f"line_{first.pk}": "2",
            f"line_{second.pk}": "0",
        },
        follow=True,
    )
    assert any("已部分发货" in text for text in texts(response)), texts(response)
    order.refresh_from_db()
    assert order.status == "pending_shipment"

    # More than is left: refused on the form, nothing written.
    response = boss.post(
        url(order, "ship"),
        {
            "carrier": "zhongtong",
            "tracking_number": "ZT7002",
            f"line_{first.pk}": "2",
            f"line_{second.pk}": "1",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert Parcel.objects.filter(order=order).count() == 1

    # Nothing chosen: refused too.
    response = boss.post(
        url(order, "ship"),
        {
            "carrier": "zhongtong",
            "tracking_number": "ZT7002",
            f"line_{first.pk}": "0",
            f"line_{second.pk}": "0",
        },
    )
    assert "请填写本次发货的商品数量" in response.content.decode()

    response = boss.post(
        url(order, "ship"),
        {
            "carrier": "zhongtong",
            "tracking_number": "ZT7002",
            f"line_{first.pk}": "1",
            f"line_{second.pk}": "1",
        },
        follow=True,
    )
    assert any(f"订单 {order.number} 已发货" in text for text in texts(response))
    assert Order.objects.get(pk=order.pk).status == "shipped"

    parcel = Parcel.objects.get(tracking_number="SF7001")
    for _ in range(3):
        pushes_in_process.push(waybill_of(parcel).pk)
    assert TrackingEvent.objects.filter(parcel=parcel).count() == 3
    page = boss.get(url(order)).content.decode()
    assert "包裹1 · 顺丰速运 SF7001" in page and "包裹2 · 中通快递 ZT7002" in page
    assert f"{first.product_name} ×2" in page
    assert "快件已到达" in page and "运输中" in page and "轨迹订阅：已订阅" in page


def test_staff_resend_a_failed_tracking_subscription(boss):
    from django.urls import reverse

    from fenxiao.orders.models import TrackingSubscription
    from fenxiao.orders.services import shipments
    from fenxiao.testing import make_staff

    order = paid_order((1,))
    parcel = shipments.ship_parcel(order, make_staff(), carrier="顺丰", tracking_number="SF8001")
    sub = TrackingSubscription.objects.get(parcel=parcel)
    TrackingSubscription.objects.filter(pk=sub.pk).update(status="failed", last_error="HTTP 503 busy")

    listing = boss.get(reverse("admin:orders_trackingsubscription_changelist")).content.decode()
    assert "顺丰速运 SF8001" in listing and "订阅失败" in listing
    retry = reverse("admin:orders_trackingsubscription_changelist") + f"{sub.pk}/retry/"
    assert "HTTP 503 busy" in boss.get(retry).content.decode()
    response = boss.post(retry, {"confirm": "on"}, follow=True)
    assert any("已重新发送物流订阅" in text for text in texts(response)), texts(response)
    sub.refresh_from_db()
    assert sub.status == "subscribed"


def test_tracking_subscriptions_name_the_test_service_in_words_not_its_code(boss):
    """The backend names the demo's tracking service 模拟物流 (the list, its filter and the
    page, titled by its parcel), never by its code "sandbox"."""
    from django.urls import reverse

    from fenxiao.orders.models import TrackingSubscription
    from fenxiao.orders.services import shipments
    from fenxiao.testing import make_staff

    order = paid_order((1,))
    parcel = shipments.ship_parcel(order, make_staff(), carrier="顺丰", tracking_number="SF8002")
    sub = TrackingSubscription.objects.get(parcel=parcel)
    assert sub.provider == "sandbox"
    changelist = reverse("admin:orders_trackingsubscription_changelist")
    for page in (
        boss.get(changelist).content.decode(),
        boss.get(changelist + "?provider=sandbox").content.decode(),
        boss.get(reverse("admin:orders_trackingsubscription_change", args=[sub.pk])).content.decode(),
    ):
        assert "模拟物流" in page and "顺丰速运 SF8002" in page
        shown = re.sub(r'(href|action|src|class|id|name|value)="[^"]*"', "", page)
        assert "sandbox" not in shown.lower()
