"""The time range a report or the dashboard covers, on the shop's calendar.

A period is whole days, start and end included, cut into buckets by a grain (day, week
starting Monday, calendar month). Every figure compares with the period of the same length
that ends the day before it starts.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..errors import PeriodInvalid

DAY, WEEK, MONTH = "day", "week", "month"
GRAINS = {DAY: gettext_lazy("按日"), WEEK: gettext_lazy("按周"), MONTH: gettext_lazy("按月")}

# Presets the dashboard and the period picker offer: key -> (label, days back from today).
PRESETS = {
    "today": (gettext_lazy("今日"), 0),
    "yesterday": (gettext_lazy("昨日"), 1),
    "7d": (gettext_lazy("近7天"), 7),
    "30d": (gettext_lazy("近30天"), 30),
}
# A custom range may cover up to three years: a yearly comparison, still bucketed monthly.
MAX_YEARS = 3
MAX_DAYS = MAX_YEARS * 366
# The shop sold nothing before this day (the tills' floor too); a range starting near year 1
# would also leave no calendar for the period it is compared against.
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    grain: str = DAY
    label: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def running(self) -> bool:
        """Today is in it: its figures are so far, against a period whose day has ended."""
        return self.end >= timezone.localdate()

    def previous(self) -> "Period":
        """The period of the same length ending the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, self.grain, _("上一周期"))

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def buckets(self) -> list[tuple[str, date, date]]:
        """(label, first day, last day) for each bucket of the grain, clipped to the period.

        A week or month the period cuts short is labelled by the days it has ("11-05~11-08",
        "2026-01-15~01-31"): its lower figures are those of fewer days, not a worse week."""
        out, day = [], self.start
        # A day without its year is ambiguous once the period spans New Year (12-31, 01-01).
        day_format = "%m-%d" if self.start.year == self.end.year else "%Y-%m-%d"
        while day <= self.end:
            if self.grain == MONTH:
                whole = day.replace(day=1)
                following = (whole + timedelta(days=32)).replace(day=1)
            elif self.grain == WEEK:
                whole = day - timedelta(days=day.weekday())
                following = whole + timedelta(days=7)
            else:
                whole, following = day, day + timedelta(days=1)
            last = min(following - timedelta(days=1), self.end)
            cut = day != whole or last != following - timedelta(days=1)
            if self.grain == MONTH and cut:
                # One month: its year is the first day's.
                label = f"{day:%Y-%m-%d}" + (f"~{last:%m-%d}" if last != day else "")
            elif self.grain == MONTH:
                label = day.strftime("%Y-%m")
            elif self.grain == WEEK and cut:
                label = f"{day:{day_format}}" + (f"~{last:{day_format}}" if last != day else "")
            elif self.grain == WEEK:
                label = _("%(day)s周") % {"day": day.strftime(day_format)}
            else:
                label = day.strftime(day_format)
            out.append((label, day, last))
            day = following
        return out

    def bucket_start(self, day: date) -> date:
        """The first day of the bucket `day` falls in (for grouping daily rows)."""
        if self.grain == MONTH:
            first = day.replace(day=1)
        elif self.grain == WEEK:
            first = day - timedelta(days=day.weekday())
        else:
            first = day
        return max(first, self.start)

    def as_params(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain}


def preset(key: str, today: date | None = None, grain: str = DAY) -> Period:
    today = today or timezone.localdate()
    if key not in PRESETS:
        raise PeriodInvalid(_("未知的时间范围：%(key)s") % {"key": key}, field="range")
    label, back = PRESETS[key]
    label = str(label)
    if key == "today":
        return Period(today, today, grain, label)
    if key == "yesterday":
        day = today - timedelta(days=1)
        return Period(day, day, grain, label)
    # "Last N days" ends yesterday: today's figures are still growing.
    end = today - timedelta(days=1)
    return Period(end - timedelta(days=back - 1), end, grain, label)


DATE_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        # A date of the right shape that no calendar has (2026-02-30, a typed 31st of a
        # short month) is named as such, not as a format the merchant did follow.
        if DATE_SHAPE.fullmatch(text):
            raise PeriodInvalid(_("没有 %(day)s 这一天，请检查日期") % {"day": text}, field=field) from None
        raise PeriodInvalid(_("日期格式应为 YYYY-MM-DD"), field=field) from None


def parse(params, today: date | None = None, default: str = "7d") -> Period:
    """A period from request parameters: `range` (a preset) or `start`/`end` (YYYY-MM-DD;
    either alone is that one day), and `grain`. Refuses an unknown grain, a malformed or
    reversed range, a range longer than MAX_DAYS, days after today and days before EARLIEST."""
    today = today or timezone.localdate()
    grain = (params.get("grain") or DAY).strip()
    if grain not in GRAINS:
        raise PeriodInvalid(_("统计粒度只能是按日、按周或按月"), field="grain")
    start, end = (params.get("start") or "").strip(), (params.get("end") or "").strip()
    if not start and not end:
        return preset((params.get("range") or default).strip(), today, grain)
    # One day given, start or end alone (the picker's other field left empty): that day.
    first = _day(start or end, "start" if start else "end")
    last = _day(end or start, "end" if end else "start")
    if last < first:
        raise PeriodInvalid(_("结束日期不能早于开始日期"), field="end")
    if start and first > today:
        # A start date alone (the picker's end left empty) or a whole range in the future:
        # the day the merchant typed is the start, not an end they never gave.
        raise PeriodInvalid(_("开始日期不能晚于今天"), field="start")
    if last > today:
        raise PeriodInvalid(_("结束日期不能晚于今天"), field="end")
    if first < EARLIEST:
        raise PeriodInvalid(_("开始日期不能早于 %(day)s") % {"day": f"{EARLIEST:%Y-%m-%d}"}, field="start")
    if (last - first).days + 1 > MAX_DAYS:
        # In years first: a merchant asking for 2020-2026 should not have to work out 1098 days.
        raise PeriodInvalid(
            _("时间范围最长 %(years)s 年（%(days)s 天），请缩短后再查询")
            % {"years": MAX_YEARS, "days": MAX_DAYS},
            field="start",
        )
    return Period(
        first,
        last,
        grain,
        _("%(start)s 至 %(end)s") % {"start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"},
    )
