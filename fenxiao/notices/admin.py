"""消息 in the backend: in-site messages (read-only) and the notification outbox, where
staff see what each channel sent (with the sandbox, the only record of it) and send failed
rows again through the service."""

from django.contrib import admin, messages
from django.db.models import CharField, Value
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import ReadOnlyAdmin
from fenxiao.core.errors import DomainError
from fenxiao.customers.admin import LabelColours, mask_phone

from .models import Channel, Delivery, DeliveryStatus, Message
from .services import delivery


def _person(user) -> str:
    """Who got it, with the phone masked: a message list is no place for phone numbers."""
    phone = mask_phone(user.phone) if user.phone else ""
    name = user.nickname or user.username
    return (
        _("%(name)s（%(phone)s）") % {"name": name, "phone": phone}
        if phone and name != user.phone
        else phone or name
    )


# What a message is about (`Message.subject_type`), as staff name it, with the page that
# shows it and the permission that page asks for.
SUBJECTS = {
    "order": (gettext_lazy("订单"), "orders", "order"),
    "after_sale": (gettext_lazy("售后单"), "orders", "aftersale"),
    "withdrawal": (gettext_lazy("提现"), "distribution", "withdrawal"),
    "settlement_batch": (gettext_lazy("结算批次"), "distribution", "settlementbatch"),
    "distributor": (gettext_lazy("分销商"), "distribution", "distributor"),
    "claim": (gettext_lazy("掉单申诉"), "distribution", "orderclaim"),
    "push": (gettext_lazy("定向推送"), "promotions", "push"),
    "webhook_endpoint": (gettext_lazy("Webhook 推送地址"), "webhooks", "endpoint"),
}


def _may_open(user, app_label: str, model: str) -> bool:
    return user.has_perm(f"{app_label}.view_{model}") or user.has_perm(f"{app_label}.change_{model}")


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "recipient", "kind", "title_display", "created_at", "read_label", "clicked_at")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("=user__phone", "title")
    search_help_text = gettext_lazy("按完整手机号或消息标题搜索")
    list_select_related = ("user",)
    fields = (
        "recipient",
        "kind",
        "title_display",
        "body_display",
        "link",
        "subject",
        "created_at",
        "read_at",
        "clicked_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        # The subjects whose pages this staff member may open travel with the rows: the
        # admin object is shared by every request.
        linkable = " ".join(
            key for key, (_name, app, model) in SUBJECTS.items() if _may_open(request.user, app, model)
        )
        return super().get_queryset(request).annotate(linkable=Value(linkable, output_field=CharField()))

    @display(description=gettext_lazy("接收人"))
    def recipient(self, obj):
        return _person(obj.user)

    # What the recipient reads, in the reader's language (the row keeps the Chinese text).
    @display(description=gettext_lazy("标题"))
    def title_display(self, obj):
        return obj.title_text

    @display(description=gettext_lazy("内容"))
    def body_display(self, obj):
        return obj.body_text

    @display(description=gettext_lazy("关联对象"))
    def subject(self, obj):
        """订单 #23, linked to its page: the stored key and id (order, 23) named nothing."""
        if not obj.subject_type:
            return "-"
        name, app, model = SUBJECTS.get(obj.subject_type, (_("其他"), "", ""))
        if obj.subject_id is None:
            return str(name)
        text = _("%(name)s #%(id)s") % {"name": name, "id": obj.subject_id}
        if obj.subject_type not in getattr(obj, "linkable", "").split():
            return text
        try:
            url = reverse(f"admin:{app}_{model}_change", args=[obj.subject_id])
        except NoReverseMatch:  # that app is not installed here
            return text
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, text)

    @display(
        description=gettext_lazy("阅读"),
        label=LabelColours([(gettext_lazy("已读"), "success"), (gettext_lazy("未读"), "warning")]),
    )
    def read_label(self, obj):
        return _("已读") if obj.read_at else _("未读")


STATUS_LABELS = LabelColours(
    [
        (DeliveryStatus.PENDING.label, "warning"),
        (DeliveryStatus.PROCESSING.label, "info"),
        (DeliveryStatus.SENT.label, "success"),
        (DeliveryStatus.FAILED.label, "danger"),
    ]
)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "message_title",
        "message_user",
        "channel",
        "adapter_label",
        "masked_recipient",
        "status_label",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "message__kind", "adapter")
    search_fields = ("=message__user__phone",)
    search_help_text = gettext_lazy("按接收人完整手机号搜索")
    # The buyer with the row: 接收方 is the address a send used, empty until one got through.
    list_select_related = ("message__user",)
    actions = ["retry_selected"]
    fields = (
        "message_title",
        "message_user",
        "channel",
        "adapter_label",
        "masked_recipient",
        "content",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    def has_retry_permission(self, request, obj=None):
        return request.user.has_perm("notices.change_delivery")

    @display(description=gettext_lazy("消息"))
    def message_title(self, obj):
        return obj.message.title_text

    @display(description=gettext_lazy("接收人"))
    def message_user(self, obj):
        return _person(obj.message.user)

    @display(description=gettext_lazy("通道"), label=LabelColours([(gettext_lazy("沙箱"), "info")]))
    def adapter_label(self, obj):
        return _("沙箱") if obj.adapter == "sandbox" else obj.adapter

    @display(description=gettext_lazy("接收方"))
    def masked_recipient(self, obj):
        if obj.channel == Channel.SMS and obj.recipient:
            return mask_phone(obj.recipient)
        return obj.recipient or "-"

    @display(description=gettext_lazy("状态"), label=STATUS_LABELS)
    def status_label(self, obj):
        return obj.get_status_display()

    @action(description=gettext_lazy("重新发送所选（发送失败的）通知"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        done, refused = 0, []
        for row in queryset.order_by("pk"):
            try:
                delivery.retry(row)
            except DomainError as error:
                refused.append(_("#%(id)s：%(message)s") % {"id": row.pk, "message": error.message})
            else:
                done += 1
        if done:
            messages.success(request, _("已重新发送 %(count)s 条通知") % {"count": done})
        for text in refused[:20]:
            messages.warning(request, text)
