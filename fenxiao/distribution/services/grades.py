"""Grade upgrades: measured in bulk, upgrade only, never down automatically."""

from django.db.models import Count, F, Max, Q, Sum

from ..models import ConditionLogic, Distributor, DistributorStatus, LedgerEntry, LedgerKind


def metrics(distributor_ids) -> dict[int, dict[str, int]]:
    """The upgrade measures of many distributors in a fixed number of queries."""
    from fenxiao.orders.models import Order

    ids = list(distributor_ids)
    result = {
        pk: {
            "min_own_sales": 0,
            "min_own_orders": 0,
            "min_single_order": 0,
            "min_direct_team": 0,
            "min_team_sales": 0,
            "min_team_orders": 0,
            "min_settled_commission": 0,
        }
        for pk in ids
    }
    paid = Order.objects.filter(paid_at__isnull=False)
    for row in (
        paid.filter(attribution__level1_id__in=ids)
        .values("attribution__level1_id")
        .annotate(
            paid=Sum("paid_amount"),
            refunded=Sum("refunded_amount"),
            # What the buyer kept: a fully refunded order counts 0, a partial refund its rest.
            biggest=Max(F("paid_amount") - F("refunded_amount")),
            completed=Count("pk", filter=Q(status=Order.Status.COMPLETED)),
        )
    ):
        m = result[row["attribution__level1_id"]]
        m["min_own_sales"] = (row["paid"] or 0) - (row["refunded"] or 0)
        m["min_single_order"] = row["biggest"] or 0
        m["min_own_orders"] = row["completed"]
    for row in (
        Distributor.objects.filter(parent_id__in=ids, status=DistributorStatus.ACTIVE)
        .values("parent_id")
        .annotate(n=Count("pk"))
    ):
        result[row["parent_id"]]["min_direct_team"] = row["n"]
    for row in (
        paid.filter(attribution__level1__parent_id__in=ids)
        .values("attribution__level1__parent_id")
        .annotate(
            paid=Sum("paid_amount"),
            refunded=Sum("refunded_amount"),
            completed=Count("pk", filter=Q(status=Order.Status.COMPLETED)),
        )
    ):
        m = result[row["attribution__level1__parent_id"]]
        m["min_team_sales"] = (row["paid"] or 0) - (row["refunded"] or 0)
        m["min_team_orders"] = row["completed"]
    for row in (
        LedgerEntry.objects.filter(
            distributor_id__in=ids, kind__in=[LedgerKind.COMMISSION, LedgerKind.CLAWBACK]
        )
        .values("distributor_id")
        .annotate(total=Sum("amount"))
    ):
        result[row["distributor_id"]]["min_settled_commission"] = row["total"] or 0
    return result


def qualifies(grade, measured: dict[str, int]) -> bool:
    checks = [
        measured[field] >= getattr(grade, field)
        for field in grade.CONDITION_FIELDS
        if getattr(grade, field) is not None
    ]
    if not checks:
        return False  # a grade without conditions is reached only by hand
    return all(checks) if grade.logic == ConditionLogic.ALL else any(checks)


def upgrade(distributor_ids=None) -> list[Distributor]:
    from ..models import DistributorGrade

    grades = sorted(DistributorGrade.objects.all(), key=lambda g: -g.weight)
    if not grades:
        return []
    qs = Distributor.objects.select_related("grade").filter(status=DistributorStatus.ACTIVE)
    if distributor_ids is not None:
        qs = qs.filter(pk__in=list(distributor_ids))
    distributors = list(qs)
    measured = metrics(d.pk for d in distributors)
    upgraded = []
    for distributor in distributors:
        current_weight = distributor.grade.weight if distributor.grade else -1
        for grade in grades:
            if grade.weight <= current_weight:
                break
            if qualifies(grade, measured[distributor.pk]):
                Distributor.objects.filter(pk=distributor.pk).update(grade=grade)
                distributor.grade = grade
                upgraded.append(distributor)
                break
    return upgraded


def upgrade_after_settlement(distributor_ids) -> list[Distributor]:
    return upgrade(distributor_ids) if distributor_ids else []
