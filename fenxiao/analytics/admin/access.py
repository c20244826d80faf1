"""Who may see which figures: one permission per report page, and each dashboard figure
belongs to the report that explains it (`dashboard.METRIC_REPORT`)."""

from ..services import reports

# Report page -> the permission that opens it (运营: all three; 财务: sales and distribution).
REPORT_PERMISSIONS = reports.PERMISSIONS
REPORT_TITLES = reports.PAGES
REPORT_ICONS = {
    "sales": "bar_chart",
    "distribution": "hub",
    "traffic": "travel_explore",
    "stores": "storefront",
}


def may_view(user, key: str) -> bool:
    permission = REPORT_PERMISSIONS.get(key)
    return bool(permission and user.is_active and user.is_staff and user.has_perm(permission))


def allowed_reports(user) -> list[str]:
    return [key for key in REPORT_PERMISSIONS if may_view(user, key)]


def may_see_metric(user, metric_key: str, metric_report: dict) -> bool:
    """A dashboard figure shows only to a user who may open the report it comes from; a
    figure no report claims shows to nobody but a superuser (fail closed)."""
    report = metric_report.get(metric_key)
    if report is None:
        return user.is_superuser
    return may_view(user, report)
