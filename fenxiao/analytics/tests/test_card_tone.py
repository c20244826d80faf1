"""A card's change is coloured by what it means for the shop: on 分销报表, 结算前扣减 and
已追回 rising is commission taken back after refunds, bad news in red, as 退款金额 on
销售报表 and 经营概况. They read green (↑ 385.02 % as if it were growth): the list of
such figures named keys no card has (clawed_back, refund_amount), not the cards' own."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fenxiao.analytics.admin import render
from fenxiao.analytics.services import dashboard, periods, reports
from fenxiao.analytics.services.shapes import FEN, Metric

pytestmark = pytest.mark.django_db


def tone(key, value, previous):
    return render.metric_card(Metric(key, key, value, previous, FEN))["change"]


def shown_card_keys() -> set[str]:
    end = timezone.localdate() - timedelta(days=1)
    period = periods.Period(end - timedelta(days=6), end)
    keys = {m.key for key in reports.PAGES for report in reports.build(key, period) for m in report.metrics}
    return keys | set(dashboard.METRIC_REPORT)


@pytest.mark.parametrize("key", ["commission_reduced", "commission_clawed_back", "refunds"])
def test_money_taken_back_rising_reads_red_and_falling_green(key):
    assert tone(key, 16767, 3457) == {"text": "↑ 385.02 %", "direction": "up", "tone": "bad"}
    assert tone(key, 3457, 16767)["tone"] == "good"


def test_sales_and_commission_rising_still_read_green():
    for key in ("gmv", "net_sales", "commission_accrued", "commission_settled"):
        assert tone(key, 200, 100)["tone"] == "good", key


def test_every_figure_read_as_lower_is_better_is_a_card_the_pages_show():
    assert render.LOWER_IS_BETTER - shown_card_keys() == set()
