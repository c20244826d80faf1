"""Grade upgrades: measured in bulk, upgrade only, never down automatically.

Because an upgrade is never undone, every measure counts only what cannot be taken back
any more by the buyer alone: orders received (completed), each for what the buyer kept
(paid less refunded), and an order refunded in full not at all. An order paid but not
yet received may still be cancelled with a full refund, so it counts once it is received,
not before. Till sales are complete at the till and count the same way, net of returns."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum

from fenxiao.notices.services import events as notices

from ..models import (
    ConditionLogic,
    Distributor,
    DistributorGrade,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
)

CHUNK_SIZE = 1000


# The measures each grouped read gives (see `metrics`).
OWN_MEASURES = {"min_own_sales", "min_own_orders", "min_single_order"}
TEAM_MEASURES = {"min_team_sales", "min_team_orders"}


def metrics(distributor_ids, measures: Iterable[str] | None = None) -> dict[int, dict[str, int]]:
    """The upgrade measures of many distributors in a fixed number of queries: all of them,
    or only `measures` (the ones the grades' conditions name; the rest stay 0). Each is a
    read over the distributors' whole history, so a shop whose grades ask only for, say,
    settled commission does not also read every order they ever brought."""
    ids = list(distributor_ids)
    result = {pk: dict.fromkeys(DistributorGrade.CONDITION_FIELDS, 0) for pk in ids}
    wanted = set(DistributorGrade.CONDITION_FIELDS if measures is None else measures)
    if not ids:
        return result
    if wanted & OWN_MEASURES:
        _own_sales(result, ids)
    if "min_direct_team" in wanted:
        for row in (
            Distributor.objects.filter(parent_id__in=ids, status=DistributorStatus.ACTIVE)
            .values("parent_id")
            .annotate(n=Count("pk"))
        ):
            result[row["parent_id"]]["min_direct_team"] = row["n"]
    if wanted & TEAM_MEASURES:
        _team_sales(result, ids)
    if "min_settled_commission" in wanted:
        for row in (
            LedgerEntry.objects.filter(
                distributor_id__in=ids, kind__in=[LedgerKind.COMMISSION, LedgerKind.CLAWBACK]
            )
            .values("distributor_id")
            .annotate(total=Sum("amount"))
        ):
            result[row["distributor_id"]]["min_settled_commission"] = row["total"] or 0
    return result


# Orders and till sales (门店收银) count alike: their amount net of refunds (returns) for own
# and team sales, each one not wholly refunded as an order, the biggest kept as a single order.
_ORDER_KEPT = F("paid_amount") - F("refunded_amount")
_ORDER_MEASURES = {
    "sales": Sum(_ORDER_KEPT),
    "kept": Count("pk", filter=Q(refunded_amount__lt=F("paid_amount"))),
}
_TILL_KEPT = F("total") - F("refunded")
_TILL_MEASURES = {"sales": Sum(_TILL_KEPT), "kept": Count("pk", filter=Q(refunded__lt=F("total")))}


def _received_orders():
    """Orders the buyer has received: only these count (see the module's docstring). Read
    from the attribution's level-1 index, joined to orders by key, as before."""
    from fenxiao.orders.models import Order

    return Order.objects.filter(status=Order.Status.COMPLETED)


def _own_sales(result: dict[int, dict[str, int]], ids: list[int]) -> None:
    """Orders the distributors brought (level 1), then their till sales: two queries."""
    for row in (
        _received_orders()
        .filter(attribution__level1_id__in=ids)
        .values("attribution__level1_id")
        .annotate(**_ORDER_MEASURES, biggest=Max(_ORDER_KEPT))
    ):
        m = result[row["attribution__level1_id"]]
        m["min_own_sales"] = row["sales"] or 0
        m["min_single_order"] = row["biggest"] or 0
        m["min_own_orders"] = row["kept"]
    for row in (
        OfflineAttribution.objects.filter(level1_id__in=ids)
        .values("level1_id")
        .annotate(**_TILL_MEASURES, biggest=Max(_TILL_KEPT))
    ):
        m = result[row["level1_id"]]
        m["min_own_sales"] += row["sales"] or 0
        m["min_own_orders"] += row["kept"]
        m["min_single_order"] = max(m["min_single_order"], row["biggest"] or 0)


def _team_sales(result: dict[int, dict[str, int]], ids: list[int]) -> None:
    """Orders and till sales of the distributors' direct team: two queries."""
    for row in (
        _received_orders()
        .filter(attribution__level1__parent_id__in=ids)
        .values("attribution__level1__parent_id")
        .annotate(**_ORDER_MEASURES)
    ):
        m = result[row["attribution__level1__parent_id"]]
        m["min_team_sales"] = row["sales"] or 0
        m["min_team_orders"] = row["kept"]
    for row in (
        OfflineAttribution.objects.filter(level1__parent_id__in=ids)
        .values("level1__parent_id")
        .annotate(**_TILL_MEASURES)
    ):
        m = result[row["level1__parent_id"]]
        m["min_team_sales"] += row["sales"] or 0
        m["min_team_orders"] += row["kept"]


def qualifies(grade, measured: dict[str, int]) -> bool:
    checks = [
        measured[field] >= getattr(grade, field)
        for field in grade.CONDITION_FIELDS
        if getattr(grade, field) is not None
    ]
    if not checks:
        return False  # a grade without conditions is reached only by hand
    return all(checks) if grade.logic == ConditionLogic.ALL else any(checks)


def target_grade(grades_high_first, current_weight: int, measured: dict[str, int]):
    """The highest grade above `current_weight` whose conditions are met, or None: the rule
    for one distributor (only up, never down; a grade without conditions only by hand)."""
    for grade in grades_high_first:
        if grade.weight <= current_weight:
            return None
        if qualifies(grade, measured):
            return grade
    return None


def upgrade(distributor_ids=None, *, chunk_size: int | None = None) -> list[Distributor]:
    """Upgrade every active distributor (or those of `distributor_ids`) to the highest grade
    they qualify for. A chunk of distributors at a time: their measures in a fixed number of
    grouped queries (`metrics`), then one UPDATE per grade they move to. Returns the
    distributors upgraded, with their new grade."""
    grades = sorted(DistributorGrade.objects.all(), key=lambda g: -g.weight)
    if not grades:
        return []
    active = Distributor.objects.filter(status=DistributorStatus.ACTIVE).only("pk", "grade_id", "user_id")
    active = active.order_by("pk")
    size = chunk_size or CHUNK_SIZE
    upgraded: list[Distributor] = []
    if distributor_ids is not None:  # after a settlement: the distributors it paid
        ids = sorted(set(distributor_ids))
        for start in range(0, len(ids), size):
            upgraded += _upgrade_chunk(list(active.filter(pk__in=ids[start : start + size])), grades)
        return upgraded
    after = 0
    while True:
        chunk = list(active.filter(pk__gt=after)[:size])
        upgraded += _upgrade_chunk(chunk, grades)
        if len(chunk) < size:
            return upgraded
        after = chunk[-1].pk


def _upgrade_chunk(chunk: list[Distributor], grades) -> list[Distributor]:
    if not chunk:
        return []
    weight_of = {g.pk: g.weight for g in grades}
    asked = {field for g in grades for field in g.CONDITION_FIELDS if getattr(g, field) is not None}
    measured = metrics((d.pk for d in chunk), asked)
    moving: dict[int, list[Distributor]] = {}
    for distributor in chunk:
        target = target_grade(grades, weight_of.get(distributor.grade_id, -1), measured[distributor.pk])
        if target is not None:
            moving.setdefault(target.pk, []).append(distributor)
    upgraded = []
    with transaction.atomic():
        for grade in grades:
            group = moving.get(grade.pk)
            if not group:
                continue
            # Still active and still below the target when written: a grade staff set by hand
            # a moment ago (or a suspension) is never overwritten by a lower one.
            below = [g.pk for g in grades if g.weight < grade.weight]
            ids = [d.pk for d in group]
            written = Distributor.objects.filter(
                Q(grade__isnull=True) | Q(grade_id__in=below), pk__in=ids, status=DistributorStatus.ACTIVE
            ).update(grade=grade)
            if written != len(group):  # rare: say only what was really upgraded
                really = set(Distributor.objects.filter(pk__in=ids, grade=grade).values_list("pk", flat=True))
                group = [d for d in group if d.pk in really]
            for distributor in group:
                distributor.grade = grade
            upgraded += group
        # The distributor hears of it (消息中心, and WeChat where set up) with the upgrade.
        notices.grades_upgraded((d.user_id, d.pk, d.grade.pk, d.grade.name) for d in upgraded)
    return upgraded


def upgrade_after_settlement(distributor_ids) -> list[Distributor]:
    return upgrade(distributor_ids) if distributor_ids else []
