"""The 快速开店 wizard in the backend: choose a template, read its plan, confirm. Thin: the
plan and the writes are `services.plan`'s. Superusers only — a template rewrites the shop's
commission policy."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from fenxiao.core.errors import DomainError

from .models import SetupRecord
from .services import items
from .services import plan as setup
from .spec import TEMPLATES

LOG_ROWS = 20


def _superuser(request) -> None:
    if not request.user.is_superuser:
        raise PermissionDenied


def _page(request, template: str, context: dict, status: int = 200) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(request, template, {**admin.site.each_context(request), **context}, status=status)


def wizard(request):
    _superuser(request)
    records = list(SetupRecord.objects.select_related("applied_by")[:LOG_ROWS])
    for record in records:
        record.title = TEMPLATES[record.template].title if record.template in TEMPLATES else record.template
        record.written = [r for r in record.changes if r.get("status") in items.WRITES]
        record.skipped = [r for r in record.changes if r.get("status") == items.CONFLICT]
    return _page(
        request,
        "shopsetup/wizard.html",
        {
            "title": _("快速开店"),
            "templates": [
                {**vars(t), "url": reverse("shopsetup_plan", args=[t.key])} for t in TEMPLATES.values()
            ],
            "records": records,
            "fresh": setup.is_fresh(),
        },
    )


@require_http_methods(["GET", "POST"])
def plan_view(request, key: str):
    _superuser(request)
    demo = request.POST.get("demo", request.GET.get("demo")) == "1"
    if request.method == "POST":
        confirmed = set(request.POST.getlist("confirm"))
        try:
            record = setup.apply(key, request.user, demo=demo, confirmed=confirmed)
        except DomainError as exc:
            return _render_plan(
                request,
                key,
                demo,
                error=_("%(message)s（%(code)s）") % {"message": exc.message, "code": exc.code},
                status=exc.status,
            )
        messages.success(
            request,
            _("已应用“%(title)s”模板：写入 %(count)s 项，详见下方记录")
            % {"title": TEMPLATES[key].title, "count": record.changed_count},
        )
        return HttpResponseRedirect(reverse("shopsetup_wizard"))
    return _render_plan(request, key, demo)


def _render_plan(request, key, demo, *, error="", status=200):
    try:
        plan = setup.build(key, demo=demo)
    except DomainError as exc:
        return _page(
            request, "shopsetup/plan.html", {"title": _("快速开店"), "error": exc.message}, exc.status
        )
    return _page(
        request,
        "shopsetup/plan.html",
        {
            "title": _("快速开店：%(title)s") % {"title": plan.template.title},
            "tpl": plan.template,
            "rows": plan.rows,
            "demo": demo,
            "has_demo": bool(plan.template.demo),
            "writes": len(plan.writes),
            "conflicts": len(plan.conflicts),
            "error": error,
            "back": reverse("shopsetup_wizard"),
        },
        status,
    )


def dashboard_prompt(request):
    """The backend home's invitation to the wizard, for a superuser on a fresh shop."""
    if not request.user.is_superuser or not setup.is_fresh():
        return None
    return {
        "title": _("欢迎！一步完成开店配置"),
        "text": _("选择“初创”“中小企业”或“线下连锁”模板，先看将要修改的设置，确认后一键应用。"),
        "url": reverse("shopsetup_wizard"),
        "action": _("打开快速开店向导"),
    }
