"""After `load_demo` the merchant console has something to show: 经营概况's last 30 days,
the traffic report by source, customer segments with members and a delivered push."""

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from fenxiao.analytics.models import ProductView, VisitorDay
from fenxiao.analytics.services import dashboard, reports
from fenxiao.analytics.services.periods import preset
from fenxiao.core.money import format_fen_grouped
from fenxiao.customers.models import CustomerTag, Segment
from fenxiao.customers.services import segments
from fenxiao.notices.models import Message
from fenxiao.orders.models import Order
from fenxiao.promotions.models_push import Push, PushStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("load_demo", stdout=io.StringIO())


def test_the_dashboard_shows_the_last_30_days():
    figures = {m.key: m.value for m in dashboard.overview(preset("30d", timezone.localdate()))}
    assert figures["gmv"] > 0 and figures["paid_orders"] > 0
    assert figures["visitors"] > figures["paying_buyers"] > 0
    assert 0 < figures["conversion_bp"] < 10_000
    client = Client()
    client.login(username="admin", password="admin123456")
    page = client.get("/backend/?range=30d").content.decode()
    assert format_fen_grouped(figures["gmv"]) in page  # ¥7,466.90, as the dashboard groups it


def test_traffic_comes_from_several_sources_and_buyers_who_ordered_visited_that_day():
    [by_source] = [
        r
        for r in reports.build("traffic", preset("30d", timezone.localdate()))
        if r.key == "traffic-by-source"
    ]
    sources = {row["source"] for row in by_source.table.rows if row["visitors"] > 0}
    assert {"direct", "search", "link", "qr", "poster", "coupon"} <= sources
    assert VisitorDay.objects.filter(distributor__isnull=False).exists()
    for order in Order.objects.all():
        day = timezone.localtime(order.created_at).date()
        assert VisitorDay.objects.filter(
            buyer=order.buyer, day=day, first_seen_at__lte=order.created_at
        ).exists()
        assert ProductView.objects.filter(buyer=order.buyer, day=day).exists()


def test_segments_have_members_and_the_push_was_delivered():
    made = Segment.objects.order_by("id")
    assert made.count() >= 2
    for segment in made:
        assert segments.members(segment).exists(), segment.name
    assert CustomerTag.objects.filter(tag__rule="").exists()  # a manual tag is applied
    push = Push.objects.get()
    members = set(segments.members(push.segment).values_list("pk", flat=True))
    assert push.status == PushStatus.DONE and push.total == push.processed == len(members) > 0
    assert set(Message.objects.filter(title=push.title).values_list("user_id", flat=True)) == members


def test_messages_are_dated_when_their_event_happened():
    from fenxiao.notices.models import Kind

    shipped = Message.objects.filter(kind=Kind.ORDER_SHIPPED)
    assert shipped.exists()
    for message in shipped:
        assert message.created_at == Order.objects.get(pk=message.subject_id).shipped_at
    push = Push.objects.get()
    assert Message.objects.filter(title=push.title, read_at__isnull=False).exists()
    assert Message.objects.filter(
        title=push.title, read_at__isnull=True
    ).exists()  # a push is not read by all
