"""结算批次 by date: finance picks the days the batches were made (创建时间), in whole local
calendar days, to find a month's settlement runs."""

from datetime import datetime

import pytest
from django.utils import timezone

from fenxiao.distribution.models import SettlementBatch

from .backend import list_url

pytestmark = pytest.mark.django_db


def local(day: str, hour: int, minute: int = 30):
    return timezone.make_aware(datetime.fromisoformat(f"{day}T{hour:02d}:{minute:02d}"))


@pytest.fixture
def three_months():
    """One batch a month: October, the last evening of November, December's first minute."""
    made = {}
    for month, created in (
        ("oct", local("2026-10-15", 10)),
        ("nov", local("2026-11-30", 23, 59)),
        ("dec", local("2026-12-01", 0, 0)),
    ):
        batch = SettlementBatch.objects.create(mode="manual", status="settled", cutoff=created)
        SettlementBatch.objects.filter(pk=batch.pk).update(created_at=created)
        made[month] = batch.pk
    return made


def shown(boss, query: dict) -> list[int]:
    reply = boss.get(list_url(SettlementBatch), query)
    assert reply.status_code == 200
    return sorted(b.pk for b in reply.context["cl"].result_list)


def test_batch_list_filters_by_the_day_it_was_made(boss, three_months):
    november = {"created_at_from": "2026-11-01", "created_at_to": "2026-11-30"}
    # The last evening of the month is in it (whole local days), December's midnight is not.
    assert shown(boss, november) == [three_months["nov"]]
    assert shown(boss, {"created_at_from": "2026-11-01"}) == [three_months["nov"], three_months["dec"]]
    assert shown(boss, {"created_at_to": "2026-10-31"}) == [three_months["oct"]]


def test_the_list_offers_the_filter_and_shows_the_day(boss, three_months):
    page = boss.get(list_url(SettlementBatch)).content.decode()
    assert 'name="created_at_from"' in page and 'name="created_at_to"' in page
    assert "创建时间" in page


def test_a_malformed_day_is_ignored_with_a_notice(boss, three_months):
    reply = boss.get(list_url(SettlementBatch), {"created_at_to": "2026-13-45"}, follow=True)
    assert reply.status_code == 200
    assert len(reply.context["cl"].result_list) == 3
    assert "日期“2026-13-45”格式有误，已忽略" in [str(m) for m in reply.context["messages"]]
