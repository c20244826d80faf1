"""分销商 list's bulk actions: review the queue, and suspend, reactivate or set the grade of
many distributors at once (a fraud ring, a promotion of a whole team). Each distributor goes
through the same service as on their own page; refusals are listed by distributor."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action

from ..models import DistributorStatus
from ..services import distributors
from .common import OptionalReasonForm, ReasonForm, bulk_step, row_distributor_text, run_each
from .distributor_forms import GradeForm


class DistributorBulkActions:
    def _bulk(self, request, queryset, form_class, call, *, title, submit_label, done, danger=False):
        queryset = queryset.select_related("user")
        data, page = bulk_step(
            self,
            request,
            queryset,
            form_class,
            title=title,
            submit_label=submit_label,
            danger=danger,
            describe=row_distributor_text,
        )
        if page is not None:
            return page
        run_each(request, queryset, lambda d: call(d, data), describe=row_distributor_text, done=done)
        return None

    @action(description=gettext_lazy("通过所选申请"), permissions=["review"])
    def approve_selected(self, request, queryset):
        run_each(
            request,
            queryset.select_related("user"),
            lambda d: distributors.approve(d, request.user),
            describe=row_distributor_text,
            done=_("已通过"),
        )

    @action(description=gettext_lazy("拒绝所选申请"), permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            ReasonForm,
            lambda d, data: distributors.reject(d, request.user, reason=data["reason"]),
            title=_("拒绝分销商申请"),
            submit_label=_("确认拒绝"),
            done=_("已拒绝"),
            danger=True,
        )

    @action(description=gettext_lazy("暂停所选分销商"), permissions=["manage"])
    def suspend_selected(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            ReasonForm,
            lambda d, data: distributors.set_status(
                d, request.user, DistributorStatus.SUSPENDED, reason=data["reason"]
            ),
            title=_("暂停分销资格"),
            submit_label=_("确认暂停"),
            done=_("已暂停"),
            danger=True,
        )

    @action(description=gettext_lazy("恢复所选分销商"), permissions=["manage"])
    def reactivate_selected(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            OptionalReasonForm,
            lambda d, data: distributors.reactivate(d, request.user, reason=data["reason"]),
            title=_("恢复分销资格"),
            submit_label=_("确认恢复"),
            done=_("已恢复为正常状态"),
        )

    @action(description=gettext_lazy("设置所选分销商的等级"), permissions=["manage"])
    def grade_selected(self, request, queryset):
        return self._bulk(
            request,
            queryset,
            GradeForm,
            lambda d, data: distributors.set_grade(d, data["grade"], request.user),
            title=_("设置等级"),
            submit_label=_("保存等级"),
            done=_("等级已更新"),
        )
