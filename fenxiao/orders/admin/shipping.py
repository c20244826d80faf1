"""The order page's shipping: the 发货 form (whole order or part of it, per line quantity,
carrier from the list) and the parcels panel with each parcel's goods and trail."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action, display

from fenxiao.core.admin import DetailActionsMixin, ReadOnlyAdmin, label_display
from fenxiao.core.admin_forms import confirm_action, report_each
from fenxiao.shipping.carriers import Carrier

from ..logistics import provider_choices
from ..models import Parcel, SubscriptionStatus, TrackingState, TrackingSubscription
from ..services.shipments import parcel_details, remaining_quantities
from ..services.tracking import retry_subscription
from .common import label, link

TRACKING_STATE_LABELS = {
    TrackingState.WAITING: "default",
    TrackingState.COLLECTED: "info",
    TrackingState.IN_TRANSIT: "info",
    TrackingState.DELIVERING: "primary",
    TrackingState.SIGNED: "success",
    TrackingState.PROBLEM: "danger",
    TrackingState.RETURNED: "danger",
}
TRAIL_SHOWN = 5


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(
        label=gettext_lazy("物流公司"), choices=[("", gettext_lazy("请选择物流公司")), *Carrier.choices]
    )
    tracking_number = forms.CharField(
        label=gettext_lazy("运单号"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("如 SF1234567890")}),
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(order.lines.all())
        self.remaining = remaining_quantities(order)
        for line in self.lines:
            left = self.remaining.get(line.pk, 0)
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                label=_("本次发货"),
                required=False,
                min_value=0,
                max_value=left,
                initial=left,
                disabled=not left,
                widget=forms.NumberInput(attrs={"style": "width:6rem"}),
            )

    @property
    def plain_fields(self):
        return [self["carrier"], self["tracking_number"]]

    def line_rows(self):
        for line in self.lines:
            left = self.remaining.get(line.pk, 0)
            yield [
                f"{line.product_name} {line.spec_text}".strip(),
                line.quantity,
                line.quantity - line.refunded_quantity - left,
                left,
                self[f"line_{line.pk}"],
            ]

    def clean(self):
        cleaned = super().clean()
        if not any(f"line_{line.pk}" in self.data for line in self.lines):
            cleaned["lines"] = None  # no quantities given (an older form, a script): everything left
            return cleaned
        chosen = {
            line.pk: cleaned.get(f"line_{line.pk}") or 0
            for line in self.lines
            if self.remaining.get(line.pk) and cleaned.get(f"line_{line.pk}")
        }
        if not chosen and not self.errors:
            raise ValidationError(_("请填写本次发货的商品数量"))
        cleaned["lines"] = chosen
        return cleaned


def render_parcels(order) -> str:
    parcels = list(
        Parcel.objects.filter(order=order)
        .select_related("subscription")
        .prefetch_related(*parcel_details())
        .order_by("id")
    )
    if not parcels:
        return _("尚未发货")
    return format_html_join("", "{}", ((_parcel(p, i),) for i, p in enumerate(parcels, 1)))


def _local(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _subscription_text(parcel) -> str:
    sub = getattr(parcel, "subscription", None)
    if sub is None:
        return _("未订阅轨迹")
    text = _("轨迹订阅：%(status)s") % {"status": sub.get_status_display()}
    if sub.status in (SubscriptionStatus.FAILED, SubscriptionStatus.STOPPED) and sub.last_error:
        text += _("（%(last_error)s）") % {"last_error": sub.last_error}
    return text


def _parcel(parcel, index: int) -> str:
    goods = _("、").join(f"{pl.order_line.product_name} ×{pl.quantity}" for pl in parcel.lines.all())
    trail = list(parcel.tracking_events.all())
    rows = format_html_join(
        "",
        "<li class='mb-1'><span class='text-font-subtle-light dark:text-font-subtle-dark mr-2'>{}</span>"
        "<b class='mr-2'>{}</b>{}</li>",
        ((_local(e.occurred_at), e.get_state_display(), e.context) for e in trail[:TRAIL_SHOWN]),
    )
    more = _("… 共 %(count)s 条") % {"count": len(trail)} if len(trail) > TRAIL_SHOWN else ""
    return format_html(
        "<div class='mb-4' data-parcel='{}'>"
        "<div class='flex flex-wrap items-center gap-2 mb-1'><b>{}</b>{}"
        "<span class='text-font-subtle-light dark:text-font-subtle-dark'>{}</span></div>"
        "<div class='mb-1'>{}</div><ul class='pl-2 border-l'>{}</ul>{}</div>",
        parcel.pk,
        _("包裹%(index)s · %(carrier)s %(number)s")
        % {"index": index, "carrier": parcel.carrier_name, "number": parcel.tracking_number},
        label(
            parcel.get_tracking_state_display(), TRACKING_STATE_LABELS.get(parcel.tracking_state, "default")
        ),
        _("发货 %(time)s · %(subscription)s")
        % {"time": _local(parcel.shipped_at), "subscription": _subscription_text(parcel)},
        goods,
        rows or format_html("<li>{}</li>", _("暂无物流轨迹")),
        more,
    )


# --- Tracking subscriptions: the outbox rows, with a retry for those not answered ----------------

SUBSCRIPTION_LABELS = {
    SubscriptionStatus.PENDING: "warning",
    SubscriptionStatus.SENDING: "info",
    SubscriptionStatus.SUBSCRIBED: "success",
    SubscriptionStatus.FAILED: "danger",
    SubscriptionStatus.STOPPED: "warning",
}


class ProviderFilter(admin.SimpleListFilter):
    title = gettext_lazy("物流服务")
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return provider_choices()

    def queryset(self, request, queryset):
        return queryset.filter(provider=self.value()) if self.value() else queryset


@admin.register(TrackingSubscription)
class TrackingSubscriptionAdmin(DetailActionsMixin, ReadOnlyAdmin):
    """Each parcel's request for its trail at the tracking service; staff re-send the ones
    that failed or are stuck."""

    missing_message = gettext_lazy("物流订阅不存在")
    list_display = (
        "parcel_display",
        "order_link",
        "provider_display",
        "status_label",
        "attempts",
        "last_error",
        "created_at",
    )
    list_filter = ("status", ProviderFilter)
    search_fields = ("=parcel__tracking_number", "=parcel__order__number")
    search_help_text = gettext_lazy("按完整运单号或完整订单号搜索")
    list_select_related = ("parcel", "parcel__order")
    fields = (
        "parcel_display",
        "order_link",
        "provider_display",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_error",
        "subscribed_at",
        "created_at",
    )
    readonly_fields = fields
    actions = ("retry_selected",)
    actions_detail = ("retry_one",)

    def has_retry_permission(self, request, obj=None):
        return request.user.has_perm("orders.change_order")

    @display(description=gettext_lazy("包裹"))
    def parcel_display(self, obj):
        return str(obj.parcel)

    @display(description=gettext_lazy("订单"))
    def order_link(self, obj):
        return link(obj.parcel.order)

    @display(description=gettext_lazy("物流服务"))
    def provider_display(self, obj):
        return obj.provider_name

    @label_display(
        description=gettext_lazy("状态"),
        ordering="status",
        label={str(k): v for k, v in SUBSCRIPTION_LABELS.items()},
    )
    def status_label(self, obj):
        return obj.status, obj.get_status_display()

    def _retry(self, request, rows) -> None:
        report_each(
            request,
            rows,
            retry_subscription,
            name=lambda sub: str(sub.parcel),
            done=_("已重新发送物流订阅："),
            failed=_("未能重新发送："),
        )

    @action(description=gettext_lazy("重新发送所选物流订阅"), permissions=["retry"])
    def retry_selected(self, request, queryset):
        self._retry(request, queryset.select_related("parcel"))

    def detail_actions_for(self, sub):
        return set() if sub.status == SubscriptionStatus.SUBSCRIBED else {"retry_one"}

    @action(description=gettext_lazy("重新发送订阅"), url_path="retry", permissions=["retry"], icon="replay")
    def retry_one(self, request, object_id):
        sub = self.object_or_404(request, object_id)
        return confirm_action(
            self,
            request,
            sub,
            lambda: self._retry(request, [sub]),
            title=_("重新发送物流订阅：%(parcel)s") % {"parcel": sub.parcel},
            submit_label=_("重新发送"),
            summary=[
                (_("包裹"), str(sub.parcel)),
                (_("订单"), sub.parcel.order.number),
                (_("状态"), sub.get_status_display()),
                (_("最近一次错误"), sub.last_error or "-"),
                (_("已尝试"), _("%(attempts)s 次") % {"attempts": sub.attempts}),
            ],
        )
