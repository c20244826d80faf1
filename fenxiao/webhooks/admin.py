"""开发者 → Webhooks in the backend: endpoints (events as checkboxes, the signing secret with
a copy button, rotate secret, 测试推送), and the delivery log with each POST's code, time
and duration (重新投递). Changes go through the services; the pages only call them."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import Http404
from django.urls import reverse
from django.utils.html import escapejs, format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget, UnfoldAdminURLInputWidget

from fenxiao.core.admin import ReadOnlyAdmin, ReadOnlyInline, change_url
from fenxiao.core.admin_forms import confirm_action
from fenxiao.core.errors import DomainError
from fenxiao.customers.admin import LabelColours

from .models import SUBSCRIBABLE, Delivery, DeliveryAttempt, DeliveryStatus, Endpoint, Event
from .services import delivery, endpoints

SIGNING_EXAMPLE = (
    "import hashlib, hmac, time\n"
    "def verify(secret, headers, body: bytes) -> bool:\n"
    "    ts = headers['X-Fenxiao-Timestamp']\n"
    "    if abs(time.time() - int(ts)) > 300:\n"
    "        return False  # too old: a replay\n"
    "    expected = hmac.new(secret.encode(), ts.encode() + b'.' + body,\n"
    "                        hashlib.sha256).hexdigest()\n"
    "    return hmac.compare_digest(expected, headers['X-Fenxiao-Signature'])"
)


def signing_help_html():
    return format_html(
        _(
            "每次推送为 POST JSON，请求头：<code>X-Fenxiao-Event</code>（事件类型）、"
            "<code>X-Fenxiao-Event-Id</code>（事件编号，重试时不变，请据此去重）、"
            "<code>X-Fenxiao-Timestamp</code>（Unix 秒）、<code>X-Fenxiao-Signature</code>。"
            "签名 = 十六进制 HMAC-SHA256(签名密钥, 时间戳 + &quot;.&quot; + 原始请求体)。"
            "校验示例（Python）：<pre style='white-space:pre-wrap'>{}</pre>"
            "返回 2xx 即视为送达；其他状态码或超时（{} 秒）按 1 分钟、5 分钟、30 分钟、2 小时、6 小时……重试，"
            "连续失败 24 小时的地址将被自动停用并通知管理员。"
        ),
        SIGNING_EXAMPLE,
        10,
    )


def object_or_404(model_admin, request, object_id):
    """The row a detail action's address names; a malformed or unknown id is a 404, not a
    crash on None (`get_object` answers None for both)."""
    obj = model_admin.get_object(request, object_id)
    if obj is None:
        raise Http404(_("未找到对应的记录"))
    return obj


STATUS_LABELS = LabelColours(
    [
        (DeliveryStatus.PENDING.label, "warning"),
        (DeliveryStatus.SENDING.label, "info"),
        (DeliveryStatus.SUCCEEDED.label, "success"),
        (DeliveryStatus.FAILED.label, "danger"),
        (DeliveryStatus.CANCELLED.label, "info"),
    ]
)


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("推送地址"),
        max_length=500,
        assume_scheme="https",
        widget=UnfoldAdminURLInputWidget,
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("订阅事件"),
        choices=SUBSCRIBABLE,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        required=True,
    )

    class Meta:
        model = Endpoint
        fields = ("url", "description", "events", "is_active")

    def clean(self):
        data = super().clean()
        if data.get("url") and data.get("events"):
            try:
                data["url"], data["events"] = endpoints.clean(data["url"], data["events"])
            except DomainError as exc:
                event_problem = exc.code in ("WEBHOOK_EVENT_UNKNOWN", "WEBHOOK_NO_EVENTS")
                self.add_error("events" if event_problem else "url", exc.message)
        return data


@admin.register(Endpoint)
class EndpointAdmin(ModelAdmin):
    form = EndpointForm
    list_display = (
        "id",
        "url",
        "events_text",
        "active_label",
        "failing_since",
        "last_success_at",
        "deliveries_link",
        "created_at",
    )
    list_filter = ("is_active",)
    search_fields = ("url", "description")
    search_help_text = gettext_lazy("按地址或说明搜索")
    actions = ["ping_selected"]
    actions_detail = ("ping_endpoint", "rotate_secret")
    readonly_fields = (
        "secret_box",
        "deliveries_link",
        "disabled_reason_display",
        "disabled_at",
        "failing_since",
        "last_success_at",
        "created_by",
        "created_at",
        "signing_help",
    )

    @display(description=gettext_lazy("停用原因"))
    def disabled_reason_display(self, obj):
        return obj.disabled_reason_text or "-"

    def get_fieldsets(self, request, obj=None):
        main = ("url", "description", "events", "is_active")
        if obj is None:
            return [(None, {"fields": main})]
        return [
            (None, {"fields": main}),
            (_("签名"), {"fields": ("secret_box", "signing_help")}),
            (
                _("状态"),
                {
                    "fields": (
                        "deliveries_link",
                        "disabled_reason_display",
                        "disabled_at",
                        "failing_since",
                        "last_success_at",
                        "created_by",
                        "created_at",
                    )
                },
            ),
        ]

    def get_deleted_objects(self, objs, request):
        # The delivery log stays: it is the record of what was sent where. Django would have
        # listed it row by row (a busy endpoint's log is large) and then refused, naming a
        # permission no one has (你的帐号无权删除下列类型的对象：Webhook 投递记录), so an endpoint
        # that ever got a test push could not be removed and the page did not say why.
        logged = Delivery.objects.filter(endpoint__in=objs).count()
        if logged:
            reason = _("已有 %(count)s 条投递记录需要保留，不能删除；不再使用请关闭“启用”") % {
                "count": logged
            }
            return [], {}, set(), [reason]
        return super().get_deleted_objects(objs, request)

    def get_queryset(self, request):
        failed = Q(deliveries__status=DeliveryStatus.FAILED)
        return super().get_queryset(request).annotate(failed_total=Count("deliveries", filter=failed))

    def save_model(self, request, obj, form, change):
        was_active = None
        if change:
            was_active = Endpoint.objects.filter(pk=obj.pk).values_list("is_active", flat=True).first()
        endpoints.save(obj, request.user, was_active=was_active)

    @display(description=gettext_lazy("订阅事件"))
    def events_text(self, obj):
        names = dict(SUBSCRIBABLE)
        return _("、").join(str(names.get(e, e)) for e in obj.events or [])

    @display(
        description=gettext_lazy("状态"),
        label=LabelColours([(gettext_lazy("启用"), "success"), (gettext_lazy("已停用"), "danger")]),
    )
    def active_label(self, obj):
        return _("启用") if obj.is_active else _("已停用")

    @display(description=gettext_lazy("投递记录"))
    def deliveries_link(self, obj):
        """Where to see what reached this endpoint, and what did not."""
        listing = reverse("admin:webhooks_delivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        everything = format_html('<a class="text-primary-600" href="{}">{}</a>', listing, _("查看投递"))
        failed = getattr(obj, "failed_total", 0)
        if not failed:
            return everything
        return format_html(
            '{} · <a class="text-red-600" href="{}">{}</a>',
            everything,
            f"{listing}&status__exact={DeliveryStatus.FAILED}",
            _("失败 %(count)s 条") % {"count": failed},
        )

    @display(description=gettext_lazy("签名密钥"))
    def secret_box(self, obj):
        # The clipboard API may be refused (plain http, no permission): then the secret is
        # selected for the user to copy by hand, and the button says so.
        return format_html(
            '<code id="webhook-secret" class="select-all">{}</code> '
            '<button type="button" id="webhook-secret-copy" class="border rounded px-2 py-0.5 ml-2" '
            "onclick=\"var b=this,t=document.getElementById('webhook-secret');"
            "function pick(){{var r=document.createRange();r.selectNodeContents(t);"
            "var s=window.getSelection();s.removeAllRanges();s.addRange(r);"
            "b.textContent='{}';}}"
            "if(navigator.clipboard){{navigator.clipboard.writeText(t.textContent)"
            ".then(function(){{b.textContent='{}';}},pick);}}else{{pick();}}\">{}</button>",
            obj.secret,
            escapejs(_("已选中，请按 Ctrl+C 复制")),
            escapejs(_("已复制")),
            _("复制"),
        )

    @display(description=gettext_lazy("签名与校验"))
    def signing_help(self, obj):
        return signing_help_html()

    def has_ping_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.change_endpoint")

    has_rotate_permission = has_ping_permission

    def _ping(self, request, endpoint):
        row = delivery.ping(endpoint)
        row.refresh_from_db()
        if row.status == DeliveryStatus.SUCCEEDED:
            messages.success(
                request,
                _("测试推送已送达 %(url)s（HTTP %(code)s）")
                % {"url": endpoint.url, "code": row.last_response_code},
            )
        elif row.status == DeliveryStatus.PENDING and not row.attempts:
            messages.info(request, _("测试推送已排队，稍后投递到 %(url)s") % {"url": endpoint.url})
        else:
            messages.warning(
                request,
                _("测试推送未送达 %(url)s：%(reason)s")
                % {"url": endpoint.url, "reason": row.last_error_text or row.get_status_display()},
            )

    @action(description=gettext_lazy("测试推送所选地址"), permissions=["ping"])
    def ping_selected(self, request, queryset):
        for endpoint in queryset.order_by("pk"):
            self._ping(request, endpoint)

    @action(description=gettext_lazy("测试推送"), url_path="ping", icon="send", permissions=["ping"])
    def ping_endpoint(self, request, object_id):
        endpoint = object_or_404(self, request, object_id)
        return confirm_action(
            self,
            request,
            endpoint,
            lambda: self._ping(request, endpoint),
            title=_("测试推送：%(url)s") % {"url": endpoint.url},
            submit_label=_("发送测试推送"),
            summary=[(_("推送地址"), endpoint.url), (_("事件类型"), "ping")],
        )

    @action(
        description=gettext_lazy("更换签名密钥"), url_path="rotate-secret", icon="key", permissions=["rotate"]
    )
    def rotate_secret(self, request, object_id):
        endpoint = object_or_404(self, request, object_id)

        def act():
            endpoints.rotate_secret(endpoint)
            messages.success(request, _("签名密钥已更换，请在接收服务中改用新密钥"))

        return confirm_action(
            self,
            request,
            endpoint,
            act,
            title=_("更换签名密钥：%(url)s") % {"url": endpoint.url},
            submit_label=_("更换密钥"),
            summary=[(_("说明"), _("更换后旧密钥立即失效，之后的推送用新密钥签名。"))],
        )


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "response_code", "duration_ms", "error_display", "response_excerpt")
    readonly_fields = fields
    verbose_name_plural = pgettext_lazy("plural", "投递日志")

    @display(description=gettext_lazy("错误"))
    def error_display(self, obj):
        return obj.error_text or "-"


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "event_type",
        "event_id_text",
        "endpoint_link",
        "status_label",
        "attempts",
        "last_response_code",
        "last_duration_ms",
        "last_error_display",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event__type", "endpoint")
    search_fields = ("=event__event_id",)
    search_help_text = gettext_lazy("按完整事件 ID 搜索")
    list_select_related = ("event", "endpoint")
    inlines = [AttemptInline]
    actions = ["redeliver_selected"]
    actions_detail = ("redeliver_one",)
    fields = (
        "event_type",
        "event_id_text",
        "endpoint_link",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_response_code",
        "last_duration_ms",
        "last_error_display",
        "created_at",
        "delivered_at",
        "payload",
    )
    readonly_fields = fields

    def has_redeliver_permission(self, request, obj=None):
        return request.user.has_perm("webhooks.change_delivery")

    @display(description=gettext_lazy("事件"))
    def event_type(self, obj):
        return obj.event.get_type_display()

    @display(description=gettext_lazy("最近错误"))
    def last_error_display(self, obj):
        return obj.last_error_text or "-"

    @display(description=gettext_lazy("事件编号"))
    def event_id_text(self, obj):
        return str(obj.event.event_id)

    @display(description=gettext_lazy("推送地址"))
    def endpoint_link(self, obj):
        return format_html('<a href="{}">{}</a>', change_url(obj.endpoint), obj.endpoint.url)

    @display(description=gettext_lazy("状态"), label=STATUS_LABELS)
    def status_label(self, obj):
        return obj.get_status_display()

    @display(description=gettext_lazy("推送内容"))
    def payload(self, obj):
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", delivery.body_of(obj.event).decode())

    def _redeliver(self, request, rows):
        done, refused = 0, []
        for row in rows:
            try:
                delivery.redeliver(row)
            except DomainError as error:
                refused.append(_("#%(id)s：%(message)s") % {"id": row.pk, "message": error.message})
            else:
                done += 1
        if done:
            messages.success(request, _("已重新投递 %(count)s 条") % {"count": done})
        for text in refused[:20]:
            messages.warning(request, text)

    @action(description=gettext_lazy("重新投递所选"), permissions=["redeliver"])
    def redeliver_selected(self, request, queryset):
        self._redeliver(request, list(queryset.order_by("pk")))

    @action(
        description=gettext_lazy("重新投递"), url_path="redeliver", icon="replay", permissions=["redeliver"]
    )
    def redeliver_one(self, request, object_id):
        row = object_or_404(self, request, object_id)
        return confirm_action(
            self,
            request,
            row,
            lambda: self._redeliver(request, [row]),
            title=_("重新投递 #%(id)s") % {"id": row.pk},
            submit_label=_("重新投递"),
            summary=[
                (_("事件"), f"{row.event.get_type_display()} {row.event.event_id}"),
                (_("推送地址"), row.endpoint.url),
            ],
        )


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "event_id", "created_at")
    list_filter = ("type",)
    search_fields = ("=event_id", "source_key")
    search_help_text = gettext_lazy("按完整事件 ID 或来源键搜索")
    fields = ("event_id", "type", "source_key", "payload", "created_at")
    readonly_fields = fields
