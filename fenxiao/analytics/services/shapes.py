"""What every report and the dashboard hand to the pages, the API and the exports.

Services build these from the aggregate tables; the backend renders any of them the same
way (cards, a chart, a table, CSV/Excel), and the staff API returns them as JSON. Amounts
are integer fen, rates integer basis points, counts integers: formatting is the page's job.
"""

from dataclasses import dataclass, field

from fenxiao.core.money import ratio_bp

from .periods import Period

FEN, COUNT, BP = "fen", "count", "bp"  # units of a value


@dataclass
class Metric:
    """One figure with its value for the period before, e.g. paid GMV today vs yesterday."""

    key: str
    label: str
    value: int
    # None: a figure as it stands now (e.g. current members), with nothing to compare.
    previous: int | None
    unit: str = COUNT
    # The trend of this figure over the period, one value per bucket (may be empty).
    trend: list[int] = field(default_factory=list)
    # What `previous` is, when not the period before (今日: "昨日同时段").
    compared: str = ""

    def __post_init__(self):
        self.label = str(self.label)  # a translated label, in the language of the request
        self.compared = str(self.compared)

    @property
    def change_bp(self) -> int | None:
        """Change against the previous period in basis points; None when it was zero."""
        if not self.previous:
            return None
        return ratio_bp(self.value - self.previous, abs(self.previous))


@dataclass
class Dataset:
    label: str
    values: list[int]
    unit: str = COUNT

    def __post_init__(self):
        self.label = str(self.label)


@dataclass
class Chart:
    """A line or bar chart: one label per bucket, one dataset per series."""

    labels: list[str]
    datasets: list[Dataset]
    kind: str = "line"  # "line" or "bar"

    def __post_init__(self):
        self.labels = [str(label) for label in self.labels]


@dataclass
class Column:
    key: str
    label: str
    unit: str = COUNT  # FEN values show as ¥, BP values as %, anything else as is
    text: bool = False  # a text column (a name), not a figure
    # The row key holding the address of the page this cell's subject has in the backend
    # (a product's page): the report page links the cell there; files and the API show it as is.
    link: str = ""
    # The permission ("app.codename") that page needs: a viewer without it (a role given
    # the report alone) reads the name unlinked rather than following it to a 403.
    link_permission: str = ""

    def __post_init__(self):
        self.label = str(self.label)


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict]
    totals: dict | None = None  # a total row, same keys as the columns
    # When the table is empty for want of something no period can bring (no stores
    # yet): what to say instead of 所选时间范围内没有数据, and the (label, address, permission)
    # of the step that fills it, offered instead of a longer range to a viewer who may take it.
    empty_text: str = ""
    empty_action: tuple[str, str, str] | None = None


@dataclass
class Report:
    """One report view: its period, figures, a chart and a table. `key` names it for the
    export file and the API (e.g. "sales-by-day")."""

    key: str
    title: str
    period: Period
    metrics: list[Metric] = field(default_factory=list)
    chart: Chart | None = None
    table: Table | None = None
    note: str = ""  # how the figures are counted, shown under the table

    def __post_init__(self):
        # Titles and notes are translated: plain strings, in the language of the request.
        self.title, self.note = str(self.title), str(self.note)
