"""The backend's from/to day filters (LocalDateRangeFilter) pick whole local days and compare
the timestamp column with two moments, never the column cast to a date, so its index serves
the filter; a day no shop has lived (0001-01-01, 9999-12-31) is ignored with a notice."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.orders.models import Order
from fenxiao.orders.tests.backend import make_order
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db

LIST = reverse("admin:orders_order_changelist")


def local(text: str):
    return timezone.make_aware(datetime.fromisoformat(text))


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def shown(boss, query) -> list[str]:
    reply = boss.get(LIST, query)
    assert reply.status_code == 200
    return sorted(o.number for o in reply.context["cl"].result_list)


def test_whole_local_days_as_a_range_of_moments(boss):
    placed = {}
    for name, moment in (
        ("before", "2026-10-31T23:59:59"),
        ("first", "2026-11-01T00:00:00"),
        ("last", "2026-11-30T23:59:59"),
        ("after", "2026-12-01T00:00:00"),
    ):
        order = make_order()
        Order.objects.filter(pk=order.pk).update(created_at=local(moment))
        placed[name] = order.number
    november = {"created_at_from": "2026-11-01", "created_at_to": "2026-11-30"}
    assert shown(boss, november) == sorted([placed["first"], placed["last"]])
    assert shown(boss, {"created_at_to": "2026-10-31"}) == [placed["before"]]

    with CaptureQueriesContext(connection) as queries:
        boss.get(LIST, november)
    listing = [q["sql"] for q in queries.captured_queries if '"orders_order"."created_at" >=' in q["sql"]]
    assert listing, "the list's query compares created_at with a moment"
    for sql in listing:
        assert "AT TIME ZONE" not in sql and "django_datetime_cast_date" not in sql


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2026-02-30", "soon"])
def test_a_day_out_of_range_or_malformed_is_ignored_with_a_notice(boss, day):
    make_order()
    for name in ("created_at_from", "created_at_to", "paid_at_to"):
        reply = boss.get(LIST, {name: day}, follow=True)
        assert reply.status_code == 200
        assert f"日期“{day}”格式有误，已忽略" in reply.content.decode()
        assert len(reply.context["cl"].result_list) == 1


@pytest.mark.parametrize("day", ["0001-01-01", "soon"])
@pytest.mark.parametrize("model", ["orders_order", "distribution_withdrawal", "distribution_commission"])
def test_an_export_ignores_such_a_day_as_the_list_does(boss, day, model):
    make_order()
    reply = boss.get(reverse(f"admin:{model}_export", args=["csv"]), {"created_at_from": day})
    assert reply.status_code == 200
