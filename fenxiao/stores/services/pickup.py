"""到店自提: which stores can serve a basket (nearest first), and verifying a pickup code
(核销) at the store, which completes the order through the orders' own service."""

import math
from collections.abc import Mapping

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.errors import PermissionDenied
from fenxiao.core.numbers import half_width, whole_number
from fenxiao.orders.errors import PickupCodeInvalid, PickupCodeUsed, PickupUnavailable
from fenxiao.orders.models import OPEN_AFTER_SALE, Fulfilment, Order, OrderStatus
from fenxiao.orders.services import lifecycle
from fenxiao.orders.services.stores_port import PickupStore

from ..models import MemberSource, Store, StoreStaff, StoreStock
from . import membership
from .stock import _per_sku

EARTH_RADIUS_M = 6_371_000
CODE_LENGTH = 8


def distance_m(lat1, lng1, lat2, lng2) -> int:
    """Great-circle distance (haversine): plenty for ordering a city's stores."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * math.asin(math.sqrt(a)))


def _location(lat, lng) -> tuple[float, float] | None:
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or math.isnan(lat) or math.isnan(lng):
        return None
    return lat, lng


def _as_pickup(store: Store, here) -> PickupStore:
    distance = None
    if here is not None and store.latitude is not None and store.longitude is not None:
        distance = distance_m(here[0], here[1], store.latitude, store.longitude)
    return PickupStore(
        id=store.pk,
        name=store.name,
        province=store.province,
        city=store.city,
        district=store.district,
        address_detail=store.address_detail,
        hours=store.hours,
        phone=store.phone,
        latitude=store.latitude,
        longitude=store.longitude,
        distance_m=distance,
    )


def _serving(quantities: Mapping[int, int]):
    """Open, pickup-enabled stores holding every SKU in its quantity (one query)."""
    if not quantities:
        return Store.objects.none()
    ids = (
        StoreStock.objects.filter(
            store__is_open=True,
            store__pickup_enabled=True,
            sku_id__in=list(quantities),
            stock__gte=_per_sku(quantities),
        )
        .values("store_id")
        .annotate(n=Count("sku_id"))
        .filter(n=len(quantities))
        .values("store_id")
    )
    return Store.objects.filter(pk__in=ids)


def pickup_stores(quantities: Mapping[int, int], *, lat=None, lng=None) -> list[PickupStore]:
    here = _location(lat, lng)
    stores = [_as_pickup(s, here) for s in _serving(quantities)]
    if here is not None:
        # Stores without a location go last, in the merchant's order (sorted is stable).
        stores.sort(key=lambda s: (s.distance_m is None, s.distance_m or 0))
    return stores


def pickup_store(store_id, quantities: Mapping[int, int]) -> PickupStore:
    store = _serving(quantities).filter(pk=store_id).first() if store_id else None
    if store is None:
        raise PickupUnavailable()
    return _as_pickup(store, None)


# --- verification (核销) ------------------------------------------------------------------------


def verifiable_store_ids(user) -> set[int] | None:
    """The stores whose pickups this user verifies: None means every store (staff with the
    核销 permission), an empty set means none."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_staff and user.has_perm("stores.verify_pickup"):
        return None
    return set(StoreStaff.objects.filter(user=user, is_active=True).values_list("store_id", flat=True))


def can_verify(user) -> bool:
    return verifiable_store_ids(user) != set()


def _clean(code) -> str:
    code = "".join(half_width(str(code or "")).split())
    if len(code) != CODE_LENGTH or whole_number(code) is None:
        raise PickupCodeInvalid(_("提货码为8位数字，请核对后重新输入"))
    return code


def find(user, code) -> Order:
    """The open pickup order this code opens, for this user's stores; refuses a wrong code,
    a used one, an unpaid order, or another store's code, each with its own message."""
    stores = verifiable_store_ids(user)
    if stores == set():
        raise PermissionDenied(_("您不是门店员工，不能核销提货码"))
    code = _clean(code)
    pickups = Order.objects.filter(fulfilment=Fulfilment.PICKUP, pickup_code=code)
    order = pickups.filter(status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.PENDING_SHIPMENT]).first()
    if order is None:
        used = pickups.filter(status=OrderStatus.COMPLETED)
        if stores is not None:
            used = used.filter(pickup_store_id__in=stores)
        done = used.order_by("-completed_at").first()
        if done is not None:
            when = done.picked_up_at or done.completed_at
            raise PickupCodeUsed(
                _("该提货码已于 %(when)s 核销，不能重复使用")
                % {"when": f"{timezone.localtime(when):%Y-%m-%d %H:%M}"}
                if when
                else None
            )
        raise PickupCodeInvalid()
    if stores is not None and order.pickup_store_id not in stores:
        name = Store.objects.filter(pk=order.pickup_store_id).values_list("name", flat=True).first() or ""
        raise PickupCodeInvalid(
            _("该提货码不是本店的订单（自提门店：%(store)s），请到对应门店提货") % {"store": name}
        )
    if order.status == OrderStatus.PENDING_PAYMENT:
        raise PickupCodeInvalid(_("该订单尚未付款，不能提货"))
    return order


def hand_over(order: Order) -> list[dict]:
    """What the counter hands over, line by line: what was bought less what was refunded
    (a unit refunded before pickup stays in the store), in line order, with a note on a
    line that had units refunded."""
    rows = []
    for line in order.lines.order_by("id"):
        note = ""
        if line.refunded_quantity:
            note = _("购买 %(bought)s 件，已退 %(refunded)s 件，只交付余下的") % {
                "bought": line.quantity,
                "refunded": line.refunded_quantity,
            }
        rows.append({"line": line, "quantity": max(line.quantity - line.refunded_quantity, 0), "note": note})
    return rows


def blocked_reason(order: Order) -> str:
    """Why verifying would be refused now (a group not yet formed, an open after-sale), said
    before staff try; `verify` checks it again under the order's lock."""
    if order.awaiting_group:
        return _("拼团尚未成功，暂不能提货")
    if order.after_sales.filter(status__in=OPEN_AFTER_SALE).exists():
        return _("订单有处理中的售后申请，请先处理售后")
    return ""


def verified_order(user, number) -> Order | None:
    """The pickup order `number` this user verified or may have (one of their stores),
    completed: what a page names after a confirmation, never a number taken on trust."""
    stores = verifiable_store_ids(user)
    if stores == set() or not number:
        return None
    orders = Order.objects.filter(
        number=str(number)[:32], fulfilment=Fulfilment.PICKUP, status=OrderStatus.COMPLETED
    )
    if stores is not None:
        orders = orders.filter(pickup_store_id__in=stores)
    return orders.only("pk", "number", "picked_up_at", "completed_at").first()


def verify(user, code) -> Order:
    """核销: the order completes once, however many times the code is entered at once. The
    buyer, at the counter now, becomes a member of the store (门店会员, source 到店自提) under
    the member mode, as a scan of its QR would make them; nobody is bound by it."""
    order = find(user, code)
    with transaction.atomic():
        order = lifecycle.complete_pickup(order, actor=user)
        store = Store.objects.get(pk=order.pickup_store_id)
        membership.join(store, order.buyer, MemberSource.PICKUP)
    return order
