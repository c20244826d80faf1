"""分销商: list with live figures, review queue, status / grade / parent changes and designation
(forms in `distributor_forms`); each distributor's account page is in `ledger`."""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.views import ChangeList

from fenxiao.core.admin import ChangedByServicesOnly, DetailActionsMixin, label_display
from fenxiao.core.admin_exports import ExportMixin
from fenxiao.core.admin_forms import LocalDateRangeFilter
from fenxiao.core.money import format_fen

from ..models import (
    Commission,
    CustomerBinding,
    Distributor,
    DistributorStatus,
    Withdrawal,
)
from ..services import agreement, dashboard, distributors, totals
from ..services.exports import DISTRIBUTORS
from .common import (
    ConfirmForm,
    OptionalReasonForm,
    ParentFilter,
    ReasonForm,
    badge,
    change_url,
    changelist_url,
    distributor_text,
    form_page,
    full_phones,
    labels,
    link_to,
    local_time,
    may_see_phones,
    object_form_action,
    run,
    user_text,
    with_phone_flag,
)
from .distributor_bulk import DistributorBulkActions
from .distributor_forms import BanForm, DesignateForm, GradeForm, ParentForm
from .ledger import ledger_page

DISTRIBUTOR_LABELS = {
    DistributorStatus.PENDING: "warning",
    DistributorStatus.ACTIVE: "success",
    DistributorStatus.REJECTED: "default",
    DistributorStatus.SUSPENDED: "info",
    DistributorStatus.BANNED: "danger",
}


class AgreementFilter(admin.SimpleListFilter):
    """协议: who has agreed to the 分销商协议 in force, and who has not (yet)."""

    title = gettext_lazy("协议")
    parameter_name = "agreement"

    def lookups(self, request, model_admin):
        return (("current", _("已同意当前版本")), ("not", _("未同意")))

    def queryset(self, request, queryset):
        if self.value() not in ("current", "not"):
            return queryset
        terms = agreement.current()
        if terms is None:  # no terms in force: nobody has agreed to them
            return queryset.none() if self.value() == "current" else queryset
        if self.value() == "current":
            return queryset.filter(agreement=terms)
        return queryset.exclude(agreement=terms)


class FiguresChangeList(ChangeList):
    """Attaches dashboard figures to the page's distributors in a fixed number of queries."""

    def get_results(self, request):
        super().get_results(request)
        figures = dashboard.figures_for_page([d.pk for d in self.result_list])
        for distributor in self.result_list:
            distributor.figures = figures.get(distributor.pk, {})


@admin.register(Distributor)
class DistributorAdmin(
    DistributorBulkActions, ExportMixin, ChangedByServicesOnly, DetailActionsMixin, ModelAdmin
):
    missing_message = gettext_lazy("分销商不存在")
    export = DISTRIBUTORS
    list_display = (
        "user_display",
        "status_label",
        "grade",
        "parent_display",
        "referral_code",
        "bound_buyers",
        "team_display",
        "sales_display",
        "estimated_display",
        "available_display",
        "withdrawn_display",
        "created_at",
    )
    list_filter = (
        "status",
        "grade",
        "source",
        AgreementFilter,
        ParentFilter,
        ("created_at", LocalDateRangeFilter),
    )
    list_filter_submit = True
    search_fields = ("user__phone", "=referral_code", "real_name", "user__nickname")
    search_help_text = gettext_lazy("按手机号、完整推广码、真实姓名或昵称搜索")
    list_select_related = ("user", "grade", "parent__user")
    show_full_result_count = False
    list_per_page = 50
    actions = (
        "approve_selected",
        "reject_selected",
        "suspend_selected",
        "reactivate_selected",
        "grade_selected",
    )
    actions_list = ("review_queue", "designate")
    actions_detail = (
        "approve",
        "reject",
        "suspend",
        "ban",
        "reactivate",
        "change_grade",
        "change_parent",
        "ledger",
    )
    fieldsets = (
        (
            gettext_lazy("分销商"),
            {
                "fields": (
                    "user_display",
                    "status_badge",
                    "grade",
                    "parent_display",
                    "referral_code",
                    "source",
                    "real_name",
                    "apply_note",
                    "reject_reason",
                    "status_reason_display",
                    "reviewed_by_display",
                    "created_at",
                    "activated_at",
                    "agreement_display",
                )
            },
        ),
        (gettext_lazy("实时数据"), {"fields": ("figures_table", "related_links")}),
    )
    readonly_fields = (
        "user_display",
        "status_badge",
        "grade",
        "parent_display",
        "referral_code",
        "source",
        "real_name",
        "apply_note",
        "reject_reason",
        "status_reason_display",
        "reviewed_by_display",
        "created_at",
        "activated_at",
        "agreement_display",
        "figures_table",
        "related_links",
    )

    # Distributors change only through the actions (services), never by saving a form.
    # A named permission, not "distribution.add_distributor" in @action: unfold checks dotted
    # names against the database at start-up, before migrations have run.
    def has_designate_permission(self, request, obj=None):
        return request.user.has_perm("distribution.add_distributor")

    def has_manage_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_distributor")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request, obj=None):
        return request.user.has_perm("distribution.change_distributor")

    def add_view(self, request, form_url="", extra_context=None):
        """Adding a distributor is designating a user (指定分销)."""
        return HttpResponseRedirect(reverse("admin:distribution_distributor_designate"))

    def get_changelist(self, request, **kwargs):
        return FiguresChangeList

    def get_queryset(self, request):
        queryset = (
            super().get_queryset(request).select_related("user", "grade", "parent__user", "reviewed_by")
        )
        return with_phone_flag(queryset, request)

    # --- columns ---

    def _figure(self, obj, key):
        figures = getattr(obj, "figures", None)
        if figures is None:
            figures = obj.figures = dashboard.figures(obj)
        return figures.get(key, 0)

    @display(description=gettext_lazy("用户"), ordering="user__phone")
    def user_display(self, obj):
        return user_text(obj.user, full_phones(obj))

    @label_display(description=gettext_lazy("状态"), ordering="status", label=labels(DISTRIBUTOR_LABELS))
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), DISTRIBUTOR_LABELS.get(obj.status))

    @display(description=gettext_lazy("状态说明"))
    def status_reason_display(self, obj):
        return obj.status_reason_text or "-"

    @display(description=gettext_lazy("上级"))
    def parent_display(self, obj):
        return distributor_text(obj.parent, full_phones(obj)) if obj.parent_id else "-"

    @display(description=gettext_lazy("绑定客户"))
    def bound_buyers(self, obj):
        return self._figure(obj, "bound_buyers")

    @display(description=gettext_lazy("团队（直属/间接）"))
    def team_display(self, obj):
        return f"{self._figure(obj, 'team_direct')} / {self._figure(obj, 'team_indirect')}"

    @display(description=gettext_lazy("推广销售额"))
    def sales_display(self, obj):
        return format_fen(self._figure(obj, "sales"))

    @display(description=gettext_lazy("预估佣金"))
    def estimated_display(self, obj):
        return format_fen(self._figure(obj, "commission_estimated"))

    @display(description=gettext_lazy("可提现"))
    def available_display(self, obj):
        return format_fen(self._figure(obj, "commission_available"))

    @display(description=gettext_lazy("已提现"))
    def withdrawn_display(self, obj):
        return format_fen(self._figure(obj, "commission_withdrawn"))

    @display(description=gettext_lazy("审核人"))
    def reviewed_by_display(self, obj):
        return user_text(obj.reviewed_by, full_phones(obj)) if obj.reviewed_by_id else "-"

    @display(description=gettext_lazy("分销商协议"))
    def agreement_display(self, obj):
        terms = agreement.current()
        if not obj.agreement_id:
            return _("未同意") if terms else "-"
        agreed = _("已同意第 %(version)s 版 · %(time)s") % {
            "version": obj.agreement.version,
            "time": local_time(obj.agreed_at),
        }
        if terms is not None and terms.pk != obj.agreement_id:
            agreed += _("（当前为第 %(version)s 版，尚未同意）") % {"version": terms.version}
        return agreed

    @display(description=gettext_lazy("数据"))
    def figures_table(self, obj):
        f = dashboard.figures(obj)
        rows = [
            (_("绑定客户"), f["bound_buyers"]),
            (_("团队（直属 / 间接）"), f"{f['team_direct']} / {f['team_indirect']}"),
            (_("推广订单"), f["orders"]),
            (_("推广销售额（扣除退款）"), format_fen(f["sales"])),
            (
                _("预估佣金（待结算 + 冻结中）"),
                _("%(estimated)s（%(pending)s + %(frozen)s）")
                % {
                    "estimated": format_fen(f["commission_estimated"]),
                    "pending": format_fen(f["commission_pending"]),
                    "frozen": format_fen(f["commission_frozen"]),
                },
            ),
            (_("可提现余额"), format_fen(f["commission_available"])),
            (_("已提现"), format_fen(f["commission_withdrawn"])),
            (_("累计佣金"), format_fen(f["commission_total"])),
        ]
        return format_html_join("", _("<div>{}：<b>{}</b></div>"), rows)

    @display(description=gettext_lazy("明细"))
    def related_links(self, obj):
        code = obj.referral_code
        return format_html(
            "{} · {} · {} · {} · {}",
            link_to(reverse("admin:distribution_distributor_ledger", args=[obj.pk]), _("账户流水")),
            link_to(changelist_url(Commission, distributor=code), _("佣金记录")),
            link_to(changelist_url(Withdrawal, distributor=code), _("提现记录")),
            link_to(changelist_url(CustomerBinding, distributor=code), _("绑定客户")),
            link_to(changelist_url(Distributor, parent=code), _("直属团队")),
        )

    # --- list actions ---

    @action(
        description=gettext_lazy("审核队列"), url_path="review-queue", icon="how_to_reg", permissions=["view"]
    )
    def review_queue(self, request):
        return HttpResponseRedirect(changelist_url(Distributor, status__exact=DistributorStatus.PENDING))

    @action(
        description=gettext_lazy("指定分销商"),
        url_path="designate",
        icon="person_add",
        permissions=["designate"],
    )
    def designate(self, request):
        form = DesignateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            distributor, ok = run(
                request,
                lambda: distributors.designate(
                    data["user"], request.user, parent=data["parent"], grade=data["grade"]
                ),
                form,
            )
            if ok:
                messages.success(
                    request,
                    _("%(user)s 已是分销商，推广码 %(code)s")
                    % {
                        "user": user_text(distributor.user, may_see_phones(request)),
                        "code": distributor.referral_code,
                    },
                )
                return HttpResponseRedirect(change_url(distributor))
        return form_page(
            self,
            request,
            title=_("指定分销商"),
            form=form,
            submit_label=_("设为分销商"),
            summary=[(_("说明"), _("被指定的用户直接成为正常状态的分销商；已申请或被拒绝的用户会直接通过"))],
        )

    # --- detail actions ---

    ACTIONS_BY_STATUS = {
        DistributorStatus.PENDING: {"approve", "reject"},
        DistributorStatus.REJECTED: {"approve"},
        DistributorStatus.ACTIVE: {"suspend", "ban"},
        DistributorStatus.SUSPENDED: {"reactivate", "ban"},
        DistributorStatus.BANNED: set(),
    }
    ALWAYS = {"change_grade", "change_parent", "ledger"}

    def detail_actions_for(self, distributor):
        return self.ACTIONS_BY_STATUS.get(distributor.status, set()) | self.ALWAYS

    def _summary(self, d: Distributor):
        full = full_phones(d)
        return [
            (_("分销商"), user_text(d.user, full)),
            (_("推广码"), d.referral_code),
            (_("状态"), d.get_status_display()),
            (_("等级"), d.grade.name if d.grade else "-"),
            (_("上级"), distributor_text(d.parent, full) if d.parent_id else "-"),
            (_("真实姓名"), d.real_name or "-"),
            (_("申请说明"), d.apply_note or "-"),
        ]

    def _form_action(
        self,
        request,
        object_id,
        form_class,
        call,
        *,
        title,
        submit_label,
        success,
        danger=False,
        label=None,
        initial=None,
        more=None,
    ):
        obj = self.object_or_404(request, object_id)
        return object_form_action(
            self,
            request,
            obj,
            form_class,
            call,
            title=_("%(title)s：%(user)s") % {"title": title, "user": user_text(obj.user, full_phones(obj))},
            submit_label=submit_label,
            success=success,
            summary=self._summary(obj) + (more(obj) if more else []),
            danger=danger,
            label=label,
            initial=initial,
        )

    @action(
        description=gettext_lazy("通过申请"), url_path="approve", icon="check_circle", permissions=["manage"]
    )
    def approve(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ConfirmForm,
            lambda d, data: distributors.approve(d, request.user),
            title=_("通过分销商申请"),
            submit_label=_("确认通过"),
            success=_("已通过，该用户成为分销商"),
        )

    @action(description=gettext_lazy("拒绝申请"), url_path="reject", icon="block", permissions=["manage"])
    def reject(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReasonForm,
            lambda d, data: distributors.reject(d, request.user, reason=data["reason"]),
            title=_("拒绝分销商申请"),
            submit_label=_("确认拒绝"),
            success=_("已拒绝该申请"),
            danger=True,
            label=_("拒绝原因"),
        )

    @action(description=gettext_lazy("暂停"), url_path="suspend", icon="pause_circle", permissions=["manage"])
    def suspend(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            ReasonForm,
            lambda d, data: distributors.set_status(
                d, request.user, DistributorStatus.SUSPENDED, reason=data["reason"]
            ),
            title=_("暂停分销资格"),
            submit_label=_("确认暂停"),
            danger=True,
            label=_("暂停原因"),
            success=_("已暂停：暂停期间不产生佣金、不能提现"),
        )

    @action(description=gettext_lazy("封禁"), url_path="ban", icon="gpp_bad", permissions=["manage"])
    def ban(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            BanForm,
            lambda d, data: distributors.ban(
                d, request.user, decision=data["decision"], reason=data["reason"]
            ),
            title=_("封禁分销商"),
            submit_label=_("确认封禁"),
            danger=True,
            label=_("封禁原因"),
            success=_("已封禁该分销商"),
            more=self._money,
        )

    @staticmethod
    def _money(d: Distributor):
        """What a ban decides about: the held commission and the balance, as they stand."""
        figures = totals.stored([d.pk])[d.pk]
        return [
            (_("待结算和冻结中的佣金"), format_fen(figures["pending"] + figures["frozen"])),
            (_("可提现余额"), format_fen(figures["balance"])),
        ]

    @action(
        description=gettext_lazy("恢复"), url_path="reactivate", icon="play_circle", permissions=["manage"]
    )
    def reactivate(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            OptionalReasonForm,
            lambda d, data: distributors.reactivate(d, request.user, reason=data["reason"]),
            title=_("恢复分销资格"),
            submit_label=_("确认恢复"),
            success=_("已恢复为正常状态"),
        )

    @action(
        description=gettext_lazy("设置等级"), url_path="grade", icon="military_tech", permissions=["manage"]
    )
    def change_grade(self, request, object_id):
        distributor = self.object_or_404(request, object_id)
        return self._form_action(
            request,
            object_id,
            GradeForm,
            lambda d, data: distributors.set_grade(d, data["grade"], request.user),
            title=_("设置等级"),
            submit_label=_("保存等级"),
            success=_("等级已更新"),
            initial={"grade": distributor.grade_id},
        )

    @action(
        description=gettext_lazy("调整上级"), url_path="parent", icon="account_tree", permissions=["manage"]
    )
    def change_parent(self, request, object_id):
        distributor = self.object_or_404(request, object_id)
        return self._form_action(
            request,
            object_id,
            ParentForm,
            lambda d, data: distributors.set_parent(d, data["parent"], request.user),
            title=_("调整上级"),
            submit_label=_("保存上级"),
            success=_("上级已更新"),
            initial={"parent": distributor.parent.referral_code if distributor.parent_id else ""},
        )

    @action(
        description=gettext_lazy("账户流水"),
        url_path="ledger",
        icon="account_balance_wallet",
        permissions=["view"],
    )
    def ledger(self, request, object_id):
        return ledger_page(self, request, self.object_or_404(request, object_id))
