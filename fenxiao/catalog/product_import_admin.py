"""Backend pages of the product import (导入商品), under /backend/catalog/product/import/:
download the template, upload a file (and a zip of pictures), read the dry run, confirm,
watch the job's progress. Thin: every rule is in `services.product_import`."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from unfold.widgets import UnfoldAdminFileFieldWidget

from fenxiao.core import jobs, tabular
from fenxiao.core.admin import job_progress_html
from fenxiao.core.errors import DomainError
from fenxiao.core.models import Job, JobStatus

from .services import product_import, product_import_files
from .services import product_import_columns as spec


class FileInput(UnfoldAdminFileFieldWidget):
    template_name = "catalog/import/file_input.html"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("商品文件（.xlsx 或 .csv）"), widget=FileInput(attrs={"accept": ".xlsx,.csv"})
    )
    images = forms.FileField(
        label=gettext_lazy("图片压缩包（.zip，可选）"),
        required=False,
        widget=FileInput(attrs={"accept": ".zip"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("只支持 .xlsx 或 .csv 文件"))
        if upload.size > product_import_files.MAX_FILE_BYTES:
            raise forms.ValidationError(_("文件不能超过 10MB"))
        return upload

    def clean_images(self):
        upload = self.cleaned_data.get("images")
        if upload and not upload.name.lower().endswith(".zip"):
            raise forms.ValidationError(_("图片请打包为 .zip 上传"))
        if upload and upload.size > product_import_files.MAX_ZIP_BYTES:
            raise forms.ValidationError(_("图片压缩包不能超过 100MB"))
        return upload


def _allowed(request) -> None:
    if not request.user.has_perm(product_import.IMPORT_PERMISSION):
        raise PermissionDenied


def _page(request, template: str, context: dict, status: int = 200) -> TemplateResponse:
    request.current_app = admin.site.name
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "title": _("导入商品"), "columns": spec.COLUMNS, **context},
        status=status,
    )


def import_page(request):
    _allowed(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        upload, images = form.cleaned_data["file"], form.cleaned_data.get("images")
        try:
            job, _created = product_import.start(
                request.user,
                upload.read(),
                upload.name,
                images.read() if images else None,
                images.name if images else "",
            )
        except DomainError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("catalog_product_import_job", args=[job.pk]))
    recent = Job.objects.filter(kind=product_import.IMPORT_KIND).exclude(status=JobStatus.DRAFT)[:5]
    return _page(
        request,
        "catalog/import/upload.html",
        {"form": form, "error": error, "notes": spec.NOTES, "recent": recent},
        status=400 if error or form.errors else 200,
    )


def template_download(request, fmt: str):
    _allowed(request)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    filename, content, content_type = product_import.template_file(fmt)
    return tabular._attachment(HttpResponse(content, content_type=content_type), filename)


def _job(request, job_id) -> Job:
    _allowed(request)
    job = Job.objects.filter(pk=job_id, kind=product_import.IMPORT_KIND).first()
    if job is None or not jobs.may_see(request.user, job):
        raise Http404(_("导入任务不存在"))
    return job


def job_page(request, job_id: int):
    job = _job(request, job_id)
    dry = (job.summary or {}).get("dry_run") or {}
    return _page(
        request,
        "catalog/import/job.html",
        {
            "job": job,
            "dry": dry,
            "counts": dry.get("counts") or {},
            "dry_errors": dry.get("errors") or [],
            "progress": "" if job.status == JobStatus.DRAFT else job_progress_html(job, request),
            "input_filename": ((job.inputs or {}).get("file") or {}).get("filename", ""),
        },
    )


@require_POST
def confirm(request, job_id: int):
    job = _job(request, job_id)
    try:
        product_import.confirm(job, request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("catalog_product_import_job", args=[job.pk]))


urlpatterns = [
    path("", admin.site.admin_view(import_page), name="catalog_product_import"),
    path(
        "template.<str:fmt>", admin.site.admin_view(template_download), name="catalog_product_import_template"
    ),
    path("<int:job_id>/", admin.site.admin_view(job_page), name="catalog_product_import_job"),
    path("<int:job_id>/confirm/", admin.site.admin_view(confirm), name="catalog_product_import_confirm"),
]
