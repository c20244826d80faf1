"""The store-level level-1 rate for 导购: answered for the distribution engine
(`distribution.services.store_rules`, registered in `StoresConfig.ready`), and changed only
through `set_guide_rate`.

Invariant: no saved store rate can make a line pay more than the guard (单商品佣金上限). The
rate replaces level 1 for the store's 导购 while levels 2 and 3, the tier bonus and team
commission still pay, so it is checked with them by the same worst-combination guard that
holds every commission rule, grade and tier; the engine reads the highest store rate through
the port, so a later change of those rules is held to the stores' rates too.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from fenxiao.distribution.errors import RuleExceedsGuard
from fenxiao.distribution.services import commission_guard

from ..errors import GuideRateInvalid
from ..models import MAX_GUIDE_BP, Store, StoreStaff


def level1_rates(distributor_ids: set[int]) -> dict[int, tuple[int, str]]:
    """{distributor id: (bp, store name)} for distributors selling for a store with its own
    rate: the store's own account, or an active staff member of it. One query (a UNION); a
    distributor in several such stores gets the rate of the first store (by id)."""
    own = (
        Store.objects.filter(guide_level1_bp__isnull=False, distributor_id__in=distributor_ids)
        .order_by()
        .values_list("pk", "distributor_id", "guide_level1_bp", "name")
    )
    staff = (
        StoreStaff.objects.filter(
            is_active=True, store__guide_level1_bp__isnull=False, user__distributor__id__in=distributor_ids
        )
        .order_by()
        .values_list("store_id", "user__distributor__id", "store__guide_level1_bp", "store__name")
    )
    found: dict[int, tuple[int, str]] = {}
    for _store_id, distributor_id, bp, name in sorted(own.union(staff, all=True)):
        found.setdefault(distributor_id, (bp, name))
    return found


def highest_level1_rate() -> tuple[int, str] | None:
    """(bp, store name) of the store paying its 导购 the highest rate, for the guard."""
    row = (
        Store.objects.filter(guide_level1_bp__isnull=False)
        .order_by("-guide_level1_bp", "pk")
        .values_list("guide_level1_bp", "name")
        .first()
    )
    return tuple(row) if row else None


@transaction.atomic
def set_guide_rate(store: Store, bp: int | None) -> Store:
    """Set (or, with None, clear) `store`'s own level-1 rate for its 导购, in basis points.

    Refused with the reason, and nothing kept, when it is not 0–100 % or when it could take a
    line past the guard. Lowering or clearing a rate never needs the guard."""
    if bp is not None and (not isinstance(bp, int) or isinstance(bp, bool) or not 0 <= bp <= MAX_GUIDE_BP):
        raise GuideRateInvalid()
    before = Store.objects.select_for_update().filter(pk=store.pk).values_list("guide_level1_bp", flat=True)
    before = before.first()
    Store.objects.filter(pk=store.pk).update(guide_level1_bp=bp)
    if bp is not None and (before is None or bp > before):
        try:
            commission_guard.check_worst_combination()  # reads the saved rate: raising rolls it back
        except RuleExceedsGuard as exc:
            raise RuleExceedsGuard(
                _("门店“%(store)s”的导购一级佣金比例不能设为 %(rate)s。%(why)s")
                % {"store": store.name, "rate": f"{bp / 100:g}%", "why": exc.message}
            ) from exc
    store.guide_level1_bp = bp
    return store
