"""客户标签: the four automatic tags (thresholds edited here, applied at the next
recompute or by "立即重新计算") and the manual tags staff create and apply from the
customer list."""

from django import forms
from django.contrib import admin, messages
from django.db.models import BooleanField, Count, Value
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from fenxiao.core.admin_forms import ConfirmForm, money_formfield
from fenxiao.core.money import format_fen
from fenxiao.distribution.admin.common import form_page

from ..models import Tag, TagRule
from ..services import segments
from ..services.tags import rule_problem

MAX_DAYS = 3650


class TagForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ("name", "days", "min_orders", "min_spend", "description")
        error_messages = {
            "name": {"unique": gettext_lazy("已有同名标签"), "required": gettext_lazy("请填写标签名")}
        }

    def clean_days(self):
        days = self.cleaned_data.get("days")
        if days is not None and not 1 <= days <= MAX_DAYS:
            raise forms.ValidationError(_("天数应在 1 到 %(max)s 之间") % {"max": MAX_DAYS})
        return days

    def clean_min_orders(self):
        value = self.cleaned_data.get("min_orders")
        if value is not None and not 1 <= value <= 100_000:
            raise forms.ValidationError(_("付款订单数应在 1 到 100000 之间"))
        return value

    def clean(self):
        data = super().clean()
        rule = self.instance.rule
        if rule:
            problem = rule_problem(rule, data.get("days"), data.get("min_orders"), data.get("min_spend"))
            if problem:
                raise forms.ValidationError(problem)
        return data


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    form = TagForm
    list_display = ("name", "kind_display", "threshold_display", "member_count", "computed_at", "description")
    ordering = ("rule", "name")
    actions_list = ("recompute_now",)

    def get_queryset(self, request):
        # Whether the count may open the customer list travels with the rows: the admin
        # object is shared by every request.
        may_list = request.user.has_perm("customers.view_customer")
        return (
            super()
            .get_queryset(request)
            .annotate(members=Count("assignments"), may_list=Value(may_list, output_field=BooleanField()))
        )

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "min_spend":
            return money_formfield(db_field, label=_("消费金额 ≥（元）"))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is not None and obj.rule:
            wanted = {
                TagRule.NEW: ("days",),
                TagRule.RETURNING: ("min_orders",),
                TagRule.HIGH_SPEND: ("min_spend", "days"),
                TagRule.DORMANT: ("days",),
            }[obj.rule]
            return ("name", "rule_display", *wanted, "description", "computed_at")
        return ("name", "description")

    def get_readonly_fields(self, request, obj=None):
        return ("rule_display", "computed_at")

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = [
            f for f in self.get_fields(request, obj) if f not in ("rule_display", "computed_at")
        ]
        return super().get_form(request, obj, change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # The automatic tags always exist; only their thresholds change.
        if obj is not None and obj.rule:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        # A tag a 客户分群 filters by is kept, as a record something still needs is: deleting
        # it would silently change who the segment holds (with 全部包含, nobody).
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for segment in segments.using_tags([tag.pk for tag in objs]):
            protected.append(_("客户分群：%(name)s") % {"name": segment.name})
        return deleted, counts, perms_needed, protected

    def has_run_permission(self, request):
        return request.user.has_perm("customers.change_tag")

    @display(description=gettext_lazy("类型"))
    def kind_display(self, obj):
        return _("自动") if obj.rule else _("手动")

    @display(description=gettext_lazy("规则"))
    def rule_display(self, obj):
        return obj.get_rule_display() if obj.rule else _("手动标签")

    @display(description=gettext_lazy("规则与阈值"))
    def threshold_display(self, obj):
        if obj.rule == TagRule.NEW:
            return _("没有付款订单，或首单在 %(days)s 天内") % {"days": obj.days}
        if obj.rule == TagRule.RETURNING:
            return _("付款订单数 ≥ %(orders)s") % {"orders": obj.min_orders}
        if obj.rule == TagRule.HIGH_SPEND:
            spend = format_fen(obj.min_spend or 0)
            if obj.days:
                return _("%(days)s 天内消费 ≥ %(spend)s") % {"days": obj.days, "spend": spend}
            return _("累计消费 ≥ %(spend)s") % {"spend": spend}
        if obj.rule == TagRule.DORMANT:
            return _("曾付款，且 %(days)s 天没有付款订单") % {"days": obj.days}
        return _("由员工在客户列表中添加")

    @display(description=gettext_lazy("客户数"), ordering="members")
    def member_count(self, obj):
        if not obj.members or not getattr(obj, "may_list", False):
            return obj.members
        url = f"{reverse('admin:customers_customer_changelist')}?tag={obj.pk}"
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, obj.members)

    @action(
        description=gettext_lazy("立即重新计算"), url_path="recompute", icon="refresh", permissions=["run"]
    )
    def recompute_now(self, request):
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from ..tasks import recompute_tags_now

            recompute_tags_now()
            messages.success(request, _("已开始重新计算客户统计与自动标签，稍后刷新即可看到结果"))
            return HttpResponseRedirect(reverse("admin:customers_tag_changelist"))
        return form_page(
            self,
            request,
            title=_("立即重新计算自动标签"),
            form=form,
            submit_label=_("立即重新计算"),
            summary=[
                (
                    _("说明"),
                    _("按当前阈值重新计算所有客户的自动标签（每天凌晨也会自动计算一次），手动标签不受影响"),
                )
            ],
        )
