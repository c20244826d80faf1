"""A report period starts no earlier than 2000-01-01: the shop sold nothing before, and the
period compared against a range starting at year 1 would fall off the calendar. Such a
range, and one ending far in the future, is refused as bad input on the API (400
REPORT_PERIOD_INVALID) and on the backend pages (a message), never a 500."""

from datetime import date

import pytest

from fenxiao.analytics.errors import PeriodInvalid
from fenxiao.analytics.services import reports
from fenxiao.analytics.services.periods import parse
from fenxiao.testing import api_for, assert_refused, login, make_staff

TODAY = date(2026, 12, 1)

ALL_REPORTS = [
    "analytics.view_sales_report",
    "analytics.view_distribution_report",
    "analytics.view_traffic_report",
    "analytics.view_stores_report",
]

OUT_OF_RANGE = [
    ({"start": "0001-01-01", "end": "0001-01-01"}, "start"),
    ({"start": "0001-01-01"}, "start"),
    ({"start": "1999-12-31", "end": "2000-01-05"}, "start"),
    ({"start": "9999-12-31", "end": "9999-12-31"}, "future_start"),
    ({"start": "2026-11-01", "end": "9999-12-31"}, "end"),
    ({"start": "0001-01-01", "end": "9999-12-31"}, "end"),
]
# What a visitor reaches the pages with: year 1, a far-future end, both.
THROUGH_THE_PAGES = [OUT_OF_RANGE[0], OUT_OF_RANGE[3], OUT_OF_RANGE[5]]
MESSAGES = {
    "start": "开始日期不能早于 2000-01-01",
    "end": "结束日期不能晚于今天",
    "future_start": "开始日期不能晚于今天",
}


@pytest.mark.parametrize("params, field", OUT_OF_RANGE)
def test_parse_refuses_a_range_off_the_shop_calendar(params, field):
    with pytest.raises(PeriodInvalid) as refused:
        parse(params, TODAY)
    assert refused.value.details["field"] == field.removeprefix("future_")
    assert refused.value.message == MESSAGES[field]


def test_the_first_day_is_accepted_and_its_previous_period_is_computed():
    period = parse({"start": "2000-01-01", "end": "2000-01-07", "grain": "month"}, TODAY)
    assert period.start == date(2000, 1, 1)
    before = period.previous()
    assert (before.start, before.end) == (date(1999, 12, 25), date(1999, 12, 31))


@pytest.mark.django_db
@pytest.mark.parametrize("params, _field", THROUGH_THE_PAGES)
def test_the_api_refuses_it_with_400(params, _field):
    client = api_for(make_staff(perms=ALL_REPORTS))
    assert_refused(client.get("/staff/dashboard", **params), 400, "REPORT_PERIOD_INVALID")
    for key in reports.PAGES:
        assert_refused(client.get(f"/staff/reports/{key}", **params), 400, "REPORT_PERIOD_INVALID")


@pytest.mark.django_db
@pytest.mark.parametrize("params, field", THROUGH_THE_PAGES)
def test_the_backend_pages_show_a_message(params, field):
    client = login(make_staff(superuser=True))
    message = MESSAGES[field]
    for key in reports.PAGES:
        page = client.get(f"/backend/data/{key}/", params)
        assert page.status_code == 400
        assert message in page.content.decode()
        export = client.get(f"/backend/data/{key}/export/csv/", params)
        assert export.status_code == 400
