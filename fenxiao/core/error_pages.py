"""Error pages (400/403/404/500) in Chinese (English if the visitor chose it): the
storefront's style for buyers, the backend's for staff under /backend/, and the API's JSON
error body under /api/.

A 500 page renders without touching the database: it may be the database that failed.
"""

import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

BACKEND = "/backend/"

PAGES = {
    400: ("BAD_REQUEST", _("请求有误"), _("请求的内容无法识别，请返回上一页重试。")),
    403: ("FORBIDDEN", _("没有权限"), _("你没有权限访问这个页面。如需开通，请联系管理员。")),
    404: ("NOT_FOUND", _("页面不存在"), _("你要找的页面不存在，可能已被删除或链接有误。")),
    "csrf": ("CSRF_FAILED", _("页面已过期"), _("页面停留太久或已在别处退出登录，请刷新页面后重试。")),
    500: ("SERVER_ERROR", _("服务器开小差了"), _("我们已经记录了这个问题，请稍后再试。")),
}


def _render(request, status: int, page=None) -> HttpResponse:
    code, title, message = PAGES[page or status]
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        text = gettext("%(title)s：%(message)s") % {"title": title, "message": message}
        return JsonResponse({"code": code, "message": text}, status=status)
    context = {"status": status, "title": title, "message": message}
    if path.startswith(BACKEND):
        context.update(_backend_context(request, status))
        template = f"admin/errors/{status}.html"
    else:
        template = f"{status}.html"
    # The 500 page gets no request: context processors read the session, i.e. the database.
    body = loader.render_to_string(template, context, request if status != 500 else None)
    return HttpResponse(body, status=status)


def _backend_context(request, status: int) -> dict:
    context = {
        "site_title": settings.UNFOLD.get("SITE_TITLE"),
        "site_url": "/",
        "backend_url": BACKEND,
    }
    if status == 500:
        return context
    from django.contrib import admin

    try:
        context.update(admin.site.each_context(request))
    except Exception:  # a broken page must still render its error page
        logger.exception("backend context for an error page")
    context["site_url"] = "/"
    return context


def bad_request(request, exception=None):
    return _render(request, 400)


def permission_denied(request, exception=None):
    return _render(request, 403)


def page_not_found(request, exception=None):
    return _render(request, 404)


def server_error(request):
    return _render(request, 500)


def csrf_failure(request, reason=""):
    """A form posted without a valid CSRF token (e.g. an expired page): 403, in Chinese."""
    return _render(request, 403, "csrf")
