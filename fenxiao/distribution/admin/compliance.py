"""合规概览 (compliance summary), under /backend/distribution/compliance/: the page a merchant
shows a regulator or a platform reviewer, printable, and its figures as a CSV file. Thin:
every figure and verdict comes from `services.compliance`.

Who may open it: staff who may read commissions and the distribution settings, the two
things it summarises (the superuser, 运营 and 财务 have both); anyone else gets 403.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import bp_to_percent, format_bp, format_fen
from fenxiao.core.tabular import csv_response, money_cell, safe_text

from ..models import DistributionSettings, Reconciliation, SettingsChange
from ..services import compliance
from .common import changelist_url

PERMISSIONS = ("distribution.view_commission", "distribution.view_distributionsettings")

# Where a section's evidence lives in the backend: (model, the permission to open it, label).
EVIDENCE = {
    "levels": (DistributionSettings, "distribution.view_distributionsettings", gettext_lazy("查看分销设置")),
    "sales": (Reconciliation, "distribution.view_reconciliation", gettext_lazy("查看每日对账")),
    "history": (SettingsChange, "distribution.view_settingschange", gettext_lazy("查看全部设置变更记录")),
}

CSV_HEADERS = [
    gettext_lazy("分区"),
    gettext_lazy("结论"),
    gettext_lazy("项目"),
    gettext_lazy("数量"),
    gettext_lazy("金额（元）"),
    gettext_lazy("比例（%）"),
    gettext_lazy("说明"),
    gettext_lazy("备注"),
]


def may_view(user) -> bool:
    return bool(user.is_active and user.is_staff and all(user.has_perm(p) for p in PERMISSIONS))


def _allowed(request) -> None:
    if not may_view(request.user):
        raise PermissionDenied


def _figure(figure: compliance.Figure) -> dict:
    return {
        "label": figure.label,
        "count": "" if figure.count is None else figure.count,
        "value": (
            format_fen(figure.amount)
            if figure.amount is not None
            else format_bp(figure.rate)
            if figure.rate is not None
            else ""
        ),
        "text": figure.text,
        "note": figure.note,
        "alert": figure.alert,
    }


def _section(user, section: compliance.Section) -> dict:
    link = None
    if section.key in EVIDENCE:
        model, permission, label = EVIDENCE[section.key]
        if user.has_perm(permission):
            link = {"url": changelist_url(model), "label": label}
    return {
        "key": section.key,
        "title": section.title,
        "ok": section.ok,
        "verdict": section.verdict,
        "explanation": section.explanation,
        "figures": [_figure(f) for f in section.figures],
        "notes": section.notes,
        "link": link,
    }


def page(request):
    _allowed(request)
    report = compliance.summary()
    request.current_app = admin.site.name
    context = {
        **admin.site.each_context(request),
        "title": _("合规概览"),
        "report": report,
        "generated_at": timezone.localtime(report.generated_at),
        "sections": [_section(request.user, s) for s in report.sections],
        "attention": [s.title for s in report.attention],
        "export_url": reverse("distribution_compliance_export"),
    }
    return TemplateResponse(request, "admin/distribution/compliance.html", context)


def _rows(report: compliance.Summary):
    for section in report.sections:
        for figure in section.figures:
            yield [
                safe_text(section.title),
                section.verdict,
                safe_text(figure.label),
                "" if figure.count is None else figure.count,
                money_cell(figure.amount),
                "" if figure.rate is None else bp_to_percent(figure.rate),
                safe_text(figure.text),
                safe_text((_("需关注：") if figure.alert else "") + figure.note),
            ]
        yield [
            safe_text(section.title),
            section.verdict,
            _("结论"),
            "",
            "",
            "",
            safe_text(section.explanation),
            "",
        ]


def export(request):
    _allowed(request)
    report = compliance.summary()
    stamp = timezone.localtime(report.generated_at)
    return csv_response(f"compliance-{stamp:%Y%m%d-%H%M}.csv", CSV_HEADERS, _rows(report))


urlpatterns = [
    path("", admin.site.admin_view(page), name="distribution_compliance"),
    path("export.csv", admin.site.admin_view(export), name="distribution_compliance_export"),
]
