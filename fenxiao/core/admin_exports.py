"""导出 on a backend list: the list as it is filtered and searched now, as CSV or Excel.

Add `ExportMixin` to a ModelAdmin's bases and name its `export` (a `core.exports.Export`).
The list then shows an 导出 menu (CSV / Excel) carrying the list's query string, served by
`<list>/export/<fmt>/`; the queryset exported is the one the ChangeList builds from that
query string (filters, search, the admin's own `get_queryset`), so the file holds exactly
what the list shows. A small list is answered at once; a large one becomes a background
job (progress and a download link in the 任务中心), which rebuilds the same queryset from
the stored query string with the same ChangeList logic (`list_queryset`).

Who may export: whoever may view the list (`has_export_permission`, which a ModelAdmin may
narrow); personal data stays behind the list's own view permission, and phones are masked
in the file exactly as on the page.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import tabular
from .errors import DomainError

FORMATS = {"csv": "CSV", "xlsx": "Excel"}
# Up to this many records a file is built in the request; more go to a background job.
DIRECT_LIMIT = 2000


def count_up_to(queryset, limit: int) -> int:
    """How many rows, counting no further than `limit` (one cheap query on any size)."""
    return queryset.order_by().values("pk")[:limit].count()


def list_request(model_admin, user, query: str) -> HttpRequest:
    """A GET of the list by `user` with the query string `query`, for a background job."""
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(query)
    request.path = request.path_info = reverse(
        f"{model_admin.admin_site.name}:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist"
    )
    request.META = {"SERVER_NAME": "localhost", "SERVER_PORT": "80", "QUERY_STRING": query}
    request.user = user
    return request


def list_queryset(model_admin, user, query: str):
    """The queryset the list shows for `user` with the query string `query`: the same
    ChangeList the page builds, so a job exports what the list showed when it was asked."""
    request = list_request(model_admin, user, query)
    return model_admin.get_changelist_instance(request).get_queryset(request)


def export_url(model_admin, fmt: str) -> str:
    opts = model_admin.opts
    return reverse(f"{model_admin.admin_site.name}:{opts.app_label}_{opts.model_name}_export", args=[fmt])


class ExportMixin:
    """Put first in the bases: `class OrderAdmin(ExportMixin, ModelAdmin)`."""

    export = None  # a core.exports.Export
    export_direct_limit = DIRECT_LIMIT

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)
        if self.export is not None:
            from . import export_jobs

            export_jobs.register_for(self)

    def _changelist_url(self) -> str:
        return reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")

    def has_export_permission(self, request, obj=None):
        return self.has_view_permission(request)

    def get_urls(self):
        opts = self.opts
        return [
            path(
                "export/<str:fmt>/",
                self.admin_site.admin_view(self.export_view),
                name=f"{opts.app_label}_{opts.model_name}_export",
            )
        ] + super().get_urls()

    def get_actions(self, request):
        # 导出所选 on every exportable list, without each list naming it in `actions`.
        actions = super().get_actions(request)
        if self.export is not None and self.actions is not None and self.has_export_permission(request):
            for name in ("export_selected_csv", "export_selected_xlsx"):
                actions[name] = self.get_action(name)
        return actions

    def export_selected_csv(self, request, queryset):
        return self.export_selected(request, queryset, "csv")

    export_selected_csv.short_description = gettext_lazy("导出所选（CSV）")

    def export_selected_xlsx(self, request, queryset):
        return self.export_selected(request, queryset, "xlsx")

    export_selected_xlsx.short_description = gettext_lazy("导出所选（Excel）")

    def export_selected(self, request, queryset, fmt: str):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # "Select all N" is the filtered list (its query string is the page's), perhaps
        # large; rows ticked on one page are few and answered at once.
        if request.POST.get("select_across") == "1":
            return self.deliver_export(request, queryset, fmt, query=request.GET.urlencode())
        return self.export_file(request, queryset, fmt)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        # Only the list itself ("cl") offers the menu: a page an action answers with (a
        # confirmation, a form) would carry an 导出 of the whole list, not of what was ticked.
        is_list = context is not None and "cl" in context
        if is_list and self.export is not None and self.has_export_permission(request):
            # The menu's links carry the list's query string: the file is the list as shown.
            query = request.GET.copy()
            query.pop("e", None)
            suffix = f"?{query.urlencode()}" if query else ""
            menu = {
                "title": _("导出"),
                "icon": "download",
                "method_name": "export",
                "attrs": {"id": "list-export"},
                "items": [
                    {
                        "title": _("导出 %(format)s") % {"format": label},
                        "icon": "table_view" if fmt == "xlsx" else "description",
                        "attrs": {"data-export": fmt},
                        "path": export_url(self, fmt) + suffix,
                    }
                    for fmt, label in FORMATS.items()
                ],
            }
            context["actions_list"] = [*(context.get("actions_list") or []), menu]
        return response

    def export_view(self, request, fmt):
        """GET <list>/export/<fmt>/?<the list's query string>."""
        if fmt not in FORMATS:
            raise Http404("不支持的导出格式")
        if self.export is None or not self.has_export_permission(request):
            raise PermissionDenied
        try:
            queryset = list_queryset(self, request.user, request.GET.urlencode())
        except IncorrectLookupParameters:
            messages.error(request, _("筛选条件无效，请重新筛选后再导出"))
            return HttpResponseRedirect(self._changelist_url())
        return self.deliver_export(request, queryset, fmt, query=request.GET.urlencode())

    def deliver_export(self, request, queryset, fmt: str, *, query: str = ""):
        """The file now when the set is small; a background job when it is large."""
        if count_up_to(queryset, self.export_direct_limit + 1) <= self.export_direct_limit:
            return self.export_file(request, queryset, fmt)
        return self.start_export_job(request, fmt, query=query)

    def export_file(self, request, queryset, fmt: str):
        export = self.export
        # A list's file is in the shop's language whoever asks, as the background job writes
        # a large one: finance hands it on (to a bank, an accountant) as it is.
        with translation.override(settings.LANGUAGE_CODE):
            rows = export.rows(queryset, request.user)
            return tabular.file_response(
                export.filename(fmt), fmt, export.title, export.headers, rows, widths=export.widths
            )

    def start_export_job(self, request, fmt: str, *, query: str = ""):
        from . import export_jobs

        try:
            job = export_jobs.start(self, request.user, fmt, query=query)
        except DomainError as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(self._changelist_url() + (f"?{query}" if query else ""))
        messages.success(
            request, _("导出任务“%(title)s”已开始，完成后可在任务中心下载文件") % {"title": job.title}
        )
        return HttpResponseRedirect(export_jobs.job_url(job))
