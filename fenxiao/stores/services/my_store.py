"""我的门店: what a buyer sees of the store they count for (the current `StoreMember` row, see
`membership.join`), on the H5 page under 我的 and in the app's `GET /stores/mine`.

Invariant: one query whatever the store holds (members, staff, stock), and nothing of the
staff beyond what a buyer may know: the 导购 who looks after them by name only (their
nickname; never a phone, not even masked), and only while that 导购 still works there, since
one who left looks after nobody.
"""

from dataclasses import dataclass
from datetime import datetime

from ..models import Store, StoreMember


@dataclass(frozen=True)
class MyStore:
    store: Store
    joined_at: datetime
    source: str  # MemberSource: how the buyer joined
    source_label: str
    has_guide: bool  # a 导购 still at the store looks after the buyer
    guide_name: str  # the 导购's nickname; "" when they have none (their phone stays out)

    @property
    def pickup_offered(self) -> bool:
        """到店自提 as checkout offers it: only at an open store that takes pickups."""
        return self.store.is_open and self.store.pickup_enabled


def for_buyer(buyer) -> MyStore | None:
    """The buyer's store, or None when they joined none."""
    if buyer is None or not buyer.is_authenticated:
        return None
    member = (
        StoreMember.objects.select_related("store", "staff__user")
        .filter(buyer=buyer, is_current=True)
        .order_by("-pk")
        .first()
    )
    if member is None:
        return None
    staff = member.staff
    looked_after = staff is not None and staff.is_active and staff.store_id == member.store_id
    return MyStore(
        store=member.store,
        joined_at=member.joined_at,
        source=member.source,
        source_label=member.get_source_display(),
        has_guide=looked_after,
        guide_name=(staff.user.nickname or "").strip() if looked_after else "",
    )


def current_store_name(buyer) -> str | None:
    """The name of the buyer's store for the 我的 entry (one short query), None without one."""
    return (
        StoreMember.objects.filter(buyer=buyer, is_current=True)
        .order_by("-pk")
        .values_list("store__name", flat=True)
        .first()
    )
