"""The shapes of the compliance summary (合规概览): a figure, a section of figures with its
verdict, and the summary, plus the small formatting rules every section shares."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import BP_DENOMINATOR

LEVEL_NAMES = {1: gettext_lazy("一级"), 2: gettext_lazy("二级"), 3: gettext_lazy("三级")}
PASS, ATTENTION = gettext_lazy("符合"), gettext_lazy("需关注")


@dataclass
class Figure:
    """One line of a section: a count, an amount (fen) and/or a rate (bp), or a text."""

    label: str
    count: int | None = None
    amount: int | None = None
    rate: int | None = None
    text: str = ""
    note: str = ""
    # A figure that should be zero (or true) and is not: shown as needing attention.
    alert: bool = False


@dataclass
class Section:
    key: str
    title: str
    ok: bool
    explanation: str  # one line, in Chinese, why the verdict is what it is
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return PASS if self.ok else ATTENTION


@dataclass
class Summary:
    generated_at: datetime
    since: datetime  # the start of the recent window (RECENT_DAYS)
    sections: list[Section]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sections)

    @property
    def attention(self) -> list[Section]:
        return [s for s in self.sections if not s.ok]


def local_minute(value) -> str:
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


def no_sales(bp: int | None) -> str:
    return "" if bp is not None else _("无销售")


def ratio_bp(part: int, whole: int) -> int | None:
    """`part / whole` in basis points, rounded down; None when there is no whole."""
    if whole <= 0:
        return None
    return max(part, 0) * BP_DENOMINATOR // whole
