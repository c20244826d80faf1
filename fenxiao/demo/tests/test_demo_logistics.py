"""The demo's shipped orders have parcels with a trail: completed ones were signed for
before the buyer confirmed, and the buyer's order page shows the 物流轨迹."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from fenxiao.orders.models import (
    Order,
    OrderStatus,
    Parcel,
    SubscriptionStatus,
    TrackingEvent,
    TrackingSubscription,
)

pytestmark = pytest.mark.django_db


def test_demo_parcels_have_their_trail(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())

    shipped = Order.objects.filter(status__in=[OrderStatus.SHIPPED, OrderStatus.COMPLETED])
    assert shipped.exists()
    assert not shipped.filter(parcels__isnull=True).exists()
    for parcel in Parcel.objects.filter(order__status=OrderStatus.COMPLETED).select_related("order"):
        assert parcel.tracking_state == "signed"
        assert parcel.shipped_at == parcel.order.shipped_at < parcel.signed_at < parcel.order.completed_at
    assert TrackingEvent.objects.filter(parcel__order__status=OrderStatus.SHIPPED).exists()
    assert not TrackingSubscription.objects.exclude(status=SubscriptionStatus.SUBSCRIBED).exists()

    order = Order.objects.filter(status=OrderStatus.COMPLETED).select_related("buyer").first()
    client = Client()
    client.force_login(order.buyer)
    page = client.get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="trail"' in page and "已签收" in page and "已揽收" in page
