"""定向推送: write a push (segment, product or coupon, with the live recipient count), start
it, watch its progress (the panel polls while sending), cancel it, and read its report.
Every change goes through `services.push`."""

import copy

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextareaWidget

from fenxiao.core.admin import DetailActionsMixin, SafeAutocompleteMixin, user_text
from fenxiao.core.admin_forms import confirm_action
from fenxiao.core.errors import DomainError
from fenxiao.core.money import format_bp, format_fen
from fenxiao.core.numbers import whole_number
from fenxiao.customers.models import Segment
from fenxiao.distribution.admin.common import ServiceSaveMixin
from fenxiao.notices.models import Channel

from ..models_push import Push, PushCarries, PushStatus
from ..services import push as service
from ..services.push_report import ORDER_WINDOW_DAYS, report
from .common import badge, local_time

STATUS_BADGES = {
    PushStatus.DRAFT: "",
    PushStatus.SENDING: "info",
    PushStatus.DONE: "success",
    PushStatus.CANCELLED: "danger",
}
CHANNELS_NOTE = gettext_lazy(
    "站内消息总会发送；勾选后，接收活动推送的客户还会收到短信。微信模板消息只能用于服务通知，不能发送营销推送。"
)
COUPON_NOTE = gettext_lazy(
    "选择优惠券时，发送过程中会把券直接发到每位接收人的券包（按券的发行量和每人限领发放，记入发券记录）；"
    "未能领到券的客户（已达限领或券已发完）不会收到这条消息。"
)

SMS_OFF = gettext_lazy("短信通道未开通，或没有“活动推送”的短信模板（见部署说明 NOTICE_TEMPLATES）")


class PushForm(forms.ModelForm):
    class Meta:
        model = Push
        fields = ("title", "body", "segment", "carries", "product", "coupon", "via_sms")
        # Unfold's textarea: a plain forms.Textarea here is rendered bare (no border), so
        # the 内容 box could not be seen on the page.
        widgets = {"body": UnfoldAdminTextareaWidget(attrs={"rows": 3})}
        help_texts = {
            "via_sms": gettext_lazy("按条计费；只发给接收活动推送的客户"),
            "carries": COUPON_NOTE,
            "product": gettext_lazy("只能推送已上架的商品"),
            "body": gettext_lazy("最多 300 字"),
        }

    def __init__(self, *args, preview_url: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        sms = self.fields.get("via_sms")
        # An SMS channel that is not set up is shown, greyed, with why: the merchant learns it
        # exists and what it takes. One already chosen stays changeable.
        if sms is not None and "sms" not in service.available_channels() and not self.initial.get("via_sms"):
            sms.disabled = True
            sms.help_text = SMS_OFF
        segment = self.fields.get("segment")  # absent once the push has started (read-only)
        if segment is not None and preview_url:
            # Choosing a segment shows how many customers it has now.
            # The admin wraps the select (add/change links); the inner widget renders it.
            # A new push opened with its segment preset (客户分群 → 定向推送) counts at once;
            # otherwise the count waited for a change the merchant had no reason to make.
            preset = self.instance.pk is None and self.initial.get("segment")
            getattr(segment.widget, "widget", segment.widget).attrs.update(
                {
                    "hx-get": preview_url,
                    "hx-trigger": "change, load" if preset else "change",
                    "hx-target": "#push-audience-preview",
                }
            )

    def _get_validation_exclusions(self):
        # "A product or a coupon, matching the choice" is refused by the service, in Chinese.
        return super()._get_validation_exclusions() | {"carries"}

    def _post_clean(self):
        super()._post_clean()
        if self.errors:
            return
        try:
            from django.db import transaction

            with transaction.atomic():
                service.save_draft(copy.copy(self.instance), None)
                transaction.set_rollback(True)
        except DomainError as exc:
            self.add_error(None, exc.message)


def progress_html(push: Push, url: str) -> str:
    """The progress bar; while sending it asks for itself again every 2 seconds."""
    poll = (
        format_html(' hx-get="{}" hx-trigger="every 2s" hx-swap="outerHTML"', url)
        if push.status == PushStatus.SENDING
        else ""
    )
    reason = (
        format_html("{}", _("（%(reason)s）") % {"reason": push.stop_reason_text})
        if push.status == PushStatus.CANCELLED and push.stop_reason
        else ""
    )
    return format_html(
        '<div id="push-progress" data-status="{}"{}>'
        '<div class="flex gap-2 items-center">{} <span data-progress>{}</span>{}</div>'
        '<div class="mt-2 h-2 w-64 rounded-default bg-base-200 dark:bg-base-700">'
        '<div class="h-2 rounded-default bg-primary-600" style="width: {}%"></div></div>'
        "</div>",
        push.status,
        poll,
        badge(push.get_status_display(), STATUS_BADGES.get(push.status)),
        _("已处理 %(processed)s / %(total)s 人（%(percent)s%%）")
        % {"processed": push.processed, "total": push.total, "percent": push.percent},
        reason,
        push.percent,
    )


@admin.register(Push)
class PushAdmin(SafeAutocompleteMixin, DetailActionsMixin, ServiceSaveMixin, ModelAdmin):
    form = PushForm
    missing_message = gettext_lazy("推送不存在")
    list_display = ("title", "segment", "carries_display", "status_badge", "progress_display", "created_at")
    list_filter = ("status", "carries")
    list_select_related = ("segment", "product", "coupon")
    search_fields = ("title",)
    search_help_text = gettext_lazy("按推送标题搜索")
    autocomplete_fields = ("product", "coupon")
    actions_detail = ("start_push", "cancel_push")
    change_form_template = "admin/promotions/push/change_form.html"
    EDITABLE = ("title", "body", "segment", "carries", "product", "coupon", "via_sms")

    def has_delete_permission(self, request, obj=None):
        return False  # a push leaves messages and coupons behind; cancel it instead

    def has_send_permission(self, request, obj=None):
        return request.user.has_perm("promotions.change_push")

    def detail_actions_for(self, obj) -> set[str]:
        if obj.status == PushStatus.DRAFT:
            return {"start_push", "cancel_push"}
        if obj.status == PushStatus.SENDING:
            return {"cancel_push"}
        return set()

    def get_changeform_initial_data(self, request):
        # A link may preset what a new push carries (?coupon=3); a value that is no id is
        # dropped, as the product and coupon pickers would look it up as one (a 500).
        initial = super().get_changeform_initial_data(request)
        for name in ("product", "coupon", "segment"):
            if name in initial and whole_number(initial[name]) is None:
                del initial[name]
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        url = reverse("admin:promotions_push_preview")
        # "最多 300 字" and the like speak to someone typing; on a read-only record (a push
        # started, or a reader without the right to change it) they only add noise.
        editable = obj is None or (
            obj.status == PushStatus.DRAFT and self.has_change_permission(request, obj)
        )
        shown_help = form._meta.help_texts if editable else {}

        class Form(form):
            class Meta(form.Meta):
                help_texts = shown_help

            def __init__(self, *args, **kw):
                super().__init__(*args, preview_url=url, **kw)

        return Form

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status == PushStatus.DRAFT:
            return ("audience_preview",)
        return (*self.EDITABLE, "progress_panel", "report_panel", "people_panel")

    def get_fieldsets(self, request, obj=None):
        if obj is None or obj.status == PushStatus.DRAFT:
            return (
                (_("推送内容"), {"fields": ("title", "body", "carries", "product", "coupon")}),
                (_("接收人"), {"fields": ("segment", "audience_preview")}),
                (_("发送渠道"), {"fields": ("via_sms",), "description": CHANNELS_NOTE}),
            )
        return (
            (_("发送进度"), {"fields": ("progress_panel", "people_panel")}),
            (_("推送效果"), {"fields": ("report_panel",)}),
            (_("推送内容"), {"fields": self.EDITABLE}),
        )

    def save_model(self, request, obj, form, change):
        self._save_via(request, lambda: service.save_draft(obj, request.user))

    # --- columns and panels ---

    @display(description=gettext_lazy("推送内容"))
    def carries_display(self, obj):
        if obj.carries == PushCarries.PRODUCT:
            return _("商品：%(product)s") % {"product": obj.product}
        return _("优惠券：%(coupon)s") % {"coupon": obj.coupon}

    @display(description=gettext_lazy("状态"))
    def status_badge(self, obj):
        return badge(obj.get_status_display(), STATUS_BADGES.get(obj.status))

    @display(description=gettext_lazy("进度"))
    def progress_display(self, obj):
        return f"{obj.processed} / {obj.total}" if obj.status != PushStatus.DRAFT else "-"

    @display(description=gettext_lazy("预计接收人数"))
    def audience_preview(self, obj):
        count = service.preview_count(obj.segment) if obj and obj.segment_id else None
        text = _("当前 %(count)s 位客户") % {"count": count} if count is not None else _("选择客户分群后显示")
        return format_html(
            '<span id="push-audience-preview">{}</span><p class="text-xs text-base-500 mt-1">{}</p>',
            text,
            _("开始发送时按分群当时的客户确定接收人，之后新进入分群的客户不会收到"),
        )

    @display(description=gettext_lazy("进度"))
    def progress_panel(self, obj):
        return progress_html(obj, reverse("admin:promotions_push_progress", args=[obj.pk]))

    @display(description=gettext_lazy("发送记录"))
    def people_panel(self, obj):
        return format_html(
            _("创建：{} {} · 发送：{} {} · 完成：{}"),
            user_text(obj.created_by) if obj.created_by_id else "-",
            local_time(obj.created_at),
            user_text(obj.sent_by) if obj.sent_by_id else "-",
            local_time(obj.started_at),
            local_time(obj.finished_at or obj.cancelled_at),
        )

    @display(description=gettext_lazy("效果"))
    def report_panel(self, obj):
        r = report(obj)

        def share(count, rate_bp):
            return _("%(count)s（%(rate)s）") % {"count": count, "rate": format_bp(rate_bp)}

        rows = [
            (_("接收人数"), f"{r.recipients}"),
            (_("已送达（收到消息）"), f"{r.delivered}"),
            (_("已读"), share(r.read, r.read_bp)),
            (_("已点击"), share(r.clicked, r.clicked_bp)),
        ]
        if obj.carries == PushCarries.COUPON:
            rows.append((_("已发券"), _("%(coupons_issued)s 张") % {"coupons_issued": r.coupons_issued}))
        rows += [
            (
                _("%(window_days)s 天内下单客户") % {"window_days": r.window_days},
                share(r.buyers_ordered, r.ordered_bp),
            ),
            (
                _("%(window_days)s 天内付款订单") % {"window_days": r.window_days},
                _("%(orders)s 单") % {"orders": r.orders},
            ),
            (_("%(window_days)s 天内付款金额") % {"window_days": r.window_days}, format_fen(r.paid_amount)),
        ]
        for figures in r.channels:
            label = Channel(figures.channel).label
            rows.append(
                (
                    label,
                    _("已发送 %(sent)s · 失败 %(failed)s · 待发送 %(waiting)s")
                    % {"sent": figures.sent, "failed": figures.failed, "waiting": figures.waiting},
                )
            )
            if figures.skipped:
                rows.append(
                    (
                        _("%(channel)s：不接收活动推送") % {"channel": label},
                        _("%(count)s 人（仅站内消息）") % {"count": figures.skipped},
                    )
                )
        cells = format_html(
            "".join(
                '<div class="flex flex-col gap-1 border border-base-200 rounded-default px-3 py-2 '
                'dark:border-base-800"><span class="text-xs text-base-500">{}</span>'
                '<span class="font-semibold text-important" data-figure>{}</span></div>'
                for _row in rows
            ),
            *[x for row in rows for x in row],
        )
        return format_html(
            '<div id="push-report" class="grid grid-cols-2 md:grid-cols-4 gap-2">{}</div>'
            '<p class="text-xs text-base-500 mt-2">{}</p>',
            cells,
            _("下单统计：收到消息后 %(days)s 天内付款的订单（按付款金额，不扣除退款）。")
            % {"days": ORDER_WINDOW_DAYS},
        )

    # --- live pieces ---

    def get_urls(self):
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="promotions_push_preview"),
            path(
                "<path:object_id>/progress/",
                self.admin_site.admin_view(self.progress_view),
                name="promotions_push_progress",
            ),
        ] + super().get_urls()

    def preview_view(self, request):
        if not self.has_view_permission(request):
            raise Http404
        pk = whole_number(request.GET.get("segment", ""))
        segment = Segment.objects.filter(pk=pk).first() if pk is not None else None
        if segment is None:
            return HttpResponse(_("选择客户分群后显示"))
        return HttpResponse(_("当前 %(count)s 位客户") % {"count": service.preview_count(segment)})

    def progress_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise Http404
        push = self.object_or_404(request, object_id)
        response = HttpResponse(progress_html(push, request.path))
        if push.status != PushStatus.SENDING and request.headers.get("HX-Request"):
            # Sending has ended: reload the page so the report and the actions catch up.
            response["HX-Refresh"] = "true"
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        push = self.find_object(request, object_id)
        if push is not None and push.status != PushStatus.DRAFT:
            # Only a draft is edited; a started push is a record with actions.
            extra_context = {
                **(extra_context or {}),
                "show_save": False,
                "show_save_and_continue": False,
                "show_save_and_add_another": False,
                "push_record": True,  # no sticky submit row (see the template)
            }
        return super().change_view(request, object_id, form_url, extra_context)

    # --- actions ---

    @action(description=gettext_lazy("开始发送"), url_path="start", icon="send", permissions=["send"])
    def start_push(self, request, object_id):
        push = self.object_or_404(request, object_id)

        def act():
            try:
                started = service.start(push, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("推送“%(title)s”开始发送，共 %(total)s 位客户")
                    % {"title": started.title, "total": started.total},
                )

        return confirm_action(
            self,
            request,
            push,
            act,
            title=_("开始发送：%(title)s") % {"title": push.title},
            submit_label=_("开始发送"),
            summary=[
                (_("标题"), push.title),
                (_("内容"), push.body),
                (_("推送"), self.carries_display(push)),
                (_("客户分群"), str(push.segment)),
                (_("预计接收人数"), _("%(count)s 位客户") % {"count": service.preview_count(push.segment)}),
                *self._channel_summary(push),
                (
                    _("说明"),
                    _("接收人按分群此刻的客户确定，每人最多收到一次。")
                    + (str(COUPON_NOTE) if push.coupon_id else ""),
                ),
            ],
        )

    @staticmethod
    def _channel_summary(push: Push) -> list[tuple[str, str]]:
        if not push.external_channels:
            return [(_("发送渠道"), _("仅站内消息"))]
        names = _("、").join(str(Channel(name).label) for name in push.external_channels)
        return [
            (
                _("发送渠道"),
                _("站内消息，以及%(channels)s：约 %(count)s 位接收活动推送的客户")
                % {"channels": names, "count": service.marketing_count(push.segment)},
            )
        ]

    @action(description=gettext_lazy("取消推送"), url_path="cancel", icon="cancel", permissions=["send"])
    def cancel_push(self, request, object_id):
        push = self.object_or_404(request, object_id)

        def act():
            try:
                service.cancel(push, request.user)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("推送“%(title)s”已取消") % {"title": push.title})

        return confirm_action(
            self,
            request,
            push,
            act,
            title=_("取消推送：%(title)s") % {"title": push.title},
            submit_label=_("取消推送"),
            danger=True,
            summary=[
                (_("标题"), push.title),
                (_("进度"), f"{push.processed} / {push.total}"),
                (_("说明"), _("已收到消息的客户不受影响；尚未发送的客户不会再收到")),
            ],
        )
