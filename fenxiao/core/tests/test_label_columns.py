"""A status column drawn as a badge (`label_display`) reads as its text on change pages too:
unfold prints a read-only field with str(), which showed the (value, text) pair itself,
"('refused', '未绑定')". The list pages keep the coloured badge."""

import pytest
from django.urls import reverse

from fenxiao.core.admin import Label
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db


def test_a_label_is_the_pair_for_lists_and_its_text_or_badge_elsewhere():
    pair = Label("paid", "已支付", "success")
    assert tuple(pair) == ("paid", "已支付")
    assert str(pair) == "已支付"
    assert "已支付" in pair.__html__() and "('" not in pair.__html__()


def change_page(client, obj) -> str:
    opts = obj._meta
    reply = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert reply.status_code == 200
    return reply.content.decode()


def list_page(client, model) -> str:
    opts = model._meta
    reply = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert reply.status_code == 200
    return reply.content.decode()


def test_change_pages_show_the_status_text_not_the_pair():
    from fenxiao.distribution.models import Touch
    from fenxiao.distribution.tests.backend import designate
    from fenxiao.orders.models import TrackingSubscription
    from fenxiao.orders.services import shipments
    from fenxiao.orders.tests.logistics_helpers import paid_order
    from fenxiao.payments.models import SandboxTrade

    client = login(make_staff(superuser=True))
    distributor = designate()
    touch = Touch.objects.create(
        distributor=distributor, buyer=make_buyer(), source="link", decision="refused"
    )
    order = paid_order((1,))
    parcel = shipments.ship_parcel(order, make_staff(), carrier="顺丰", tracking_number="SF9001")
    subscription = TrackingSubscription.objects.get(parcel=parcel)
    trade = SandboxTrade.objects.get()

    for obj, value, text in (
        (touch, touch.decision, touch.get_decision_display()),
        (subscription, subscription.status, subscription.get_status_display()),
        (trade, trade.notify_status, trade.get_notify_status_display()),
    ):
        pair = f"(&#x27;{value}&#x27;"  # how "('refused', '未绑定')" reads escaped
        page = change_page(client, obj)
        assert str(text) in page, obj
        assert pair not in page and f"('{value}'" not in page, obj
        listing = list_page(client, type(obj))
        assert str(text) in listing and pair not in listing
