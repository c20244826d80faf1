"""The one table of the load bench: each figure beside the pgbench figure of the same run.

A target is either a share of the pgbench figure (`ratio`) or an absolute value (`value`);
latencies carry no target and no ratio. The table is printed and kept as
`var/bench/latest.json` and `latest.md`.
"""

import json
import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Target:
    kind: str  # "ratio": value / reference ≥ threshold; "value": value ≥ threshold
    threshold: float

    def describe(self) -> str:
        if self.kind == "ratio":
            return f"≥ {self.threshold * 100:g} % of pgbench"
        return f"≥ {_number(self.threshold)}"


@dataclass(frozen=True)
class Row:
    figure: str
    value: float
    reference: str = ""
    reference_value: float | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference_value is None or not self.reference_value or math.isnan(self.value):
            return None
        return self.value / self.reference_value

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        measured = self.ratio if self.target.kind == "ratio" else self.value
        if measured is None or math.isnan(measured):
            return "MISS"
        return "ok" if measured >= self.target.threshold else "MISS"


def _number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _cells(row: Row) -> list[str]:
    ratio = row.ratio
    return [
        row.figure,
        _number(row.value),
        f"{row.reference} {_number(row.reference_value)}" if row.reference else "—",
        f"{ratio * 100:.1f} %" if ratio is not None else "—",
        row.target.describe() if row.target else "—",
        row.verdict or "—",
    ]


HEADER = ["figure", "value", "pgbench (same run)", "ratio", "target", "verdict"]


def format_table(rows: list[Row]) -> str:
    """A plain-text table, columns padded to their widest cell (value columns right-aligned)."""
    table = [HEADER] + [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    right = {1, 3}

    def line(cells):
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), rule] + [line(cells) for cells in table[1:]])


def format_markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def write(rows: list[Row], directory: Path, *, details: dict) -> tuple[Path, Path]:
    """Keep the table (and the run's details) as latest.json and latest.md."""
    directory.mkdir(parents=True, exist_ok=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    data = {
        "generated_at": when,
        "rows": [dict(asdict(row), ratio=row.ratio, verdict=row.verdict) for row in rows],
        "details": details,
    }
    json_path = directory / "latest.json"
    json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    md_path = directory / "latest.md"
    md_path.write_text(f"# Load bench, {when}\n\n{format_markdown(rows)}\n")
    return json_path, md_path
