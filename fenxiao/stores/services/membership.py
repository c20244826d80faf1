"""Store QR scans: a buyer becomes a member of the store and is bound under the store rules.

Which store a buyer counts for is `StoreSettings.member_mode`: the first store they joined,
or the latest. Every store a buyer joined keeps its row (`StoreMember`); exactly one row per
buyer is current, kept so under the buyer's row lock (the same lock the binding takes).

Binding goes through the distribution binding service, so the shop's binding rules (first /
latest with protection / expiring, new buyers only, no self-binding, no loops) still decide,
and every decision is on the buyer's binding history. The store setting can only bind less:
with `override_binding` off a buyer already bound to a distributor keeps them.

With `member_distributor` on, a scan also makes a buyer who has no distributor account one,
in the team of whoever the scan bound them to (SPEC: "become a member (and optionally a
distributor)").

"Bound to the store itself" binds to the store's own distributor account: the store
manager's distributor account, made (指定分销) the first time it is needed and kept on the
store, so a later change of manager does not move the customers already bound.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from fenxiao.distribution.models import Distributor, Touch, TouchSource
from fenxiao.distribution.services import binding, distributors

from ..errors import StaffNotFound, StoreClosed, StoreNotFound
from ..models import BindTarget, MemberMode, MemberSource, Store, StoreMember, StoreSettings, StoreStaff


def settings() -> StoreSettings:
    obj = StoreSettings.objects.order_by("pk").first()
    if obj is None:
        obj, _ = StoreSettings.objects.get_or_create(pk=1)
    return obj


def resolve_codes(store_code: str, staff_code: str | None = None) -> tuple[Store, StoreStaff | None]:
    """The store and staff member a QR's codes name. A closed store's code is refused
    (`StoreClosed`); the code of a 导购 who has left is the store's own: their posters stay on
    counters and in chats, and a buyer scanning one joins the store, looked after by nobody."""
    store = Store.objects.select_related("distributor").filter(code=(store_code or "").upper()).first()
    if store is None:
        raise StoreNotFound()
    if not store.is_open:
        raise StoreClosed(_("%(store)s已停止营业") % {"store": store.name})
    staff = None
    if staff_code:
        staff = (
            StoreStaff.objects.select_related("user__distributor")
            .filter(store=store, code=staff_code.upper())
            .first()
        )
        if staff is None:
            raise StaffNotFound()
        if not staff.is_active:
            staff = None
    return store, staff


def store_distributor(store: Store) -> Distributor | None:
    """The store's own account to bind to: kept on the store, else the manager's, made now."""
    if store.distributor_id:
        return store.distributor
    if store.manager_id is None:
        return None
    distributor = distributors.designate(store.manager, None)
    Store.objects.filter(pk=store.pk, distributor__isnull=True).update(distributor=distributor)
    store.refresh_from_db(fields=["distributor"])
    return store.distributor


def staff_distributor(staff: StoreStaff) -> Distributor | None:
    distributor = Distributor.objects.filter(user_id=staff.user_id).first()
    if distributor is None or distributor.status != Distributor.Status.ACTIVE:
        return None
    return distributor


def bind_target(
    store: Store, staff: StoreStaff | None, cfg: StoreSettings | None = None
) -> Distributor | None:
    """Who a scan binds the buyer to, under the bind mode (None: nobody)."""
    cfg = cfg or settings()
    if cfg.bind_target == BindTarget.NONE:
        return None
    if staff is not None and cfg.bind_target == BindTarget.STAFF:
        # A 导购 who is not an (approved) distributor earns nothing: the store gets the buyer.
        return staff_distributor(staff) or store_distributor(store)
    return store_distributor(store)


@dataclass
class ScanResult:
    member: StoreMember | None  # the buyer's current membership after the scan
    joined: bool  # the scan made the buyer a member of this store now
    touch: Touch | None  # the binding decision, None when the mode binds nobody
    became_distributor: Distributor | None = None  # made a distributor by this scan


@transaction.atomic
def join(
    store: Store, buyer, source: str, staff: StoreStaff | None = None
) -> tuple[StoreMember | None, bool]:
    """Make `buyer` a member of `store` under the member mode; (current membership, joined now)."""
    cfg = settings()
    get_user_model().objects.select_for_update().filter(pk=buyer.pk).first()
    rows = {m.store_id: m for m in StoreMember.objects.filter(buyer=buyer)}
    current = next((m for m in rows.values() if m.is_current), None)
    mine = rows.get(store.pk)
    if current is not None and (cfg.member_mode == MemberMode.FIRST or current.store_id == store.pk):
        if current.store_id == store.pk and staff is not None and current.staff_id is None:
            # Joined by the store QR, now scanned a 导购's: the 导购 looks after them.
            StoreMember.objects.filter(pk=current.pk).update(staff=staff)
            current.staff = staff
        return current, False
    StoreMember.objects.filter(buyer=buyer, is_current=True).update(is_current=False)
    if mine is not None:
        StoreMember.objects.filter(pk=mine.pk).update(is_current=True, staff=staff or mine.staff)
        mine.refresh_from_db()
        return mine, True
    member = StoreMember.objects.create(store=store, buyer=buyer, source=source, staff=staff, is_current=True)
    return member, True


def scan(buyer, store: Store, staff: StoreStaff | None = None, *, target: str = "/") -> ScanResult:
    """A signed-in buyer opened a store QR (`/s/<store>/` or `/s/<store>/<staff>/`)."""
    cfg = settings()
    source = MemberSource.STAFF_QR if staff is not None else MemberSource.STORE_QR
    with transaction.atomic():
        member, joined = join(store, buyer, source, staff)
        distributor = bind_target(store, staff, cfg)
        touch = None
        if distributor is not None:
            touch = binding.record_touch(
                buyer, distributor, TouchSource.STORE, target=target, keep_existing=not cfg.override_binding
            )
        became = None
        if cfg.member_distributor and not Distributor.objects.filter(user=buyer).exists():
            became = distributors.join_through_store(buyer)
    return ScanResult(member=member, joined=joined, touch=touch, became_distributor=became)


def current_store_id(buyer) -> int | None:
    return StoreMember.objects.filter(buyer=buyer, is_current=True).values_list("store_id", flat=True).first()
