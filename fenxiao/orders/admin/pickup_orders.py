"""到店自提 on the order backend. A pickup order is handed over at the store against its
code (核销), never shipped: it offers no 发货, 修改地址 or 打印发货单, and their pages answer
a pickup order with the reason and go back to the order, with no form to fill in first. A
packing slip of one would print the store as the buyer's address, so the bulk print skips
them. Its page offers 核销提货码 instead: the stores app's backend page, reached by URL name
(orders never import stores)."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.numbers import whole_number

from ..models import Fulfilment, Order, OrderStatus
from ..services import stores_port

VERIFY_URL_NAME = "stores_pickup_verify"  # fenxiao.stores.admin_pickup

# The order page's actions that are for delivered orders only, with what a pickup order's
# page of one says instead.
REFUSALS = {
    "ship_order": gettext_lazy("到店自提订单无需发货，请在门店核销提货码"),
    "change_address": gettext_lazy("到店自提订单没有收货地址，买家到门店提货"),
    "print_packing_slip": gettext_lazy("到店自提订单无需打印发货单，买家凭提货码到门店提货"),
}


def actions_for(order: Order, allowed: set[str]) -> set[str]:
    """The detail actions of `order` out of those its status allows."""
    if not order.is_pickup:
        return allowed
    allowed = allowed - set(REFUSALS)
    if order.status == OrderStatus.PENDING_SHIPMENT:
        allowed = allowed | {"verify_pickup"}
    return allowed


def refuse(request, order: Order, action: str):
    messages.error(request, str(REFUSALS[action]))
    return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))


def verify_redirect(request, order: Order):
    if not order.is_pickup:
        messages.error(request, _("该订单不是到店自提订单"))
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
    return HttpResponseRedirect(f"{reverse(VERIFY_URL_NAME)}?{urlencode({'code': order.pickup_code})}")


def _skipped(request, count: int) -> None:
    messages.warning(
        request,
        _("已跳过 %(count)s 个到店自提订单：买家凭提货码到门店提货，无需发货单") % {"count": count},
    )


def without_pickups(request, queryset):
    """The bulk print's selection less its pickup orders (said in a message); None when
    nothing is left to print."""
    pickups = queryset.filter(fulfilment=Fulfilment.PICKUP).count()
    if not pickups:
        return queryset
    _skipped(request, pickups)
    queryset = queryset.exclude(fulfilment=Fulfilment.PICKUP)
    return queryset if queryset.exists() else None


def pickups_among(request, ids: list[int], rest_url) -> HttpResponseRedirect | None:
    """The print page asked for pickup orders by id: to the page of the others (`rest_url`
    of their ids), or back to the list when none is left; None when there is no pickup."""
    pickups = set(Order.objects.filter(pk__in=ids, fulfilment=Fulfilment.PICKUP).values_list("pk", flat=True))
    if not pickups:
        return None
    _skipped(request, len(pickups))
    rest = [pk for pk in ids if pk not in pickups]
    if not rest:
        return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
    return HttpResponseRedirect(rest_url(rest))


class PickupStoreFilter(admin.SimpleListFilter):
    """自提门店: one store's pickup orders (a chain's 待自提 at 湖滨店). Offered once the list
    is about pickup orders (the 待自提 tab, 配送方式 到店自提, or a store already chosen), so
    the list as usually opened reads no store names."""

    title = gettext_lazy("自提门店")
    parameter_name = "pickup_store"

    def lookups(self, request, model_admin):
        about_pickups = (
            request.GET.get("tab") == "pending_pickup"
            or request.GET.get("fulfilment__exact") == Fulfilment.PICKUP
            or self.parameter_name in request.GET
        )
        return list(stores_port.store_names().items()) if about_pickups else []

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        store_id = whole_number(self.value())
        return queryset.filter(pickup_store_id=store_id) if store_id is not None else queryset.none()
