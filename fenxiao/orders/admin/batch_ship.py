"""批量发货: upload a file of 订单号 → 物流公司 → 运单号, see each row's verdict, confirm,
and the ready orders ship, each on its own (see `services.batch_shipping`).

The preview carries the ready rows to the confirmation signed (for this staff member, for
an hour), so nothing is stored between the two steps and nothing can be slipped in; the
confirmation checks every row against the database again before shipping it.
"""

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.widgets import UnfoldAdminFileFieldWidget

from fenxiao.core.tabular import csv_response, xlsx_response

from ..errors import BatchShipFileInvalid
from ..services import batch_shipping as service

SALT = "orders.batch_ship"
PAYLOAD_MAX_AGE = 3600
TEMPLATE = "admin/orders/batch_ship.html"


class ShipFileWidget(UnfoldAdminFileFieldWidget):
    # unfold's box says "Choose file to upload" untranslated; the same box, in Chinese.
    # An app template: form widgets are rendered by the form renderer, which reads only apps.
    template_name = "orders/ship_file_input.html"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("发货文件"),
        error_messages={
            "required": gettext_lazy("请选择要上传的发货文件"),
            "empty": gettext_lazy("文件是空的"),
        },
        # unfold's file box: its script fills the chosen file's name into the box.
        widget=ShipFileWidget(attrs={"accept": ".xlsx,.csv"}),
    )


def _salt(request) -> str:
    return f"{SALT}:{request.user.pk}"


def page(model_admin, request):
    context = {"step": "upload", "form": UploadForm()}
    if request.method == "POST" and "_ship" in request.POST:
        context = _ship(request)
    elif request.method == "POST":
        context = _preview(request)
    return _render(model_admin, request, context)


def _preview(request) -> dict:
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return {"step": "upload", "form": form}
    upload = form.cleaned_data["file"]
    try:
        if upload.size > service.MAX_FILE_BYTES:
            raise BatchShipFileInvalid(
                _("文件不能超过 %(size)sMB，请分成多个文件上传")
                % {"size": service.MAX_FILE_BYTES // 1024 // 1024}
            )
        rows = service.read_file(upload.name, upload.read())
    except BatchShipFileInvalid as exc:
        form.add_error("file", exc.message)
        return {"step": "upload", "form": form}
    preview = service.check(rows)
    payload = signing.dumps(service.as_data(preview.rows), salt=_salt(request), compress=True)
    return {"step": "preview", "preview": preview, "file_name": upload.name, "payload": payload}


def _ship(request) -> dict:
    try:
        data = signing.loads(request.POST.get("payload", ""), salt=_salt(request), max_age=PAYLOAD_MAX_AGE)
        rows = service.from_data(data)
    except (signing.BadSignature, TypeError, ValueError):
        messages.error(request, _("预览已过期或无效，请重新上传文件"))
        return {"step": "upload", "form": UploadForm()}
    outcome = service.ship_rows(rows, request.user)
    if outcome.shipped:
        messages.success(request, _("已发货 %(count)s 单") % {"count": len(outcome.shipped)})
    if outcome.failed:
        messages.error(request, _("%(count)s 单未发货，原因见下表") % {"count": len(outcome.failed)})
    return {"step": "done", "outcome": outcome}


def _render(model_admin, request, context):
    opts = model_admin.model._meta
    request.current_app = model_admin.admin_site.name
    changelist = reverse(f"{model_admin.admin_site.name}:orders_order_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": _("批量发货"),
        "changelist_url": changelist,
        "shipped_url": f"{changelist}?tab=shipped",
        "template_xlsx": reverse(
            f"{model_admin.admin_site.name}:orders_order_batch_ship_template", args=["xlsx"]
        ),
        "template_csv": reverse(
            f"{model_admin.admin_site.name}:orders_order_batch_ship_template", args=["csv"]
        ),
        "notes": service.TEMPLATE_NOTES,
        "max_rows": service.MAX_ROWS,
        **context,
    }
    return TemplateResponse(request, TEMPLATE, context)


def template_file(request, fmt: str):
    """The file to fill in: the three columns, with every order now waiting to ship already
    listed (who and what, for reference; only the first three columns are read back)."""
    headers = [*service.COLUMNS, *service.TEMPLATE_EXTRA]
    rows = service.pending_rows()
    if fmt == "csv":
        return csv_response("批量发货模板.csv", headers, rows)
    if fmt == "xlsx":
        return xlsx_response(
            "批量发货模板.xlsx", "批量发货", headers, rows, widths={0: 24, 1: 14, 2: 22, 5: 40, 6: 40}
        )
    raise Http404("不支持的文件格式")
