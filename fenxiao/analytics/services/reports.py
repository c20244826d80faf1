"""The reports: each page is a list of sections (`Report`), built from aggregate tables
with a constant number of queries."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.errors import InvalidInput, NotFound
from fenxiao.core.numbers import whole_number

from . import report_distribution, report_sales, report_stores, report_traffic
from .periods import Period
from .shapes import Report

PAGES = {
    "sales": gettext_lazy("销售报表"),
    "distribution": gettext_lazy("分销报表"),
    "traffic": gettext_lazy("流量报表"),
    "stores": gettext_lazy("门店报表"),
}
# The permission (app label analytics) each page needs.
PERMISSIONS = {key: f"analytics.view_{key}_report" for key in PAGES}
BUILDERS = {
    "sales": report_sales.build,
    "distribution": report_distribution.build,
    "traffic": report_traffic.build,
    "stores": report_stores.build,
}
# The picker's choices each page reads: a grain cuts a trend into days, weeks or months, a
# ranking length cuts a ranking. 门店报表 has neither (a row per store and per staff member),
# so its picker offers neither: a choice that changes nothing reads as a report that failed.
CHOICES = {
    "sales": ("grain", "limit"),
    "distribution": ("grain", "limit"),
    "traffic": ("grain", "limit"),
    "stores": (),
}
MAX_LIMIT = 200
# `limit=all`: every row of a ranking, e.g. the sales of each of a shop's 500 products for a
# spreadsheet (the numbered lengths stop at MAX_LIMIT).
ALL = "all"


def options(params) -> dict:
    """Report options besides the period: `limit`, the rows of a ranking (1..200, or
    "all": None, every row)."""
    raw = (params.get("limit") or "").strip() if params else ""
    if not raw:
        return {"limit": 20}
    if raw == ALL:
        return {"limit": None}
    limit = whole_number(raw, max_digits=len(str(MAX_LIMIT)))
    if limit is None or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            _("排行条数应为 1 至 %(max)s，或 all（全部）") % {"max": MAX_LIMIT},
            code="REPORT_LIMIT_INVALID",
            field="limit",
        )
    return {"limit": limit}


def build(key: str, period: Period, params=None) -> list[Report]:
    if key not in PAGES:
        raise NotFound(_("没有这个报表"), code="REPORT_NOT_FOUND")
    return BUILDERS[key](period, options(params or {}))
