"""The store-level level-1 rate for 导购, answered for the distribution engine
(`distribution.services.store_rules`, registered in `StoresConfig.ready`)."""

from ..models import Store, StoreStaff


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
