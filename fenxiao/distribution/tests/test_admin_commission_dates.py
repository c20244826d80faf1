"""佣金记录 by date: finance picks the days the commission arose (产生时间) or was settled
(结算时间), in local calendar days, and 导出 writes exactly those rows."""

import csv
import io
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.models import Commission
from fenxiao.testing import make_product

from .backend import list_url
from .helpers import bound_buyer, buy, make_distributor, sku

pytestmark = pytest.mark.django_db


def local(day: str, hour: int):
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:30"))


@pytest.fixture
def three_months():
    """One commission per month: October (settled 11-02), November (settled 12-01),
    December (not settled)."""
    distributor = make_distributor()
    made = {}
    for month, created, settled in (
        ("oct", local("2026-10-15", 10), local("2026-11-02", 23)),
        ("nov", local("2026-11-30", 23), local("2026-12-01", 0)),
        ("dec", local("2026-12-01", 0), None),
    ):
        order = buy(bound_buyer(distributor), (sku(make_product(price=10000)), 1))
        commission = Commission.objects.get(order=order)
        Commission.objects.filter(pk=commission.pk).update(created_at=created, settled_at=settled)
        made[month] = commission.pk
    return made


def shown(boss, query: dict) -> list[int]:
    reply = boss.get(list_url(Commission), query)
    assert reply.status_code == 200
    return sorted(c.pk for c in reply.context["cl"].result_list)


def test_commission_list_filters_by_the_day_it_arose(boss, three_months):
    november = {"created_at_from": "2026-11-01", "created_at_to": "2026-11-30"}
    # The last evening of the month is in it (whole local days), December's midnight is not.
    assert shown(boss, november) == [three_months["nov"]]
    assert shown(boss, {"created_at_from": "2026-12-01"}) == [three_months["dec"]]


def test_commission_list_filters_by_the_day_it_was_settled(boss, three_months):
    assert shown(boss, {"settled_at_from": "2026-11-01", "settled_at_to": "2026-11-30"}) == [
        three_months["oct"]
    ]
    assert shown(boss, {"settled_at_to": "2026-12-31"}) == [three_months["oct"], three_months["nov"]]


def test_the_export_holds_the_days_chosen(boss, three_months):
    query = {"created_at_from": "2026-11-01", "created_at_to": "2026-11-30"}
    page = boss.get(list_url(Commission), query).content.decode()
    assert "产生时间" in page and "结算时间" in page
    export = reverse("admin:distribution_commission_export", args=["csv"])
    assert f"{export}?created_at_from=2026-11-01&amp;created_at_to=2026-11-30" in page
    rows = list(csv.reader(io.StringIO(boss.get(export, query).content.decode("utf-8-sig"))))
    assert [int(r[0]) for r in rows[1:]] == [three_months["nov"]]


def test_a_malformed_day_is_ignored_with_a_notice(boss, three_months):
    reply = boss.get(list_url(Commission), {"settled_at_from": "2026-13-45"})
    assert reply.status_code == 200
    assert len(reply.context["cl"].result_list) == 3
