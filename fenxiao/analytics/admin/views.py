"""The 数据 pages of the backend: 经营概况 (the backend home) and the report pages with
their exports. Thin: they check the permission, read the period, call the report services
and render what those return."""

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.days import day_start
from fenxiao.core.errors import DomainError

from ..models import ReportWatermark
from ..services import aggregates, dashboard, periods, reports, same_time
from ..services import todo as todo_service
from . import exports, render
from .access import REPORT_ICONS, REPORT_PERMISSIONS, REPORT_TITLES, allowed_reports, may_see_metric, may_view

DASHBOARD_RANGES = ["today", "yesterday", "7d", "30d"]
# Rows of the rankings (top products, distributors) the picker offers; the service checks it.
# 全部 gives every row, for a shop with more products or distributors than 200.
LIMITS = ["10", "20", "50", "100", "200", reports.ALL]
DEFAULT_LIMIT = "20"


# --- the report services, called from one place each ------------------------------------


def build_reports(key: str, period, params) -> list:
    return reports.build(key, period, params)


def dashboard_overview(period, until=None) -> list:
    return dashboard.overview(period, until)


def dashboard_trend(period, metrics):
    return dashboard.trend(period, metrics)


def metric_reports() -> dict:
    return dashboard.METRIC_REPORT


def page_title(key: str) -> str:
    return reports.PAGES.get(key) or REPORT_TITLES[key]


# --- helpers ----------------------------------------------------------------------------------


def refreshed_at():
    """When the aggregates the figures come from were last refreshed (None: never)."""
    marks = ReportWatermark.objects.filter(name=aggregates.WATERMARK)
    return marks.values_list("refreshed_at", flat=True).first()


def freshness(at) -> str:
    """When the figures were last brought up to date (`refreshed_at`): they come from
    aggregates a background job refreshes every few minutes, so today's figures may lag the
    orders list a little."""
    if at is None:
        return _("报表数据尚未更新：后台任务每 5 分钟更新一次")
    return _("数据更新于 %(at)s（每 5 分钟更新）") % {"at": f"{timezone.localtime(at):%Y-%m-%d %H:%M}"}


def running_note(period, at) -> str:
    """A period that includes today holds today so far (up to the last refresh, `at`),
    while the period it is compared with is made of whole days: say so, or a morning's
    figures read as a fall (经营概况 compares 今日 with 昨日同时段; the reports cannot)."""
    if period is None or not period.running:
        return ""
    now = timezone.now()
    until = timezone.localtime(min(max(at or now, day_start(timezone.localdate())), now))
    return _("今日截至 %(until)s，尚未结束；上一周期按全天计") % {"until": f"{until:%H:%M}"}


def report_url(key: str, params: dict | None = None) -> str:
    url = reverse("analytics_report", args=[key])
    return f"{url}?{urlencode(params)}" if params else url


def _backend(request, template: str, context: dict, status: int = 200) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context}, status=status)


def picker(request, period, key: str | None = None) -> dict:
    """The period picker: presets as links (keeping the grain), a custom range and a grain."""
    uses = reports.CHOICES.get(key, ("grain", "limit"))
    grain = request.GET.get("grain") or periods.DAY
    grain = grain if grain in periods.GRAINS else periods.DAY
    limit = (request.GET.get("limit") or "").strip()
    limit = limit if limit in LIMITS else ""
    custom = bool(request.GET.get("start") or request.GET.get("end"))
    current = "" if custom else (request.GET.get("range") or "7d")
    keep = {
        **({"grain": grain} if "grain" in uses else {}),
        **({"limit": limit} if limit and "limit" in uses else {}),
    }
    presets = [
        {
            "key": name,
            "label": label,
            "url": "?" + urlencode({"range": name, **keep}),
            "active": name == current,
        }
        for name, (label, _) in periods.PRESETS.items()
    ]
    return {
        "presets": presets,
        # Only the choices the page reads (reports.CHOICES): none on 门店报表.
        "grains": [{"key": k, "label": v, "active": k == grain} for k, v in periods.GRAINS.items()]
        if "grain" in uses
        else [],
        "start": (request.GET.get("start") or (period.start.isoformat() if period else ""))[:10],
        "end": (request.GET.get("end") or (period.end.isoformat() if period else ""))[:10],
        "range": current,
        "custom": custom,
        # The days a range may take (periods.parse refuses the others): the date inputs'
        # calendars offer only those.
        "first_day": periods.EARLIEST.isoformat(),
        "last_day": timezone.localdate().isoformat(),
        "limits": [
            {
                "key": k,
                "label": _("全部") if k == reports.ALL else _("前 %(count)s 名") % {"count": k},
                "active": k == (limit or DEFAULT_LIMIT),
            }
            for k in LIMITS
        ]
        if "limit" in uses
        else [],
    }


def wider(request, period) -> dict | None:
    """The next step an empty table offers: a longer range, keeping the grain and ranking
    length — 近30天 for a shorter period, then the last year by month; nothing past a year."""
    if period is None:
        return None
    keep = {"limit": request.GET["limit"]} if request.GET.get("limit") in LIMITS else {}
    if period.days < 30:
        return {
            "label": periods.PRESETS["30d"][0],
            "url": "?" + urlencode({"range": "30d", "grain": period.grain, **keep}),
        }
    if period.days < 365:
        end = timezone.localdate() - timedelta(days=1)
        start = end - timedelta(days=364)
        params = {"start": start.isoformat(), "end": end.isoformat(), "grain": periods.MONTH, **keep}
        return {"label": _("近一年（按月）"), "url": "?" + urlencode(params)}
    return None


# --- report pages ------------------------------------------------------------------------------


def _checked(request, key: str):
    if key not in REPORT_PERMISSIONS:
        raise Http404(_("没有这个报表"))
    if not may_view(request.user, key):
        raise PermissionDenied


def report_view(request, key: str):
    _checked(request, key)
    error, status, period, sections = "", 200, None, []
    try:
        period = periods.parse(request.GET)
        built = build_reports(key, period, request.GET)
    except DomainError as exc:
        error, status = exc.message, exc.status
    else:
        for report in built:
            params = {**period.as_params(), "report": report.key}
            if request.GET.get("limit"):
                params["limit"] = request.GET["limit"]
            export_urls = (
                {
                    fmt: reverse("analytics_report_export", args=[key, fmt]) + "?" + urlencode(params)
                    for fmt in exports.FORMATS
                }
                if report.table is not None
                else {}
            )
            sections.append(render.report_context(report, request.user, export_urls))
    at = refreshed_at() if sections else None
    context = {
        "title": page_title(key),
        "report_key": key,
        "period": period,
        "freshness": freshness(at) if sections else "",
        "running": running_note(period, at) if sections else "",
        "picker": picker(request, period, key),
        "error": error,
        "sections": sections,
        "tabs": _tabs(request.user, key),
        "wider": wider(request, period),
    }
    return _backend(request, "analytics/report.html", context, status)


def _tabs(user, current: str) -> list[dict]:
    return [
        {"title": page_title(k), "link": report_url(k), "active": k == current, "icon": REPORT_ICONS[k]}
        for k in allowed_reports(user)
    ]


def export_view(request, key: str, fmt: str):
    _checked(request, key)
    if fmt not in exports.FORMATS:
        raise Http404(_("不支持的导出格式"))
    try:
        period = periods.parse(request.GET)
        built = build_reports(key, period, request.GET)
    except DomainError as exc:
        return _backend(
            request,
            "analytics/report.html",
            {
                "title": page_title(key),
                "report_key": key,
                "picker": picker(request, None, key),
                "error": exc.message,
                "sections": [],
                "tabs": _tabs(request.user, key),
            },
            exc.status,
        )
    wanted = request.GET.get("report") or ""
    for report in built:
        if report.table is not None and (report.key == wanted or not wanted):
            return exports.export(report, fmt, page=page_title(key))
    raise Http404(_("没有可导出的报表"))


# --- 经营概况 ----------------------------------------------------------------------------------


# Notices apps above analytics put at the top of the home page (e.g. the quick-setup wizard
# on a fresh shop): callables `(request) -> dict | None` with "title", "text", "url", "action".
PROMPTS: list = []


def register_prompt(prompt) -> None:
    if prompt not in PROMPTS:
        PROMPTS.append(prompt)


def prompts(request) -> list[dict]:
    return [p for p in (prompt(request) for prompt in PROMPTS) if p]


def dashboard_callback(request, context):
    """unfold's DASHBOARD_CALLBACK: the backend home becomes 经营概况."""
    context.update(dashboard_context(request))
    return context


def dashboard_context(request) -> dict:
    user = request.user
    chosen = request.GET.get("range") or "today"
    error = ""
    if chosen not in DASHBOARD_RANGES:
        error, chosen = _("未知的时间范围，已显示今日"), "today"
    period = periods.preset(chosen)
    reports_allowed = allowed_reports(user)
    cards, chart, chart_period, until = [], None, None, None
    if reports_allowed:
        mapping = metric_reports()
        # 今日 runs up to the last refresh and is compared with yesterday up to that time.
        until = same_time.cutoff(period)
        visible = [m for m in dashboard_overview(period, until) if may_see_metric(user, m.key, mapping)]
        cards = [
            render.metric_card(m, report_url(mapping[m.key], {"range": chosen}) if m.key in mapping else "")
            for m in visible
        ]
        chart_period = trend_period(period)
        chart = render.chart_config(_trend(period, chart_period, visible))
    return {
        "title": _("经营概况"),
        "console": {
            "period": period,
            "ranges": [
                {"key": k, "label": periods.PRESETS[k][0], "url": "?range=" + k, "active": k == chosen}
                for k in DASHBOARD_RANGES
            ],
            "error": error,
            "until": f"{timezone.localtime(until):%H:%M}" if until else "",
            "cards": cards,
            "chart": chart,
            "chart_title": _("趋势（%(start)s 至 %(end)s）")
            % {"start": f"{chart_period.start:%m-%d}", "end": f"{chart_period.end:%m-%d}"}
            if chart
            else "",
            "todos": [render.todo_card(t) for t in todo_service.for_user(user)],
            "reports": [
                {"title": page_title(k), "url": report_url(k), "icon": REPORT_ICONS[k]}
                for k in reports_allowed
            ],
            "shortcuts": shortcuts(user),
            "prompts": prompts(request),
            "has_figures": bool(reports_allowed),
            "freshness": freshness(refreshed_at()) if reports_allowed else "",
        },
    }


def trend_period(period):
    """A one-day range (今日, 昨日) draws the seven days up to it: one point is no trend."""
    if period.days > 1:
        return period
    return periods.Period(period.start - timedelta(days=6), period.end, periods.DAY, _("近7天"))


def _trend(period, chart_period, visible):
    """The chart of the figures this user may see, from the figures already read when the
    period is the chart's; a one-day range reads the week it draws (its own figures only)."""
    if not visible:
        return None  # the service would read and draw every figure
    keys = {m.key for m in visible}
    if chart_period != period:
        visible = [m for m in dashboard_overview(chart_period) if m.key in keys]
    return dashboard_trend(chart_period, visible)


# (title, icon, url name, permission): the pages a merchant opens most, if they may.
SHORTCUTS = [
    (gettext_lazy("发布商品"), "add_box", "admin:catalog_product_add", "catalog.add_product"),
    (gettext_lazy("订单管理"), "receipt_long", "admin:orders_order_changelist", "orders.view_order"),
    (
        gettext_lazy("营销活动"),
        "campaign",
        "admin:promotions_promotion_changelist",
        "promotions.view_promotion",
    ),
    (
        gettext_lazy("优惠券"),
        "confirmation_number",
        "admin:promotions_coupon_changelist",
        "promotions.view_coupon",
    ),
    (
        gettext_lazy("分销商"),
        "groups",
        "admin:distribution_distributor_changelist",
        "distribution.view_distributor",
    ),
    (
        gettext_lazy("佣金记录"),
        "paid",
        "admin:distribution_commission_changelist",
        "distribution.view_commission",
    ),
    (
        gettext_lazy("订单设置"),
        "settings",
        "admin:orders_ordersettings_changelist",
        "orders.view_ordersettings",
    ),
]


def shortcuts(user) -> list[dict]:
    return [
        {"title": title, "icon": icon, "url": reverse(name)}
        for title, icon, name, permission in SHORTCUTS
        if user.has_perm(permission)
    ]
