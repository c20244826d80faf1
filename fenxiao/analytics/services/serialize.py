"""Reports and metrics as plain JSON data (the staff API; any client that wants the same
figures as the pages)."""

from .shapes import Chart, Metric, Report


def period(p) -> dict:
    return {**p.as_params(), "label": p.label, "days": p.days}


def metric(m: Metric) -> dict:
    return {
        "key": m.key,
        "label": m.label,
        "value": m.value,
        "previous": m.previous,
        "compared": m.compared,  # what `previous` is when not the period before ("" then)
        "change_bp": m.change_bp,
        "unit": m.unit,
        "trend": list(m.trend),
    }


def chart(c: Chart | None) -> dict | None:
    if c is None:
        return None
    return {
        "kind": c.kind,
        "labels": list(c.labels),
        "datasets": [{"label": d.label, "unit": d.unit, "values": list(d.values)} for d in c.datasets],
    }


def report(r: Report) -> dict:
    table = None
    if r.table is not None:
        table = {
            "columns": [
                {"key": c.key, "label": c.label, "unit": c.unit, "text": c.text} for c in r.table.columns
            ],
            "rows": r.table.rows,
            "totals": r.table.totals,
        }
    return {
        "key": r.key,
        "title": r.title,
        "metrics": [metric(m) for m in r.metrics],
        "chart": chart(r.chart),
        "table": table,
        "note": r.note,
    }
