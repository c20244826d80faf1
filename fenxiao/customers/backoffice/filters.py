"""The customer list's filters. Each reads the figures row, the tags or the binding with
one condition in the list's own query; an unknown value is ignored (never a 500)."""

from datetime import timedelta

from django.contrib import admin
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fenxiao.core.numbers import whole_number

from ..models import CustomerTag, RegistrationSource, Segment, Tag
from ..services import segments as segment_service


class TagFilter(admin.SimpleListFilter):
    title = _("标签")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [
            (str(pk), name) for pk, name in Tag.objects.order_by("rule", "name").values_list("pk", "name")
        ]

    def queryset(self, request, queryset):
        tag = whole_number(self.value())
        if tag is None:
            return queryset
        return queryset.filter(Exists(CustomerTag.objects.filter(user_id=OuterRef("pk"), tag_id=tag)))


class SegmentFilter(admin.SimpleListFilter):
    """The customers in a saved segment now: a segment's count opens the list here, so its
    members can be read, exported and tagged like any other list."""

    title = _("客户分群")
    parameter_name = "segment"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Segment.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        pk = whole_number(self.value())
        segment = Segment.objects.filter(pk=pk).first() if pk is not None else None
        if segment is None:
            return queryset
        return queryset.filter(pk__in=segment_service.members(segment))


class SourceFilter(admin.SimpleListFilter):
    title = _("注册来源")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return RegistrationSource.choices

    def queryset(self, request, queryset):
        if self.value() in RegistrationSource.values:
            return queryset.filter(customer_figures__source=self.value())
        return queryset


class BoundFilter(admin.SimpleListFilter):
    title = _("绑定分销商")
    parameter_name = "bound"

    def lookups(self, request, model_admin):
        return [("yes", _("已绑定")), ("no", _("未绑定"))]

    def queryset(self, request, queryset):
        from fenxiao.distribution.models import CustomerBinding

        live = CustomerBinding.objects.filter(buyer_id=OuterRef("pk")).in_force()
        if self.value() == "yes":
            return queryset.filter(Exists(live))
        if self.value() == "no":
            return queryset.exclude(Exists(live))
        return queryset


class MarketingFilter(admin.SimpleListFilter):
    """Who may get promotions by SMS: what a merchant exporting phones for a
    campaign outside the mall must respect."""

    title = _("活动推送")
    parameter_name = "marketing"

    def lookups(self, request, model_admin):
        return [("yes", _("接收短信推送")), ("no", _("已拒收（仅站内消息）"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(accepts_marketing=self.value() == "yes")
        return queryset


class _BracketFilter(admin.SimpleListFilter):
    brackets: dict = {}

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _q) in self.brackets.items()]

    def queryset(self, request, queryset):
        bracket = self.brackets.get(self.value())
        return queryset.filter(bracket[1]()) if bracket else queryset


def _spend(low, high=None):
    def q():
        clause = Q(customer_figures__total_spend__gte=low)
        if high is not None:
            clause &= Q(customer_figures__total_spend__lt=high)
        return clause

    return q


class SpendFilter(_BracketFilter):
    title = _("累计消费")
    parameter_name = "spend"
    brackets = {
        "0": (
            _("¥0（未消费）"),
            lambda: Q(customer_figures__isnull=True) | Q(customer_figures__total_spend__lte=0),
        ),
        "1": ("¥0.01–¥99.99", _spend(1, 10_000)),
        "2": ("¥100–¥499.99", _spend(10_000, 50_000)),
        "3": ("¥500–¥1,999.99", _spend(50_000, 200_000)),
        "4": (_("¥2,000 及以上"), _spend(200_000)),
    }


class OrdersFilter(_BracketFilter):
    title = _("付款订单数")
    parameter_name = "orders"
    brackets = {
        "0": (_("0 单"), lambda: Q(customer_figures__isnull=True) | Q(customer_figures__paid_orders=0)),
        "1": (_("1 单"), lambda: Q(customer_figures__paid_orders=1)),
        "2": (
            _("2–4 单"),
            lambda: Q(customer_figures__paid_orders__gte=2, customer_figures__paid_orders__lte=4),
        ),
        "5": (_("5 单及以上"), lambda: Q(customer_figures__paid_orders__gte=5)),
    }


def _since(days):
    return lambda: Q(customer_figures__last_paid_at__gte=timezone.now() - timedelta(days=days))


class LastPaidFilter(_BracketFilter):
    title = _("最近购买")
    parameter_name = "last_paid"
    brackets = {
        "7": (_("7 天内"), _since(7)),
        "30": (_("30 天内"), _since(30)),
        "90": (_("90 天内"), _since(90)),
        "old": (
            _("超过 90 天"),
            lambda: Q(customer_figures__last_paid_at__lt=timezone.now() - timedelta(days=90)),
        ),
        "never": (
            _("从未购买"),
            lambda: Q(customer_figures__isnull=True) | Q(customer_figures__last_paid_at__isnull=True),
        ),
    }
