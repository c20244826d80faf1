"""The merchant chooses the settlement day: 周结 on a weekday (周一…周日), 月结 on a day of
the month (1–28日). The scheduled run settles on it, a missed day is caught up once, and
moving the day never serves a week twice or skips one silently."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.distribution.admin.config import describe_changes
from fenxiao.distribution.models import DistributionSettings, SettingsChange, SettlementCycleRun
from fenxiao.distribution.services import config, settlement, settlement_cycle
from fenxiao.orders.models import OrderSettings
from fenxiao.testing import in_english, make_product

from .backend import url
from .helpers import (
    bound_buyer,
    buy,
    configure,
    ledger_sum,
    make_distributor,
    receive,
    settings_data,
    sku,
    travel,
)

pytestmark = pytest.mark.django_db

MON, FRI, SAT, SUN = 0, 4, 5, 6


def local(year, month, day, hour=2, minute=30):
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(settings.TIME_ZONE))


def cfg(cycle="weekly", weekday=MON, monthday=1) -> DistributionSettings:
    return DistributionSettings(
        settlement_cycle=cycle, settlement_weekday=weekday, settlement_monthday=monthday
    )


# --- which day ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "today", "latest", "next_on_or_after"),
    [
        # 2027-01-04 is a Monday.
        (FRI, date(2027, 1, 8), date(2027, 1, 8), date(2027, 1, 8)),  # the Friday itself
        (FRI, date(2027, 1, 11), date(2027, 1, 8), date(2027, 1, 15)),  # a Monday
        (FRI, date(2027, 1, 7), date(2027, 1, 1), date(2027, 1, 8)),  # the Thursday before
        (SUN, date(2027, 1, 10), date(2027, 1, 10), date(2027, 1, 10)),
        (SUN, date(2027, 1, 11), date(2027, 1, 10), date(2027, 1, 17)),  # Monday after Sunday
        (SUN, date(2027, 1, 9), date(2027, 1, 3), date(2027, 1, 10)),  # across the new year
        (MON, date(2027, 1, 3), date(2026, 12, 28), date(2027, 1, 4)),
    ],
)
def test_the_weekly_settlement_day_is_the_chosen_weekday(weekday, today, latest, next_on_or_after):
    chosen = cfg("weekly", weekday=weekday)
    assert settlement_cycle.cycle_day(chosen, local(today.year, today.month, today.day)) == latest
    assert settlement_cycle.next_cycle_day(chosen, today) == next_on_or_after


@pytest.mark.parametrize(
    ("monthday", "today", "latest", "next_on_or_after"),
    [
        (15, date(2027, 1, 15), date(2027, 1, 15), date(2027, 1, 15)),
        (15, date(2027, 1, 14), date(2026, 12, 15), date(2027, 1, 15)),  # before it: last year's
        (15, date(2027, 1, 31), date(2027, 1, 15), date(2027, 2, 15)),
        (15, date(2027, 12, 20), date(2027, 12, 15), date(2028, 1, 15)),  # into the next year
        (28, date(2027, 2, 28), date(2027, 2, 28), date(2027, 2, 28)),  # February has a 28th
        (28, date(2027, 3, 1), date(2027, 2, 28), date(2027, 3, 28)),
        (28, date(2028, 2, 29), date(2028, 2, 28), date(2028, 3, 28)),  # a leap day
        (28, date(2027, 1, 31), date(2027, 1, 28), date(2027, 2, 28)),
        (1, date(2027, 3, 1), date(2027, 3, 1), date(2027, 3, 1)),
    ],
)
def test_the_monthly_settlement_day_is_the_chosen_day(monthday, today, latest, next_on_or_after):
    chosen = cfg("monthly", monthday=monthday)
    assert settlement_cycle.cycle_day(chosen, local(today.year, today.month, today.day)) == latest
    assert settlement_cycle.next_cycle_day(chosen, today) == next_on_or_after


def test_a_hold_ending_after_the_run_waits_for_the_next_chosen_day():
    friday = cfg("weekly", weekday=FRI)
    assert settlement_cycle.first_run_after(friday, local(2027, 1, 8, 2, 0)) == local(2027, 1, 8)
    assert settlement_cycle.first_run_after(friday, local(2027, 1, 8, 3, 0)) == local(2027, 1, 15)
    fifteenth = cfg("monthly", monthday=15)
    assert settlement_cycle.first_run_after(fifteenth, local(2027, 1, 15, 9, 0)) == local(2027, 2, 15)
    assert settlement_cycle.first_run_after(fifteenth, local(2027, 1, 16)) == local(2027, 2, 15)


# --- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize("monthday", [29, 30, 31, 0, "15", True])
def test_a_day_not_in_every_month_is_refused_in_chinese_with_a_code(monthday):
    with pytest.raises(DomainError) as refused:
        configure(settlement_cycle="monthly", settlement_monthday=monthday)
    assert refused.value.code == "SETTLEMENT_DAY_INVALID"
    assert "1–28" in refused.value.message and "29–31 日并非每月都有" in refused.value.message
    assert config.current().settlement_monthday == 1 and SettingsChange.objects.count() == 0


@pytest.mark.parametrize("weekday", [7, -1, None])
def test_a_weekday_that_does_not_exist_is_refused(weekday):
    with pytest.raises(DomainError) as refused:
        configure(settlement_weekday=weekday)
    assert (refused.value.code, refused.value.message) == (
        "SETTLEMENT_DAY_INVALID",
        "周结日必须是周一至周日之一",
    )


def test_the_day_is_versioned_with_the_settings_and_reads_as_a_day_in_the_history():
    before = config.current().version
    cfg_ = configure(settlement_cycle="weekly", settlement_weekday=FRI)
    assert cfg_.version == before + 1
    change = SettingsChange.objects.get(version=cfg_.version)
    assert change.changes == {"settlement_cycle": ["daily", "weekly"], "settlement_weekday": [MON, FRI]}
    assert ("周结日", "周一", "周五") in describe_changes(change.changes)
    configure(settlement_cycle="monthly", settlement_monthday=15)
    last = SettingsChange.objects.first()
    assert ("月结日", "1日", "15日") in describe_changes(last.changes)


# --- the scheduled run ----------------------------------------------------------------------


@pytest.fixture
def due_by():
    """`due_by(moment)`: an order of the lamp whose commission (b ¥10, a ¥5) is due from
    `moment` (no after-sale window, the 7-day freeze)."""
    OrderSettings.objects.filter(pk=OrderSettings.current().pk).update(after_sale_days=0)
    a = make_distributor()
    b = make_distributor(parent=a)
    lamp = make_product("台灯", price=10000)

    def order(moment):
        with travel(moment - timedelta(days=7) - timezone.now()):
            receive(buy(bound_buyer(b), (sku(lamp), 1)))

    order.b = b
    return order


def test_weekly_runs_on_the_chosen_friday_only(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=FRI)
    due_by(local(2027, 1, 4, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 4)) is None  # a Monday: not the day
    assert settlement_cycle.run_scheduled(local(2027, 1, 7)) is None
    assert settlement_cycle.run_scheduled(local(2027, 1, 8)).total == 1500
    assert ledger_sum(due_by.b) == 1000
    assert settlement_cycle.run_scheduled(local(2027, 1, 9)) is None  # Saturday: served


def test_sunday_settles_and_the_monday_after_is_not_a_second_run(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=SUN)
    due_by(local(2027, 1, 9, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 9)) is None
    assert settlement_cycle.run_scheduled(local(2027, 1, 10)).total == 1500
    due_by(local(2027, 1, 10, 12, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 11)) is None
    assert settlement_cycle.run_scheduled(local(2027, 1, 17)).total == 1500


def test_friday_to_monday_mid_week_settles_the_week_once_then_on_monday(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=FRI)
    due_by(local(2027, 1, 1, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 8)).total == 1500  # Friday
    # Saturday the merchant moves the day to Monday; commission keeps coming due.
    configure(settlement_weekday=MON)
    due_by(local(2027, 1, 9, 12, 0))
    # Sunday's run must not "catch up" Monday the 4th: Friday settled after it.
    assert settlement_cycle.run_scheduled(local(2027, 1, 10)) is None
    assert ledger_sum(due_by.b) == 1000
    # Monday is the new day: it settles what came due since Friday, once.
    assert settlement_cycle.run_scheduled(local(2027, 1, 11)).total == 1500
    assert settlement_cycle.run_scheduled(local(2027, 1, 12)) is None
    assert ledger_sum(due_by.b) == 2000
    assert sorted(SettlementCycleRun.objects.values_list("day", flat=True)) == [
        date(2027, 1, 8),
        date(2027, 1, 11),
    ]


def test_monday_to_friday_mid_week_settles_on_the_friday(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=MON)
    due_by(local(2027, 1, 1, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 4)).total == 1500  # Monday
    configure(settlement_weekday=FRI)  # Tuesday
    due_by(local(2027, 1, 5, 12, 0))
    # Wednesday: last Friday (1st) falls before Monday's run, nothing is missed.
    assert settlement_cycle.run_scheduled(local(2027, 1, 6)) is None
    # Friday is not skipped for having settled on Monday.
    assert settlement_cycle.run_scheduled(local(2027, 1, 8)).total == 1500
    assert ledger_sum(due_by.b) == 2000


def test_a_missed_chosen_day_is_caught_up_once_after_a_day_change(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=MON)
    due_by(local(2027, 1, 1, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 4)).total == 1500
    configure(settlement_weekday=FRI)
    due_by(local(2027, 1, 6, 12, 0))
    # Friday the 8th is missed (the worker was down): Saturday catches it up, once.
    assert settlement_cycle.run_scheduled(local(2027, 1, 9)).total == 1500
    assert settlement_cycle.run_scheduled(local(2027, 1, 10)) is None
    assert SettlementCycleRun.objects.filter(day=date(2027, 1, 8)).count() == 1


def test_monthly_on_the_15th_catches_up_a_missed_15th(due_by, monkeypatch):
    configure(settlement_cycle="monthly", settlement_monthday=15)
    assert settlement_cycle.run_scheduled(local(2027, 1, 1)) is None  # not the day, none ran yet
    assert settlement_cycle.run_scheduled(local(2027, 1, 15)) is None  # the day: nothing due
    due_by(local(2027, 1, 20, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 2, 1)) is None  # the 1st is not the day

    def broken(now=None, *, staff=None):
        raise RuntimeError("database went away")

    monkeypatch.setattr(settlement, "settle_due", broken)
    with pytest.raises(RuntimeError):
        settlement_cycle.run_scheduled(local(2027, 2, 15))
    monkeypatch.undo()
    assert settlement_cycle.run_scheduled(local(2027, 2, 16)).total == 1500
    assert settlement_cycle.run_scheduled(local(2027, 2, 17)) is None
    assert list(SettlementCycleRun.objects.order_by("day").values_list("day", flat=True)) == [
        date(2027, 1, 15),
        date(2027, 2, 15),
    ]


def test_february_settles_on_the_28th_and_march_1st_is_not_a_second_run(due_by):
    configure(settlement_cycle="monthly", settlement_monthday=28)
    assert settlement_cycle.run_scheduled(local(2027, 1, 28)) is None  # the first cycle: nothing due
    due_by(local(2027, 2, 20, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 2, 27)) is None
    assert settlement_cycle.run_scheduled(local(2027, 2, 28)).total == 1500
    due_by(local(2027, 2, 28, 12, 0))
    assert settlement_cycle.run_scheduled(local(2027, 3, 1)) is None
    assert settlement_cycle.run_scheduled(local(2027, 3, 28)).total == 1500


def test_moving_the_15th_to_the_1st_after_the_15th_ran_waits_for_the_1st(due_by):
    configure(settlement_cycle="monthly", settlement_monthday=15)
    due_by(local(2027, 1, 10, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 15)).total == 1500
    configure(settlement_monthday=1)  # on the 20th
    due_by(local(2027, 1, 20, 12, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 21)) is None  # the 1st fell before the 15th
    assert settlement_cycle.run_scheduled(local(2027, 2, 1)).total == 1500


def test_switching_weekly_to_monthly_does_not_catch_up_a_day_a_weekly_run_served(due_by):
    configure(settlement_cycle="weekly", settlement_weekday=MON)
    due_by(local(2027, 1, 1, 0, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 4)).total == 1500
    configure(settlement_cycle="monthly", settlement_monthday=1)
    due_by(local(2027, 1, 5, 12, 0))
    assert settlement_cycle.run_scheduled(local(2027, 1, 6)) is None  # the 1st: before Monday's run
    assert settlement_cycle.run_scheduled(local(2027, 2, 1)).total == 1500


# --- where people read it -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"settlement_cycle": "daily"}, "每天 02:30 结算已过冻结期的佣金"),
        ({"settlement_cycle": "weekly", "settlement_weekday": FRI}, "每周五 02:30 结算已过冻结期的佣金"),
        ({"settlement_cycle": "weekly", "settlement_weekday": SUN}, "每周日 02:30 结算已过冻结期的佣金"),
        ({"settlement_cycle": "monthly", "settlement_monthday": 15}, "每月15日 02:30 结算已过冻结期的佣金"),
        (
            {"settlement_cycle": "weekly", "settlement_weekday": FRI, "settlement_mode": "manual"},
            "每周五 02:30 汇总已过冻结期的佣金，商家审核后结算",
        ),
    ],
)
def test_the_distributor_center_and_commission_list_say_the_chosen_day(changes, text):
    configure(**changes)
    distributor = make_distributor()
    client = Client()
    client.force_login(distributor.user)
    assert text in client.get("/d/").content.decode()
    assert text in client.get("/d/commissions/?status=frozen").content.decode()
    assert text not in client.get("/d/commissions/?status=settled").content.decode()
    # With nothing to withdraw yet, the withdraw page says when commission becomes available.
    assert text in client.get("/d/withdraw/").content.decode()


def test_the_schedule_reads_in_english():
    configure(settlement_cycle="weekly", settlement_weekday=FRI)
    client = in_english(Client())
    client.force_login(make_distributor().user)
    page = client.get("/d/").content.decode()
    assert "Commission past its freeze period settles every Friday at 02:30" in page
    configure(settlement_cycle="monthly", settlement_monthday=15)
    page = client.get("/d/commissions/").content.decode()
    assert "Commission past its freeze period settles on day 15 of every month at 02:30" in page


def test_the_settings_page_offers_the_days_and_refuses_the_29th(boss):
    cfg_ = config.current()
    page = boss.get(url(cfg_)).content.decode()
    assert "周结日" in page and "月结日" in page
    assert "每周五 02:30 结算已过冻结期的佣金" in page  # the help under 周结日
    assert '<option value="28">28日</option>' in page and '<option value="29">' not in page

    reply = boss.post(url(cfg_), settings_data(cfg_, settlement_cycle="monthly", settlement_monthday=29))
    assert reply.status_code == 200 and reply.context["adminform"].form.errors["settlement_monthday"]
    cfg_.refresh_from_db()
    assert (cfg_.settlement_cycle, cfg_.settlement_monthday) == ("daily", 1)

    reply = boss.post(url(cfg_), settings_data(cfg_, settlement_cycle="weekly", settlement_weekday=FRI))
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    cfg_.refresh_from_db()
    assert (cfg_.settlement_cycle, cfg_.settlement_weekday) == ("weekly", FRI)
    assert "周结日：周一 → 周五" in boss.get(url(cfg_)).content.decode()
