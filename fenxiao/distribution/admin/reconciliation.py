"""每日对账: one row per day with the day's money movements and every check's result; the
merchant can reconcile again at any time (立即对账)."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import ReadOnlyAdmin, label_display
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.money import format_fen

from ..models import Reconciliation
from ..services import reconciliation
from ..services.exports import RECONCILIATIONS
from .common import ConfirmForm, badge, changelist_url, form_page, labels, local_time, user_text

RESULT_LABELS = {"ok": "success", "problems": "danger"}


def _record_url(model_label: str, pk: int) -> str:
    app_label, model = model_label.split(".")
    return reverse(f"admin:{app_label}_{model}_change", args=[pk])


@admin.register(Reconciliation)
class ReconciliationAdmin(ExportMixin, ReadOnlyAdmin):
    # Finance files the month's days: the list as filtered, CSV or Excel.
    export = RECONCILIATIONS
    list_display = (
        "day",
        "result_label",
        "problem_count",
        "settled_display",
        "paid_out_display",
        "balance_display",
        "ran_at",
        "ran_by_display",
    )
    list_filter = ("ok",)
    list_select_related = ("ran_by",)
    date_hierarchy = "day"
    actions_list = ("reconcile_now",)
    fields = (
        "day",
        "result_badge",
        "figures_table",
        "checks_table",
        "ran_at",
        "ran_by_display",
        "duration_ms",
    )
    readonly_fields = fields

    # unfold checks dotted permission names against the database at start-up; a named one does not.
    def has_run_permission(self, request, obj=None):
        return request.user.has_perm("distribution.add_reconciliation")

    @label_display(description=gettext_lazy("结果"), ordering="ok", label=labels(RESULT_LABELS))
    def result_label(self, obj):
        return (
            ("ok", _("全部一致"))
            if obj.ok
            else ("problems", _("%(count)s 项不一致") % {"count": obj.problem_count})
        )

    @display(description=gettext_lazy("结果"))
    def result_badge(self, obj):
        if obj.ok:
            return badge(_("全部一致"), "success")
        return badge(_("%(count)s 项不一致") % {"count": obj.problem_count}, "danger")

    @display(description=gettext_lazy("当日结算入账"))
    def settled_display(self, obj):
        return format_fen(obj.figures.get("commission_settled", 0))

    @display(description=gettext_lazy("当日提现打款"))
    def paid_out_display(self, obj):
        return format_fen(obj.figures.get("withdrawal_paid", 0))

    @display(description=gettext_lazy("余额合计（日终）"))
    def balance_display(self, obj):
        return format_fen(obj.figures.get("balance_total", 0))

    @display(description=gettext_lazy("发起人"))
    def ran_by_display(self, obj):
        return user_text(obj.ran_by) if obj.ran_by_id else _("系统（每日自动）")

    @display(description=gettext_lazy("当日资金流水"))
    def figures_table(self, obj):
        return format_html(
            '<table class="text-sm">{}</table>',
            format_html_join(
                "",
                '<tr><td class="pr-6 py-1 text-font-subtle-light">{}</td><td class="text-right">{}</td></tr>',
                (
                    (label, format_fen(obj.figures.get(key, 0)) if money else obj.figures.get(key, 0))
                    for key, label, money in reconciliation.FIGURES
                ),
            ),
        )

    @display(description=gettext_lazy("核对项"))
    def checks_table(self, obj):
        blocks = []
        for check in obj.checks:
            head = format_html(
                "<div class='font-semibold'>{} {}</div><div class='text-font-subtle-light'>{}</div>",
                badge(
                    _("一致")
                    if check["ok"]
                    else _("%(count)s 项不一致") % {"count": len(check["problems"]) + check["more"]},
                    "success" if check["ok"] else "danger",
                ),
                _(check["title"]),  # stored as the catalog's Chinese text
                _("核对 %(count)s 条") % {"count": check["checked"]},
            )
            rows = format_html_join(
                "",
                '<li><a class="text-primary-600" href="{}">{}</a></li>',
                (
                    (_record_url(p["model"], p["pk"]), reconciliation.problem_text(p))
                    for p in check["problems"]
                ),
            )
            more = (
                format_html("<li>{}</li>", _("另有 %(count)s 项未列出") % {"count": check["more"]})
                if check["more"]
                else ""
            )
            blocks.append(
                format_html(
                    "<div class='mb-4'>{}<ul class='list-disc ml-6'>{}{}</ul></div>", head, rows, more
                )
            )
        return format_html_join("", "{}", ((b,) for b in blocks))

    @action(
        description=gettext_lazy("立即对账"), url_path="reconcile-now", icon="fact_check", permissions=["run"]
    )
    def reconcile_now(self, request):
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from ..tasks import reconcile_now

            reconcile_now(request.user.pk)
            messages.success(request, _("对账已开始，核对全部历史需要一些时间，完成后刷新本页查看结果"))
            return HttpResponseRedirect(changelist_url(Reconciliation))
        last = Reconciliation.objects.order_by("-ran_at").first()
        return form_page(
            self,
            request,
            title=_("立即对账"),
            form=form,
            submit_label=_("开始对账"),
            summary=[
                (_("核对内容"), _("订单与佣金、佣金与账户流水、流水与分销商余额、提现与流水及打款")),
                (_("自动对账"), _("每天 05:10 自动核对，结果记为前一天；每次对账都单独保留，不覆盖以往结果")),
                (_("上次对账"), local_time(last.ran_at) if last else _("尚未对账")),
            ],
        )
