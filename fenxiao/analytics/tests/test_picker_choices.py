"""The period picker offers only the choices the report page reads: 门店报表 has no trend and
no ranking, so it shows neither 按日/按周/按月 nor 前 N 名 (choosing them changed nothing);
the other pages keep both, and the presets carry only what the page reads."""

import re

import pytest

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def picker(reply) -> str:
    assert reply.status_code == 200
    return re.search(
        r'<form method="get"[^>]*id="period-picker">.*?</form>', reply.content.decode(), re.S
    ).group(0)


def test_the_store_report_offers_no_grain_and_no_ranking_length(boss):
    form = picker(boss.get("/backend/data/stores/?range=30d&grain=week&limit=50"))
    assert 'name="grain"' not in form and 'name="limit"' not in form
    assert "前 20 名" not in form and "按周" not in form
    # The presets keep no choice the page ignores.
    assert "grain=" not in form and "limit=" not in form
    assert 'name="start"' in form and 'name="end"' in form and "近30天" in form


@pytest.mark.parametrize("key", ["sales", "distribution", "traffic"])
def test_pages_with_trends_and_rankings_keep_both_choices(boss, key):
    form = picker(boss.get(f"/backend/data/{key}/?range=7d&grain=week&limit=50"))
    assert 'name="grain"' in form and 'name="limit"' in form
    assert re.search(r'<option value="week" selected>', form)
    assert re.search(r'<option value="50" selected>', form)
    assert "grain=week&amp;limit=50" in form  # the presets keep them
