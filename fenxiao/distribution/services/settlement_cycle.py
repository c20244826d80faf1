"""Settlement cycles: on which day the scheduled run settles (日结 every day, 周结 on the
merchant's 周结日, 月结 on their 月结日), and catching up a day that was missed.

The invariant: every cycle day is served by a scheduled run, on the day itself or, when
that day was missed (the worker was down, the run failed), by the next run; none is skipped
silently, and a cycle already served is not served again.

- A run records the cycle day it served (`SettlementCycleRun`, keyed by cycle and day). A
  run counts only once it has finished, so a run that fails is caught up the next day.
- A cycle day counts as served once a run of any cycle has served that day or a later one.
  So changing the day or the cycle never makes the next run "catch up" a day that falls
  before the last run: moving 周五 to 周一 on a Saturday, the week settled that Friday waits
  for Monday, not for Sunday's run; moving 周一 to 周五 on a Tuesday, Friday settles.
- Before any cycle has ever run, nothing is known to be missed: the first run waits for a
  cycle day.

Commission itself settles exactly once whatever the runs do (`settlement`), so two runs
close together can only settle, the second time, what has become due in between.
"""

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import SettingsInvalid
from ..models import (
    MAX_SETTLEMENT_MONTHDAY,
    Cycle,
    DistributionSettings,
    SettlementCycleRun,
    SettlementMode,
    Weekday,
)
from . import config, settlement

# When the daily settlement task runs (distribution.tasks), shop time.
RUN_AT = time(2, 30)


def check_days(cfg: DistributionSettings) -> None:
    """周结日 is a weekday; 月结日 a day every month has (29–31 would skip February)."""
    weekday, monthday = cfg.settlement_weekday, cfg.settlement_monthday
    if not _whole(weekday) or weekday not in Weekday.values:
        raise SettingsInvalid(_("周结日必须是周一至周日之一"), code="SETTLEMENT_DAY_INVALID")
    if not _whole(monthday) or not 1 <= monthday <= MAX_SETTLEMENT_MONTHDAY:
        raise SettingsInvalid(
            _("月结日必须是每月 1–%(max)s 日（29–31 日并非每月都有）") % {"max": MAX_SETTLEMENT_MONTHDAY},
            code="SETTLEMENT_DAY_INVALID",
        )


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def cycle_day(cfg: DistributionSettings, now) -> date:
    """The latest settlement day of `cfg`'s cycle on or before `now`, in the shop's time zone."""
    today = timezone.localdate(now)
    if cfg.settlement_cycle == Cycle.WEEKLY:
        return today - timedelta(days=(today.weekday() - cfg.settlement_weekday) % 7)
    if cfg.settlement_cycle == Cycle.MONTHLY:
        if today.day >= cfg.settlement_monthday:
            return today.replace(day=cfg.settlement_monthday)
        last_month = today.replace(day=1) - timedelta(days=1)
        return last_month.replace(day=cfg.settlement_monthday)
    return today


def next_cycle_day(cfg: DistributionSettings, day: date) -> date:
    """The first settlement day of `cfg`'s cycle on or after `day`."""
    if cfg.settlement_cycle == Cycle.WEEKLY:
        return day + timedelta(days=(cfg.settlement_weekday - day.weekday()) % 7)
    if cfg.settlement_cycle == Cycle.MONTHLY:
        if day.day <= cfg.settlement_monthday:
            return day.replace(day=cfg.settlement_monthday)
        next_month = day.replace(day=28) + timedelta(days=4)
        return next_month.replace(day=cfg.settlement_monthday)
    return day


def first_run_after(cfg: DistributionSettings, moment) -> datetime:
    """The first scheduled run of `cfg`'s cycle at or after `moment`: the run settles
    commission held until `moment` no earlier."""
    day = next_cycle_day(cfg, timezone.localdate(moment))
    run = timezone.make_aware(datetime.combine(day, RUN_AT))
    if run < moment:
        day = next_cycle_day(cfg, day + timedelta(days=1))
        run = timezone.make_aware(datetime.combine(day, RUN_AT))
    return run


def is_settlement_day(cfg: DistributionSettings, now) -> bool:
    return cycle_day(cfg, now) == timezone.localdate(now)


def run_scheduled(now=None):
    """The periodic task: settle (auto) or prepare a batch (manual) once per cycle.

    It runs on the cycle day, or on a later day when that day was missed and no run of any
    cycle has served it or a later day since (see the module docstring)."""
    now = now or timezone.now()
    cfg = config.current()
    day = cycle_day(cfg, now)
    runs = SettlementCycleRun.objects.all()
    if runs.filter(day__gte=day).exists():
        return None
    if not is_settlement_day(cfg, now) and not runs.exists():
        return None
    if cfg.settlement_mode == SettlementMode.AUTO:
        result = settlement.settle_due(now)
    else:
        result = settlement.create_batch(now)
    SettlementCycleRun.objects.get_or_create(cycle=cfg.settlement_cycle, day=day, defaults={"batch": result})
    return result


def when_text(cfg: DistributionSettings) -> str:
    """When the scheduled run settles, as people read it: 每天 / 每周五 / 每月15日 02:30."""
    at = RUN_AT.strftime("%H:%M")
    if cfg.settlement_cycle == Cycle.WEEKLY:
        return _("每%(weekday)s %(time)s") % {"weekday": Weekday(cfg.settlement_weekday).label, "time": at}
    if cfg.settlement_cycle == Cycle.MONTHLY:
        return _("每月%(day)s日 %(time)s") % {"day": cfg.settlement_monthday, "time": at}
    return _("每天 %(time)s") % {"time": at}


def schedule_text(cfg: DistributionSettings) -> str:
    """The sentence that tells distributors and staff when commission settles."""
    if cfg.settlement_mode == SettlementMode.MANUAL:
        return _("%(when)s 汇总已过冻结期的佣金，商家审核后结算") % {"when": when_text(cfg)}
    return _("%(when)s 结算已过冻结期的佣金") % {"when": when_text(cfg)}
