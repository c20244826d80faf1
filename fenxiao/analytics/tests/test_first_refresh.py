"""The first refresh of a shop upgraded with orders builds their history; later ones only
cover the days since the last run."""

import pytest
from django.utils import timezone

from fenxiao.analytics.models import DailySales, TrafficDay
from fenxiao.analytics.services import aggregates, dashboard
from fenxiao.analytics.services.periods import Period

from .shop import build_shop, day

pytestmark = pytest.mark.django_db


def test_the_first_refresh_starts_from_the_first_order_and_later_ones_from_the_watermark():
    build_shop(refresh=False)
    assert not DailySales.objects.exists()
    done = aggregates.refresh()
    assert done["first"] == day(0)
    # The same figure `rebuild_reports` over those days gives (see test_upkeep).
    assert dashboard.overview(Period(day(0), day(4)))[0].value == 39000
    assert TrafficDay.objects.filter(day__lt=timezone.localdate()).exists()
    assert aggregates.refresh()["first"] == _margin_start()


def test_the_first_refresh_of_an_empty_shop_covers_today():
    assert aggregates.refresh()["first"] == _margin_start()


def _margin_start():
    """Today, or yesterday in the half hour after midnight: a refresh always looks back its
    safety margin, so rows written late the day before are counted."""
    return timezone.localdate(timezone.now() - aggregates.SAFETY_MARGIN)
