"""Whether a store may be deleted, and why not.

Invariant: deleting a store never takes its history with it. What hangs on a store goes with
it or is left pointing nowhere: its staff (and so the members each guide brought), its
members, the pickup orders addressed to it (orders keep the store's id without a foreign key,
so a waiting one could no longer be verified) and its till sales. A store with any of them is
kept, and closed instead (营业中 and 支持到店自提 off), which hides it from buyers and keeps
all of it. Only a store that never traded (one added by mistake) is deleted.
"""

from django.db.models import Count
from django.utils.translation import gettext as _

from fenxiao.orders.models import Fulfilment, Order

from ..models import StoreMember, StoreStaff
from ..pos_models import OfflineSale


def _counts(model, field: str, ids: list[int]) -> dict[int, int]:
    rows = model.objects.filter(**{f"{field}__in": ids}).order_by().values(field).annotate(n=Count("pk"))
    return {row[field]: row["n"] for row in rows}


def why_kept(store_ids) -> dict[int, str]:
    """{store id: what it has, e.g. "员工 2 人、自提订单 3 笔"} for each store that must not be
    deleted; stores absent from the answer may go. Four grouped queries, however many stores."""
    ids = sorted({int(pk) for pk in store_ids})
    if not ids:
        return {}
    kinds = (
        (_counts(StoreStaff, "store_id", ids), _("员工 %(count)s 人")),
        (_counts(StoreMember, "store_id", ids), _("会员 %(count)s 人")),
        (_pickup_counts(ids), _("自提订单 %(count)s 笔")),
        (_counts(OfflineSale, "store_id", ids), _("门店销售 %(count)s 笔")),
    )
    kept = {}
    for pk in ids:
        parts = [text % {"count": counts[pk]} for counts, text in kinds if counts.get(pk)]
        if parts:
            kept[pk] = _("、").join(parts)
    return kept


def _pickup_counts(ids: list[int]) -> dict[int, int]:
    rows = (
        Order.objects.filter(fulfilment=Fulfilment.PICKUP, pickup_store_id__in=ids)
        .order_by()
        .values("pickup_store_id")
        .annotate(n=Count("pk"))
    )
    return {row["pickup_store_id"]: row["n"] for row in rows}
