"""Large exports as background jobs (任务中心), for the lists with `ExportMixin`.

Each exporting list registers its job kinds when the admin site registers it: `export.<app>.
<model>` readable by whoever may view the list, and, when the file holds phones,
`export.<app>.<model>.phones` readable only by those who may also see phones in full. A job
file is shared with every colleague who may see its kind, so its phones are full only in
the second kind, whoever started it.

The job stores the list's query string, not the rows: the worker rebuilds the queryset with
the list's own ChangeList for the staff member who asked (their permissions checked again),
streams the rows to a temporary file chunk by chunk (progress per chunk), and stores it as
the job's result, downloaded through the job centre's permission-checked view.
"""

import tempfile

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_user_model
from django.core.files import File
from django.urls import reverse
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from . import jobs, tabular
from .exports import reporting

FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel"}


def kind_key(model_admin, *, phones: bool) -> str:
    opts = model_admin.opts
    return f"export.{opts.app_label}.{opts.model_name}" + (".phones" if phones else "")


def register_for(model_admin) -> None:
    """The job kinds of one exporting list (called as the admin site registers it)."""
    export, opts = model_admin.export, model_admin.opts
    view = f"{opts.app_label}.view_{opts.model_name}"

    def handler(run):
        run_export(model_admin, run)

    jobs.register(
        kind_key(model_admin, phones=False),
        label=format_lazy(gettext_lazy("导出{title}"), title=export.title),
        permission=view,
        handler=handler,
    )
    if export.phone_permission:
        jobs.register(
            kind_key(model_admin, phones=True),
            label=format_lazy(gettext_lazy("导出{title}（含完整手机号）"), title=export.title),
            permission=(view, export.phone_permission),
            handler=handler,
        )


def start(model_admin, user, fmt: str, *, query: str = ""):
    """Queue the export of the list as `user` sees it with `query`."""
    export = model_admin.export
    phones = bool(export.phone_permission) and user.has_perm(export.phone_permission)
    return jobs.create(
        kind_key(model_admin, phones=phones),
        user=user,
        title=f"导出{export.title}（{FORMAT_LABELS[fmt]}）",
        params={"fmt": fmt, "query": query},
    )


def job_url(job) -> str:
    return reverse("admin:core_job_change", args=[job.pk])


class _Masked:
    """The staff member, minus the permission to see phones in full: a file of the masked
    kind stays masked even if its creator has gained that permission since."""

    def __init__(self, user, permission: str):
        self._user, self._permission = user, permission

    def has_perm(self, perm, obj=None):
        return perm != self._permission and self._user.has_perm(perm, obj)

    def __getattr__(self, name):
        return getattr(self._user, name)


def run_export(model_admin, run) -> None:
    from .admin_exports import list_request

    job, export = run.job, model_admin.export
    fmt = job.params.get("fmt")
    if fmt not in FORMAT_LABELS:
        raise jobs.JobFailed("不支持的导出格式")
    user = get_user_model().objects.filter(pk=job.created_by_id, is_active=True, is_staff=True).first()
    if user is None:
        raise jobs.JobFailed("发起导出的员工账号已停用")
    request = list_request(model_admin, user, job.params.get("query", ""))
    if not model_admin.has_export_permission(request) or not user.has_perms(jobs.kind_of(job.kind).perms):
        raise jobs.JobFailed("没有权限导出此列表")
    try:
        queryset = model_admin.get_changelist_instance(request).get_queryset(request)
    except IncorrectLookupParameters as exc:
        raise jobs.JobFailed("筛选条件无效，请重新筛选后再导出") from exc
    viewer = user if job.kind.endswith(".phones") else _Masked(user, export.phone_permission)

    total = queryset.count()
    run.progress(0, total=total, stage="导出中", force=True)
    done = 0

    def tick(count: int) -> None:
        nonlocal done
        done = min(total, done + count)
        run.progress(done)

    # In the shop's language even when the job runs in the asking request's thread.
    with tempfile.TemporaryFile() as out, translation.override(settings.LANGUAGE_CODE):
        with reporting(tick):
            rows = tabular.write(
                out, fmt, export.title, export.headers, export.rows(queryset, viewer), widths=export.widths
            )
        out.seek(0)
        run.save_result(export.filename(fmt), File(out))
    run.succeed(summary={"records": total, "rows": rows}, message=f"已导出 {total} 条记录，共 {rows} 行")
