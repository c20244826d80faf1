"""Staff report API: the dashboard figures and each report as JSON, the same figures the
backend pages show, for integrations (a BI tool, a mobile console).

`range` is a preset (today, yesterday, 7d, 30d) or `start`/`end` (YYYY-MM-DD) with `grain`
(day, week, month); anything else is refused with 400 REPORT_PERIOD_INVALID.
"""

from django.utils.translation import gettext as _
from ninja import Router

from fenxiao.core.errors import NotFound, PermissionDenied
from fenxiao.customers.auth import buyer_auth, require_perm

from .services import dashboard, periods, reports, same_time, serialize

router = Router(tags=["商家：经营数据"], auth=buyer_auth)


def _allowed_reports(user) -> set[str]:
    if not (user.is_active and user.is_staff):
        return set()
    return {key for key, perm in reports.PERMISSIONS.items() if user.has_perm(perm)}


@router.get("/dashboard")
def overview(request):
    """经营概况: each figure the caller's report permissions cover, with the previous
    period's value and the trend per bucket."""
    allowed = _allowed_reports(request.user)
    if not allowed:
        raise PermissionDenied()
    period = periods.parse(request.GET, default="today")
    # 今日 is compared with yesterday up to the same time of day: `previous_until` says when.
    until = same_time.cutoff(period)
    metrics = [m for m in dashboard.overview(period, until) if dashboard.METRIC_REPORT[m.key] in allowed]
    return {
        "period": serialize.period(period),
        "previous": serialize.period(period.previous()),
        "previous_until": same_time.previous_until(until).isoformat() if until else None,
        "buckets": [label for label, _, _ in period.buckets()],
        "metrics": [serialize.metric(m) for m in metrics],
    }


@router.get("/reports/{key}")
def report(request, key: str):
    if key not in reports.PAGES:
        raise NotFound(_("没有这个报表"), code="REPORT_NOT_FOUND")
    require_perm(request, reports.PERMISSIONS[key])
    period = periods.parse(request.GET)
    return {
        "key": key,
        "title": reports.PAGES[key],
        "period": serialize.period(period),
        "sections": [serialize.report(r) for r in reports.build(key, period, request.GET)],
    }
