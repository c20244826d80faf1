"""The period picker's refusals name what the merchant typed: a start date in the future
(alone, the end left empty, or a whole range after today) is 开始日期不能晚于今天 — it read
结束日期不能晚于今天 about an end they never gave; and a range of years says its limit in
years (时间范围最长 3 年（1098 天）), not only as 1098 days to work out."""

from datetime import date

import pytest

from fenxiao.analytics.errors import PeriodInvalid
from fenxiao.analytics.services.periods import parse
from fenxiao.testing import in_english, login, make_staff

TODAY = date(2026, 12, 5)


def refused(params):
    with pytest.raises(PeriodInvalid) as caught:
        parse(params, TODAY)
    return caught.value.message, caught.value.details["field"]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-12-06"},
        {"start": "2026-12-06", "end": ""},
        {"start": "2027-01-01", "end": "2027-01-31"},
    ],
)
def test_a_start_after_today_is_named_as_the_start(params):
    assert refused(params) == ("开始日期不能晚于今天", "start")


def test_an_end_after_today_is_still_the_end():
    assert refused({"start": "2026-12-01", "end": "2026-12-06"}) == ("结束日期不能晚于今天", "end")
    assert refused({"end": "2026-12-06"}) == ("结束日期不能晚于今天", "end")


def test_a_range_of_years_says_its_limit_in_years():
    assert refused({"start": "2020-01-01", "end": "2026-12-01", "grain": "month"}) == (
        "时间范围最长 3 年（1098 天），请缩短后再查询",
        "start",
    )


@pytest.mark.django_db
def test_the_pages_say_it_in_chinese_and_english():
    boss = login(make_staff("boss", superuser=True))
    page = boss.get("/backend/data/sales/", {"start": "2999-01-01"})
    assert page.status_code == 400 and "开始日期不能晚于今天" in page.content.decode()
    page = in_english(boss).get("/backend/data/sales/", {"start": "2000-01-01", "end": "2026-01-01"})
    assert page.status_code == 400
    assert "at most 3 years (1098 days)" in page.content.decode()
    page = boss.get("/backend/data/sales/", {"start": "2999-01-01"})
    assert "The start date cannot be after today" in page.content.decode()


def test_a_day_no_calendar_has_is_named_and_a_malformed_one_names_its_field():
    assert refused({"start": "2026-02-30", "end": "2026-03-05"}) == (
        "没有 2026-02-30 这一天，请检查日期",
        "start",
    )
    assert refused({"start": "2026-11-01", "end": "2026-11-31"}) == (
        "没有 2026-11-31 这一天，请检查日期",
        "end",
    )
    assert refused({"start": "2026-11-01", "end": "11/30"}) == ("日期格式应为 YYYY-MM-DD", "end")
    assert refused({"end": "2026-13-01"}) == ("没有 2026-13-01 这一天，请检查日期", "end")
