"""Report periods: presets, custom ranges, buckets and the period compared against."""

from datetime import date

import pytest

from fenxiao.analytics.errors import PeriodInvalid
from fenxiao.analytics.services.periods import MAX_DAYS, MONTH, WEEK, Period, parse, preset

TODAY = date(2026, 12, 1)  # a Tuesday


def test_presets_end_yesterday_except_today():
    assert preset("today", TODAY) == Period(TODAY, TODAY, label="今日")
    assert preset("yesterday", TODAY).start == date(2026, 11, 30)
    last7 = preset("7d", TODAY)
    assert (last7.start, last7.end, last7.days) == (date(2026, 11, 24), date(2026, 11, 30), 7)
    assert preset("30d", TODAY).days == 30


def test_previous_period_is_as_long_and_ends_the_day_before():
    period = Period(date(2026, 11, 24), date(2026, 11, 30))
    before = period.previous()
    assert (before.start, before.end) == (date(2026, 11, 17), date(2026, 11, 23))


def test_week_and_month_buckets_are_clipped_to_the_period():
    weeks = Period(date(2026, 11, 26), date(2026, 12, 8), WEEK).buckets()
    assert [(first, last) for _label, first, last in weeks] == [
        (date(2026, 11, 26), date(2026, 11, 29)),
        (date(2026, 11, 30), date(2026, 12, 6)),
        (date(2026, 12, 7), date(2026, 12, 8)),
    ]
    months = Period(date(2026, 1, 15), date(2026, 3, 3), MONTH)
    # A month cut short says which of its days it has.
    assert [label for label, _f, _l in months.buckets()] == [
        "2026-01-15~01-31",
        "2026-02",
        "2026-03-01~03-03",
    ]
    assert months.bucket_start(date(2026, 2, 20)) == date(2026, 2, 1)
    assert months.bucket_start(date(2026, 1, 20)) == date(2026, 1, 15)


def test_parse_reads_presets_and_custom_ranges():
    assert parse({}, TODAY) == preset("7d", TODAY)
    assert parse({"range": "30d", "grain": "week"}, TODAY).grain == WEEK
    custom = parse({"start": "2026-11-01", "end": "2026-11-30", "grain": "month"}, TODAY)
    assert (custom.start, custom.end, custom.grain, custom.days) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        MONTH,
        30,
    )
    assert parse({"start": "2026-11-05"}, TODAY).days == 1


def test_an_end_date_alone_is_that_day_as_a_start_date_alone_is():
    """The picker sends both fields; a merchant who fills in only 结束日期 gets that day, not
    "日期格式应为 YYYY-MM-DD" about the start they left empty."""
    alone = parse({"start": "", "end": "2026-11-05"}, TODAY)
    assert (alone.start, alone.end) == (date(2026, 11, 5), date(2026, 11, 5))
    assert alone == parse({"start": "2026-11-05", "end": ""}, TODAY)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"grain": "hour"}, "grain"),
        ({"range": "90d"}, "range"),
        ({"start": "2026-13-01", "end": "2026-12-01"}, "start"),
        ({"start": "2026-11-10", "end": "2026-11-01"}, "end"),
        ({"start": "2026-11-10", "end": "2026-12-02"}, "end"),
        ({"start": "2020-01-01", "end": "2026-11-30"}, "start"),
    ],
)
def test_parse_refuses_bad_ranges_with_a_code(params, field):
    with pytest.raises(PeriodInvalid) as caught:
        parse(params, TODAY)
    assert caught.value.code == "REPORT_PERIOD_INVALID"
    assert caught.value.status == 400
    assert caught.value.details["field"] == field


def test_longest_custom_range_is_accepted():
    first = date.fromordinal(TODAY.toordinal() - MAX_DAYS)
    assert parse({"start": first.isoformat(), "end": "2026-11-30"}, TODAY).days == MAX_DAYS


def test_bucket_labels_carry_the_year_when_the_period_spans_new_year():
    within = Period(date(2026, 12, 29), date(2026, 12, 31))
    assert [label for label, _first, _last in within.buckets()] == ["12-29", "12-30", "12-31"]
    across = Period(date(2026, 12, 31), date(2027, 1, 1))
    assert [label for label, _first, _last in across.buckets()] == ["2026-12-31", "2027-01-01"]
    weeks = Period(date(2026, 12, 28), date(2027, 1, 10), WEEK)
    assert [label for label, _first, _last in weeks.buckets()] == ["2026-12-28周", "2027-01-04周"]


def test_a_week_or_month_cut_short_is_labelled_by_its_days():
    """近30天 by week starts on a Thursday and ends on a Friday: those two buckets hold 4 and
    5 days. Labelled 11-05周 and 11-30周 like whole weeks, their lower figures read as bad
    weeks; their labels now say the days they cover."""
    weeks = Period(date(2026, 11, 5), date(2026, 12, 4), WEEK)
    assert [label for label, _f, _l in weeks.buckets()] == [
        "11-05~11-08",
        "11-09周",
        "11-16周",
        "11-23周",
        "11-30~12-04",
    ]
    across = Period(date(2026, 12, 30), date(2027, 1, 12), WEEK)
    assert [label for label, _f, _l in across.buckets()] == [
        "2026-12-30~2027-01-03",
        "2027-01-04周",
        "2027-01-11~2027-01-12",
    ]
    months = Period(date(2026, 12, 15), date(2027, 1, 1), MONTH)
    assert [label for label, _f, _l in months.buckets()] == ["2026-12-15~12-31", "2027-01-01"]
    whole = Period(date(2026, 11, 1), date(2026, 12, 31), MONTH)
    assert [label for label, _f, _l in whole.buckets()] == ["2026-11", "2026-12"]
    assert [label for label, _f, _l in Period(date(2026, 11, 4), date(2026, 11, 4), WEEK).buckets()] == [
        "11-04"
    ]
