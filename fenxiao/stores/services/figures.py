"""The store manager's page (/store/): members, sales, pickups, the till's sales and each
导购's figures.

Read in a fixed number of queries whatever the store's size: grouped counts and sums, one
short list. A store's sales are its paid orders attributed (level 1) to the store's own
account or to one of its staff, or picked up there once orders carry `pickup_store_id`.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from fenxiao.distribution.models import Commission, CommissionStatus, Distributor
from fenxiao.orders.models import Order

from ..models import Store, StoreMember, StoreStaff
from ..pos_models import OfflineSale

RECENT_MEMBERS = 10
PERIOD_DAYS = 30


def _order_has_pickup_store() -> bool:
    return any(f.attname == "pickup_store_id" for f in Order._meta.concrete_fields)


@dataclass
class GuideFigures:
    staff: StoreStaff
    distributor_id: int | None
    members: int = 0
    new_members: int = 0
    orders: int = 0
    sales: int = 0  # fen, paid net of refunds
    commission: int = 0  # fen, net, excluding cancelled


@dataclass
class StoreFigures:
    store: Store
    since: object
    members: int = 0
    new_members: int = 0
    orders: int = 0
    sales: int = 0
    pickups: int | None = None  # None until orders carry a pickup store
    till_sales: int | None = None  # the store's till sales (POS), None on a 导购's own page
    till_amount: int = 0  # fen, net of the till's returns
    recent: list = field(default_factory=list)
    guides: list[GuideFigures] = field(default_factory=list)


def stores_for(user) -> tuple[list[Store], StoreStaff | None]:
    """(stores the user manages, the user's guide role when they manage none)."""
    roles = list(
        StoreStaff.objects.select_related("store").filter(user=user, is_active=True).order_by("store_id")
    )
    managed = [r.store for r in roles if r.role == StoreStaff.Role.MANAGER]
    managed_ids = {s.pk for s in managed}
    managed += list(Store.objects.filter(manager=user).exclude(pk__in=managed_ids))
    guide = next((r for r in roles if r.role == StoreStaff.Role.GUIDE), None)
    return managed, (None if managed else guide)


def store_figures(store: Store, *, only: StoreStaff | None = None, now=None) -> StoreFigures:
    """The store's figures; with `only`, one 导购's own (members, orders, commission)."""
    now = now or timezone.now()
    since = now - timedelta(days=PERIOD_DAYS)
    staff_qs = StoreStaff.objects.select_related("user").filter(store=store)
    staff_qs = staff_qs.filter(pk=only.pk) if only else staff_qs.filter(is_active=True)
    staff = list(staff_qs.order_by("role", "id"))
    by_user = dict(
        Distributor.objects.filter(user_id__in=[s.user_id for s in staff]).values_list("user_id", "pk")
    )
    guides = [GuideFigures(staff=s, distributor_id=by_user.get(s.user_id)) for s in staff]
    figures = StoreFigures(store=store, since=since, guides=guides)

    members = StoreMember.objects.filter(store=store, is_current=True)
    if only:
        members = members.filter(staff=only)
    for staff_id, total, new in (
        members.values("staff_id")
        .annotate(total=Count("pk"), new=Count("pk", filter=Q(joined_at__gte=since)))
        .values_list("staff_id", "total", "new")
        .order_by()
    ):
        figures.members += total
        figures.new_members += new
        for g in guides:
            if g.staff.pk == staff_id:
                g.members, g.new_members = total, new
    figures.recent = list(
        members.select_related("buyer", "staff__user").order_by("-joined_at", "-pk")[:RECENT_MEMBERS]
    )

    sellers = [g.distributor_id for g in guides if g.distributor_id]
    if not only and store.distributor_id:
        sellers.append(store.distributor_id)
    where = Q(attribution__level1_id__in=sellers)
    has_pickup = _order_has_pickup_store()
    if has_pickup and not only:
        where |= Q(pickup_store_id=store.pk)
    paid = Order.objects.filter(where, paid_at__gte=since)
    by_seller = {
        row["attribution__level1_id"]: row
        for row in paid.values("attribution__level1_id")
        .order_by()
        .annotate(orders=Count("pk", distinct=True), sales=Sum(F("paid_amount") - F("refunded_amount")))
    }
    for row in by_seller.values():
        figures.orders += row["orders"]
        figures.sales += row["sales"] or 0
    for g in guides:
        row = by_seller.get(g.distributor_id)
        if row:
            g.orders, g.sales = row["orders"], row["sales"] or 0
    if has_pickup and not only:
        figures.pickups = Order.objects.filter(
            pickup_store_id=store.pk, status=Order.Status.COMPLETED, completed_at__gte=since
        ).count()
    if not only:
        # The till's sales (pushed by the store's POS), net of its returns as online sales
        # are of refunds: for a store with a till, most of what it sells.
        till = OfflineSale.objects.filter(store=store, sold_at__gte=since).aggregate(
            count=Count("pk"), net=Sum(F("total") - F("refunded_amount"))
        )
        figures.till_sales, figures.till_amount = till["count"], till["net"] or 0
    earned = dict(
        Commission.objects.filter(distributor_id__in=[g.distributor_id for g in guides if g.distributor_id])
        .filter(created_at__gte=since)
        .exclude(status=CommissionStatus.CANCELLED)
        .values("distributor_id")
        .annotate(net=Sum(F("amount") - F("reversed_amount")))
        .values_list("distributor_id", "net")
    )
    for g in guides:
        g.commission = earned.get(g.distributor_id, 0) or 0
    return figures
