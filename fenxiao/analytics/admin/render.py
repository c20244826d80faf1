"""How any `Report` looks in the backend: metric cards, a Chart.js chart, a table.

Services hand over integer fen, basis points and counts; this module is the one place that
turns them into what a merchant reads (¥739,098.89, 12,345, 12.50 %, ↑ 3.20 %), so every
report page and the dashboard show figures the same way. Amounts and counts are grouped by
thousands here only: exports and the API keep plain numbers.
"""

import json
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_bp, format_fen_grouped

from ..services.shapes import BP, COUNT, FEN, Chart, Metric, Report, Table

# Figures where going up is bad news: shown in red when they rise. Keys of the cards the
# pages show (a test checks each one names a card): money given back or taken off.
LOWER_IS_BETTER = {"refunds", "commission_reduced", "commission_clawed_back"}

# Colours of chart series, in order (unfold's primary first, then distinct hues).
SERIES_COLOURS = ["var(--color-primary-600)", "#10b981", "#f59e0b", "#ef4444", "#6366f1", "#0ea5e9"]
AXIS_TITLES = {FEN: gettext_lazy("金额（元）"), BP: gettext_lazy("比率（%）")}


def format_value(value, unit: str) -> str:
    if value is None or value == "":
        return "-"
    if unit == FEN:
        return format_fen_grouped(value)
    if unit == BP:
        return format_bp(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def change(metric: Metric) -> dict:
    """The change against the previous period, as a card shows it."""
    bp = metric.change_bp
    if metric.previous is None:
        return {"text": "", "direction": "flat", "tone": "flat"}
    if bp is None:
        # Nothing to compare with: a percentage of zero means nothing, the card shows "上期 0".
        text = "—" if metric.value else _("持平")
        return {"text": text, "direction": "flat", "tone": "flat"}
    if bp == 0:
        return {"text": _("持平"), "direction": "flat", "tone": "flat"}
    up = bp > 0
    good = up != (metric.key in LOWER_IS_BETTER)
    arrow = "↑" if up else "↓"
    return {
        "text": f"{arrow} {format_bp(abs(bp))}",
        "direction": "up" if up else "down",
        "tone": "good" if good else "bad",
    }


def metric_card(metric: Metric, href: str = "") -> dict:
    return {
        "key": metric.key,
        "label": metric.label,
        "value": format_value(metric.value, metric.unit),
        "previous": None if metric.previous is None else format_value(metric.previous, metric.unit),
        "change": change(metric),
        "compared": metric.compared,
        "href": href,
    }


def todo_card(todo) -> dict:
    """A to-do of 经营概况 with its count as the cards show counts (12,345)."""
    return {
        "key": todo.key,
        "label": todo.label,
        "count": todo.count,
        "count_text": format_value(todo.count, COUNT),
        "url": todo.url,
        "hint": todo.hint,
        "icon": todo.icon,
    }


def _plot_value(value: int, unit: str):
    # Chart.js plots numbers; amounts are drawn in yuan and rates in percent. Display only:
    # the figures themselves stay integer fen / basis points everywhere else.
    if unit == FEN:
        return float(Decimal(value) / 100)
    if unit == BP:
        return float(Decimal(value) / 100)
    return value


def chart_config(chart: Chart | None) -> dict | None:
    """`data` and `options` for unfold's chart component (JSON strings), with one y axis
    per unit: amounts on the left, counts or rates on the right."""
    if chart is None or not chart.labels or not chart.datasets:
        return None
    units = []
    for dataset in chart.datasets:
        if dataset.unit not in units:
            units.append(dataset.unit)
    axis_of = {unit: ("y" if index == 0 else "y1") for index, unit in enumerate(units[:2])}
    datasets = []
    for index, dataset in enumerate(chart.datasets):
        if dataset.unit not in axis_of:
            continue  # a third unit would need a third axis: not drawn, still in the table
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        datasets.append(
            {
                "label": dataset.label,
                "data": [_plot_value(v or 0, dataset.unit) for v in dataset.values],
                "borderColor": colour,
                "backgroundColor": colour,
                "yAxisID": axis_of[dataset.unit],
                "fxUnit": dataset.unit,  # how the tooltip reads it (console.js)
                # Monotone curves never swing past the data (no dip below zero between days).
                "cubicInterpolationMode": "monotone",
                "pointRadius": 2 if len(chart.labels) <= 31 else 0,
                "maxBarThickness": 24,
            }
        )
    scales = {
        "x": {"grid": {"display": False}, "ticks": {"color": "#9ca3af", "maxTicksLimit": 12}},
    }
    for unit, axis in axis_of.items():
        scales[axis] = {
            "position": "left" if axis == "y" else "right",
            "beginAtZero": True,
            "title": {"display": True, "text": str(AXIS_TITLES.get(unit) or _("数量")), "color": "#9ca3af"},
            "ticks": {"color": "#9ca3af", "precision": 0},
            "grid": {"display": axis == "y", "color": "rgba(156,163,175,0.2)"},
        }
    options = {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "interaction": {"mode": "index", "intersect": False},
        "plugins": {
            "legend": {
                "display": True,
                "position": "top",
                "align": "end",
                "labels": {"usePointStyle": True, "boxWidth": 6, "boxHeight": 6, "color": "#6b7280"},
            },
            "tooltip": {"enabled": True},
        },
        "scales": scales,
    }
    kind = chart.kind if chart.kind in ("line", "bar") else "line"
    if len(chart.labels) == 1:
        kind = "bar"  # one bucket (今日, 昨日, a one-day range): a line of one point is a dot
    return {
        "kind": kind,
        "data": json.dumps({"labels": chart.labels, "datasets": datasets}, ensure_ascii=False),
        "options": json.dumps(options, ensure_ascii=False),
    }


def table_context(table: Table | None, user) -> dict | None:
    """Rows of cells {"text", "numeric", "href"}: figures formatted and right-aligned, names
    as is, linked to their pages where `user` may open them."""
    if table is None:
        return None
    columns = [{"label": c.label, "numeric": not c.text} for c in table.columns]
    linked = {
        c.key for c in table.columns if c.link and (not c.link_permission or user.has_perm(c.link_permission))
    }

    def cells(row: dict) -> list[dict]:
        out = []
        for column in table.columns:
            value = row.get(column.key)
            if column.text:
                text = "-" if value is None or value == "" else str(value)
            else:
                text = format_value(value, column.unit)
            href = row.get(column.link, "") if column.key in linked else ""
            out.append({"text": text, "numeric": not column.text, "href": href})
        return out

    totals = None
    if table.totals:
        totals = cells(table.totals)
        # The total row is named in its first text column.
        for cell in totals:
            if not cell["numeric"]:
                if cell["text"] == "-":
                    cell["text"] = _("合计")
                break
    return {
        "columns": columns,
        # A 小计 row (分类销售) reads as a heading of the rows beneath it.
        "rows": [{"cells": cells(row), "subtotal": row.get("subtotal", False)} for row in table.rows],
        "totals": totals,
        "empty": not table.rows,
        "empty_text": str(table.empty_text),
        "empty_action": {"label": str(table.empty_action[0]), "url": table.empty_action[1]}
        if table.empty_action and user.has_perm(table.empty_action[2])
        else None,
    }


def report_context(report: Report, user, export_urls: dict | None = None) -> dict:
    return {
        "key": report.key,
        "title": report.title,
        "period": report.period,
        "cards": [metric_card(m) for m in report.metrics],
        "chart": chart_config(report.chart),
        "table": table_context(report.table, user),
        "note": report.note,
        "exports": export_urls or {},
    }
