"""Backend building blocks shared by every app's admin."""

import functools

from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from .money import format_fen


def change_url(obj) -> str:
    """The backend change page of `obj`."""
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def masked_phone(phone: str) -> str:
    """138****1234, as `customers.phones.mask_phone` writes it (core imports no app)."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def user_text(user, full_phone: bool = True) -> str:
    """A person as staff see them. A buyer's phone is masked unless `full_phone` (the staff
    member may see phones: `customers.view_customer_phone`); a staff account's phone is
    shown whole, as on the user pages."""
    if user is None:
        return "-"
    phone = user.phone
    if phone and not full_phone and not user.is_staff:
        phone = masked_phone(phone)
    if phone and user.nickname:
        return _("%(name)s（%(phone)s）") % {"name": user.nickname, "phone": phone}
    return phone or user.nickname or user.username


def fen_column(description: str, *, field: str = "amount", ordering: str | None = None):
    """A list or detail column showing an integer fen `field` as money ("¥12.34")."""

    @display(description=description, ordering=ordering)
    def column(self, obj):
        return format_fen(getattr(obj, field))

    return column


class Label(tuple):
    """A (value, text) pair as a `label_display` column answers it. unfold's list code sees
    the tuple and draws `text` as a badge coloured by `value`; a change page's read-only
    field, which prints a plain tuple as "('paid', '已支付')", renders the same badge
    through `__html__`, and anything else that prints it gets `text`."""

    def __new__(cls, value, text, colour=None):
        pair = super().__new__(cls, (value, text))
        pair.colour = colour
        return pair

    def __str__(self) -> str:
        return str(self[1])

    def __html__(self) -> str:
        return render_to_string("unfold/helpers/label.html", {"text": self[1], "type": self.colour})


def label_display(*, label: dict, **kwargs):
    """unfold's `@display(label=...)` for a method answering (value, text): the method's
    answer becomes a `Label`, so the column is a badge in lists and on change pages."""

    def decorate(method):
        @functools.wraps(method)
        def column(self, obj):
            value, text = method(self, obj)
            try:
                colour = label[value]
            except KeyError:
                colour = None
            return Label(value, text, colour)

        return display(label=label, **kwargs)(column)

    return decorate


class _PostedChoicesMixin:
    """Django's autocomplete widget looks the posted value up to draw it again; a value the
    related key cannot be ("abc", "1.5", a number past 64 bits), posted by hand, made that
    lookup raise while the form was shown with its error (a 500). Such values are left out:
    the form says 请选择有效的选项 as for any wrong choice."""

    chosen = None  # a formset's _ChosenObjects for this column (SafeAutocompleteMixin)

    def optgroups(self, name, value, attr=None):
        key = _key_field(self.field)
        value = [v for v in value if _fits(key, v)]
        if self.chosen is None:
            return super().optgroups(name, value, attr)
        # Django's own, with the objects read once for every row of the formset.
        default = (None, [], 0)
        selected = {str(v) for v in value if str(v) not in self.choices.field.empty_values}
        if not self.is_required and not self.allow_multiple_selected:
            default[1].append(self.create_option(name, "", "", False, 0))
        has_selected = False
        for obj in self.chosen.objects(self, key, selected):
            option = getattr(obj, key.attname)
            is_selected = str(option) in value and (not has_selected or self.allow_multiple_selected)
            has_selected |= is_selected
            label = self.choices.field.label_from_instance(obj)
            default[1].append(self.create_option(name, option, label, selected, len(default[1])))
        return [default]


class _ChosenObjects:
    """What the rows of an inline formset have chosen in one autocomplete column, read in one
    query when the first row is drawn: each row's widget looked its own up, so a 限时折扣 of
    100 products took 100 queries to show."""

    def __init__(self, formset, name: str):
        self.formset, self.name, self.found = formset, name, None

    def objects(self, widget, key, wanted: set[str]) -> list:
        if self.found is None:
            values = set()
            for form in self.formset.forms:
                value = form[self.name].value()
                for v in value if isinstance(value, (list, tuple)) else [value]:
                    if v not in widget.choices.field.empty_values and _fits(key, v):
                        values.add(str(v))
            rows = widget.choices.queryset.using(widget.db).filter(**{f"{key.attname}__in": values})
            self.found = {str(getattr(obj, key.attname)): obj for obj in rows} if values else {}
        return [obj for value, obj in self.found.items() if value in wanted]


def _key_field(field):
    remote = field.remote_field
    return remote.model._meta.get_field(getattr(remote, "field_name", None) or remote.model._meta.pk.name)


def _fits(key, value) -> bool:
    try:
        parsed = key.to_python(value)
    except ValidationError:
        return False
    return not isinstance(parsed, int) or -(2**63) <= parsed < 2**63


class _SafeAutocompleteSelect(_PostedChoicesMixin, AutocompleteSelect):
    pass


class _SafeAutocompleteSelectMultiple(_PostedChoicesMixin, AutocompleteSelectMultiple):
    pass


class SafeAutocompleteMixin:
    """For a ModelAdmin or inline with `autocomplete_fields`: their widgets survive a
    hand-made value (see `_PostedChoicesMixin`). `fenxiao.core.checks` requires it."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        """An inline's rows draw their choices from one query per column (_ChosenObjects)."""
        formset = super().get_formset(request, obj, **kwargs)
        names = tuple(self.get_autocomplete_fields(request))

        class OneLookupPerColumn(formset):
            def _construct_form(self, i, **form_kwargs):
                form = super()._construct_form(i, **form_kwargs)
                columns = self.__dict__.setdefault("_chosen", {})
                for name in names:
                    widget = getattr(form.fields.get(name), "widget", None)
                    widget = getattr(widget, "widget", widget)  # inside the related-object wrapper
                    if isinstance(widget, _PostedChoicesMixin):
                        widget.chosen = columns.setdefault(name, _ChosenObjects(self, name))
                return form

        return OneLookupPerColumn if names else formset


class ChangedByServicesOnly:
    """For records that change only through actions calling services, each keeping its own
    record of who did what (订单日志, 协商记录, 账户流水 …): Django's history lists the saves of
    its form, so here it is always empty and its button is not offered."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "show_history": False}
        )


class _NoEditing:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ChangedByServicesOnly, _NoEditing, ModelAdmin):
    """Records, never edited as forms: changes happen through actions that call services."""

    show_full_result_count = False


class ReadOnlyInline(_NoEditing, TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    # A row's columns say what it is: its str() as a title line above it (订单商品 "… ×1",
    # a payment's number, an order event's text) only said it twice.
    hide_title = True


class DetailActionsMixin:
    """For a ModelAdmin whose detail-page actions depend on the record's state.

    `detail_actions_for(obj)` names the actions (by method name) a record offers; a record
    that cannot be found offers none. `find_object` never raises on a malformed id, and
    `object_or_404` answers a missing record with a 404 saying `missing_message`.
    """

    missing_message = "记录不存在"

    def detail_actions_for(self, obj) -> set[str]:
        raise NotImplementedError

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        obj = self.find_object(request, object_id)
        if obj is None:
            return []
        allowed = self.detail_actions_for(obj)
        return [a for a in actions if getattr(a.method, "original_function_name", "") in allowed]

    def find_object(self, request, object_id):
        try:
            return self.get_object(request, object_id)
        except (ValueError, ValidationError):
            return None

    def object_or_404(self, request, object_id):
        obj = self.find_object(request, object_id)
        if obj is None:
            raise Http404(self.missing_message)
        return obj


# --- 任务中心: background jobs ---------------------------------------------------------------

# Imported here, at the end, so the building blocks above load without the models.
from django.contrib import admin, messages  # noqa: E402
from django.http import FileResponse, HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402
from unfold.decorators import action  # noqa: E402

from . import jobs  # noqa: E402
from .errors import DomainError  # noqa: E402
from .models import Job, JobStatus  # noqa: E402

JOB_BADGES = {
    JobStatus.DRAFT: "info",
    JobStatus.PENDING: "info",
    JobStatus.RUNNING: "warning",
    JobStatus.SUCCEEDED: "success",
    JobStatus.FAILED: "danger",
}


def job_progress_html(job: Job, request) -> str:
    """The job's progress block (core/job_progress.html), polling itself while unfinished.
    Also used by the pages that start jobs (the product import page)."""
    download = (
        reverse("admin:core_job_download", args=[job.pk])
        if job.result_name and jobs.may_see(request.user, job)
        else ""
    )
    return render_to_string(
        "core/job_progress.html",
        {
            "job": job,
            "badge": JOB_BADGES.get(job.status),
            "progress_url": reverse("admin:core_job_progress", args=[job.pk]),
            "download_url": download,
        },
        request=request,
    )


@admin.register(Job)
class JobAdmin(DetailActionsMixin, ReadOnlyAdmin):
    """Every staff member sees the jobs of the kinds they may run (their own and their
    colleagues'), with progress; files are downloaded through `download_view` only."""

    missing_message = "任务不存在"
    list_display = (
        "title",
        "kind_display",
        "status_display",
        "progress_display",
        "creator",
        "created_at",
        "download",
    )
    list_filter = ("status",)
    search_fields = ("title",)
    search_help_text = gettext_lazy("按任务名称搜索")
    empty_hint = gettext_lazy("导出、导入和批量修改等较大的操作在这里排队执行，完成后在这里下载结果文件")
    list_select_related = ("created_by",)
    list_per_page = 50
    fields = ("title", "kind_display", "creator", "created_at", "started_at", "finished_at")
    change_form_template = "admin/core/job/change_form.html"
    readonly_fields = fields
    actions_detail = ("retry_job",)

    def get_queryset(self, request):
        # A draft is an upload still waiting on its own page for confirmation.
        return (
            super()
            .get_queryset(request)
            .filter(kind__in=jobs.visible_kinds(request.user))
            .exclude(status=JobStatus.DRAFT)
        )

    def has_module_permission(self, request):
        return jobs.may_open_job_center(request.user)

    def has_view_permission(self, request, obj=None):
        if obj is not None:
            return jobs.may_see(request.user, obj)
        return jobs.may_open_job_center(request.user)

    def detail_actions_for(self, obj) -> set[str]:
        return {"retry_job"} if obj.status == JobStatus.FAILED and not obj.errors else set()

    @display(description=gettext_lazy("类型"))
    def kind_display(self, obj):
        return jobs.kind_label(obj.kind)

    @display(description=gettext_lazy("状态"))
    def status_display(self, obj):
        return render_to_string(
            "unfold/helpers/label.html",
            {"text": obj.get_status_display(), "type": JOB_BADGES.get(obj.status)},
        )

    @display(description=gettext_lazy("进度"))
    def progress_display(self, obj):
        return format_html(
            '<div class="flex items-center gap-2"><div class="h-2 w-24 rounded-default bg-base-200 '
            'dark:bg-base-700"><div class="h-2 rounded-default bg-primary-600" style="width: {}%"></div>'
            "</div><span>{}%</span></div>",
            obj.percent,
            obj.percent,
        )

    @display(description=gettext_lazy("创建人"))
    def creator(self, obj):
        return user_text(obj.created_by)

    @display(description=gettext_lazy("结果文件"))
    def download(self, obj):
        if not obj.result_name:
            return "-"
        return format_html(
            '<a class="text-primary-600" href="{}">{}</a>',
            reverse("admin:core_job_download", args=[obj.pk]),
            _("下载"),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.find_object(request, object_id)
        if job is not None and jobs.may_see(request.user, job):
            extra_context = {
                **(extra_context or {}),
                "job_progress": job_progress_html(job, request),  # a SafeString from the template
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="core_job_progress",
            ),
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="core_job_download",
            ),
        ] + super().get_urls()

    def _visible_job(self, request, object_id) -> Job:
        job = self.object_or_404(request, object_id)  # get_queryset already limits the kinds
        if not jobs.may_see(request.user, job):
            raise Http404(self.missing_message)
        return job

    def progress_view(self, request, object_id):
        return HttpResponse(job_progress_html(self._visible_job(request, object_id), request))

    def download_view(self, request, object_id):
        job = self._visible_job(request, object_id)
        if not job.result_name:
            raise Http404("结果文件不存在")
        try:
            handle = jobs.open_file(job.result_name)
        except OSError as exc:
            raise Http404("结果文件不存在") from exc
        response = FileResponse(handle, as_attachment=True, filename=job.result_filename or "result")
        # Files may hold personal data: never kept by a shared cache.
        response["Cache-Control"] = "private, no-store"
        return response

    @action(description=gettext_lazy("重新执行"), url_path="retry", icon="replay")
    def retry_job(self, request, object_id):
        from .admin_forms import confirm_action

        job = self._visible_job(request, object_id)

        def act():
            try:
                jobs.retry(job, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("任务已重新排队"))

        return confirm_action(
            self,
            request,
            job,
            act,
            title=_("重新执行：%(title)s") % {"title": job.title},
            submit_label=_("重新执行"),
            summary=[(_("任务"), job.title), (_("上次失败原因"), job.message or "-")],
        )


def name_what_is_protected() -> None:
    """Every backend delete page names the records that keep an object (受保护的相关对象).

    Django counts a protected record whose own page allows no deleting (a push, a log) as a
    permission the user lacks, and its page then says 你的帐号无权删除下列类型的对象 — to
    the shop owner too — instead of naming what keeps the object. While anything is
    protected nothing is deleted whoever asks (the page and 删除所选 both refuse), so the
    permission question does not arise. Installed once, at startup (CoreConfig.ready)."""
    from django.contrib.admin.options import ModelAdmin as DjangoModelAdmin

    original = DjangoModelAdmin.get_deleted_objects

    @functools.wraps(original)
    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = original(self, objs, request)
        return deleted, counts, (set() if protected else perms_needed), protected

    DjangoModelAdmin.get_deleted_objects = get_deleted_objects
