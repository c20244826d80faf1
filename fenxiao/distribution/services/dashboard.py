"""What a distributor sees: figures, commission with its "why", team, rankings.

Each figure is one aggregate query, so the dashboard costs the same whether a distributor
has three commissions or thirty thousand.
"""

from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from fenxiao.core.money import format_fen

from ..models import (
    Commission,
    CommissionStatus,
    CustomerBinding,
    Distributor,
    LedgerEntry,
    RuleKind,
    Withdrawal,
    WithdrawalStatus,
)


def figures(distributor: Distributor) -> dict:
    from fenxiao.orders.models import Order

    team = Distributor.objects.aggregate(
        direct=Count("pk", filter=Q(parent_id=distributor.pk)),
        indirect=Count("pk", filter=Q(parent__parent_id=distributor.pk)),
    )
    orders = Order.objects.filter(attribution__level1_id=distributor.pk, paid_at__isnull=False).aggregate(
        n=Count("pk"), paid=Sum("paid_amount"), refunded=Sum("refunded_amount")
    )
    money = Commission.objects.filter(distributor=distributor).aggregate(
        pending=Sum("amount", filter=Q(status=CommissionStatus.PENDING)),
        pending_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.PENDING)),
        frozen=Sum("amount", filter=Q(status=CommissionStatus.FROZEN)),
        frozen_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.FROZEN)),
        settled=Sum("amount", filter=Q(status=CommissionStatus.SETTLED)),
        settled_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.SETTLED)),
    )
    available = (
        LedgerEntry.objects.filter(distributor=distributor).aggregate(total=Sum("amount"))["total"] or 0
    )
    withdrawn = (
        Withdrawal.objects.filter(distributor=distributor, status=WithdrawalStatus.PAID).aggregate(
            total=Sum("amount")
        )["total"]
        or 0
    )

    def net(key):
        return (money[key] or 0) - (money[f"{key}_rev"] or 0)

    estimated = net("pending") + net("frozen")
    settled = net("settled")
    return {
        "bound_buyers": CustomerBinding.objects.filter(distributor=distributor).count(),
        "team_direct": team["direct"],
        "team_indirect": team["indirect"],
        "orders": orders["n"],
        "sales": (orders["paid"] or 0) - (orders["refunded"] or 0),
        "commission_pending": net("pending"),
        "commission_frozen": net("frozen"),
        "commission_estimated": estimated,
        "commission_available": available,
        "commission_withdrawn": withdrawn,
        "commission_total": estimated + settled,
    }


def why(commission: Commission) -> str:
    """ "Why ¥X": the base, its discount share, the level, the rule — in one sentence."""
    line = commission.order_line
    parts = [f"订单商品实付 {format_fen(commission.base)}"]
    if line.discount_share:
        parts[0] += f"（小计 {format_fen(line.subtotal)}，分摊优惠 {format_fen(line.discount_share)}）"
    level = f"{commission.level}级佣金"
    if commission.rule_kind == RuleKind.FIXED:
        formula = f"{format_fen(commission.fixed_per_unit)}/件 × {commission.quantity}件"
    else:
        formula = f"{commission.rate_bp / 100:g}%"
    extras = []
    if commission.bonus_bp:
        extras.append(f"阶梯奖励 +{commission.bonus_bp / 100:g}%")
    if commission.team_bp:
        extras.append(f"团队佣金 +{commission.team_bp / 100:g}%")
    source = commission.get_rule_source_display()
    if commission.rule_id or commission.rule_name:
        source += f"“{rule_name(commission)}” v{commission.rule_version}"
    text = f"{'，'.join(parts)}；{level}按{source}：{formula}"
    if extras:
        text += "，" + "，".join(extras)
    if commission.capped:
        text += f"；超出单商品佣金上限，扣减 {format_fen(commission.capped)}"
    text += f" = {format_fen(commission.amount)}"
    if commission.reversed_amount:
        text += (
            f"；退款冲减 {format_fen(commission.reversed_amount)}，实得 {format_fen(commission.net_amount)}"
        )
    return text


def rule_name(commission: Commission) -> str:
    """The rule's name as it was when the commission was computed, not as it is now."""
    if commission.rule_name:
        return commission.rule_name
    return commission.rule.name if commission.rule_id else ""


def for_order(commissions_qs, order: str):
    """Narrow commissions to one order, named by its number or its id."""
    order = (order or "").strip()
    match = Q(order__number=order)
    if order.isdigit() and len(order) <= 18:
        match |= Q(order_id=int(order))
    return commissions_qs.filter(match)


def commissions(distributor: Distributor):
    return (
        Commission.objects.filter(distributor=distributor)
        .select_related("order", "order_line", "rule")
        .order_by("-id")
    )


def team(distributor: Distributor, depth: int = 1):
    """Direct (depth 1) or indirect (depth 2) team members."""
    field = "parent_id" if depth == 1 else "parent__parent_id"
    return (
        Distributor.objects.filter(**{field: distributor.pk}).select_related("user", "grade").order_by("-id")
    )


def member_stats(member_ids) -> dict[int, dict]:
    """Paid sales, orders and team size of a page of members, in two queries."""
    from fenxiao.orders.models import Order

    ids = list(member_ids)
    stats = {pk: {"sales": 0, "orders": 0, "members": 0} for pk in ids}
    for row in (
        Order.objects.filter(attribution__level1_id__in=ids, paid_at__isnull=False)
        .values("attribution__level1_id")
        .annotate(paid=Sum("paid_amount"), refunded=Sum("refunded_amount"), n=Count("pk"))
    ):
        stats[row["attribution__level1_id"]].update(
            sales=(row["paid"] or 0) - (row["refunded"] or 0), orders=row["n"]
        )
    for row in Distributor.objects.filter(parent_id__in=ids).values("parent_id").annotate(n=Count("pk")):
        stats[row["parent_id"]]["members"] = row["n"]
    return stats


def period_since(period: str, now=None):
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return start - timedelta(days=start.weekday())
    return start.replace(day=1)


def ranking(by: str, period: str, limit: int = 20) -> list[dict]:
    from fenxiao.orders.models import Order

    since = period_since(period)
    if by == "commission":
        rows = (
            Commission.objects.filter(created_at__gte=since)
            .exclude(status=CommissionStatus.CANCELLED)
            .values("distributor_id")
            .annotate(value=Sum("amount") - Sum("reversed_amount"))
            .order_by("-value")[:limit]
        )
    else:
        rows = (
            Order.objects.filter(paid_at__gte=since, attribution__level1__isnull=False)
            .values(distributor_id=F("attribution__level1_id"))
            .annotate(value=Sum("paid_amount") - Sum("refunded_amount"))
            .order_by("-value")[:limit]
        )
    rows = list(rows)
    people = {
        d.pk: d
        for d in Distributor.objects.select_related("user", "grade").filter(
            pk__in=[r["distributor_id"] for r in rows]
        )
    }
    return [
        {
            "rank": i + 1,
            "distributor_id": r["distributor_id"],
            "name": people[r["distributor_id"]].user.display_name,
            "grade": people[r["distributor_id"]].grade.name if people[r["distributor_id"]].grade else "",
            "value": r["value"] or 0,
        }
        for i, r in enumerate(rows)
    ]


def figures_for_page(distributor_ids) -> dict[int, dict]:
    """`figures()` for a page of distributors (the backend list) in seven queries, whatever
    the page size: one grouped aggregate per figure instead of seven queries per row."""
    from fenxiao.orders.models import Order

    ids = list(distributor_ids)
    result = {
        pk: {
            "bound_buyers": 0,
            "team_direct": 0,
            "team_indirect": 0,
            "orders": 0,
            "sales": 0,
            "commission_pending": 0,
            "commission_frozen": 0,
            "commission_estimated": 0,
            "commission_available": 0,
            "commission_withdrawn": 0,
            "commission_total": 0,
        }
        for pk in ids
    }
    if not ids:
        return result
    for row in (
        CustomerBinding.objects.filter(distributor_id__in=ids)
        .values("distributor_id")
        .annotate(n=Count("pk"))
    ):
        result[row["distributor_id"]]["bound_buyers"] = row["n"]
    for row in Distributor.objects.filter(parent_id__in=ids).values("parent_id").annotate(n=Count("pk")):
        result[row["parent_id"]]["team_direct"] = row["n"]
    for row in (
        Distributor.objects.filter(parent__parent_id__in=ids)
        .values("parent__parent_id")
        .annotate(n=Count("pk"))
    ):
        result[row["parent__parent_id"]]["team_indirect"] = row["n"]
    for row in (
        Order.objects.filter(attribution__level1_id__in=ids, paid_at__isnull=False)
        .values("attribution__level1_id")
        .annotate(n=Count("pk"), paid=Sum("paid_amount"), refunded=Sum("refunded_amount"))
    ):
        result[row["attribution__level1_id"]].update(
            orders=row["n"], sales=(row["paid"] or 0) - (row["refunded"] or 0)
        )
    for row in (
        Commission.objects.filter(distributor_id__in=ids)
        .values("distributor_id")
        .annotate(
            pending=Sum("amount", filter=Q(status=CommissionStatus.PENDING)),
            pending_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.PENDING)),
            frozen=Sum("amount", filter=Q(status=CommissionStatus.FROZEN)),
            frozen_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.FROZEN)),
            settled=Sum("amount", filter=Q(status=CommissionStatus.SETTLED)),
            settled_rev=Sum("reversed_amount", filter=Q(status=CommissionStatus.SETTLED)),
        )
    ):

        def net(key, row=row):
            return (row[key] or 0) - (row[f"{key}_rev"] or 0)

        estimated = net("pending") + net("frozen")
        result[row["distributor_id"]].update(
            commission_pending=net("pending"),
            commission_frozen=net("frozen"),
            commission_estimated=estimated,
            commission_total=estimated + net("settled"),
        )
    for row in (
        LedgerEntry.objects.filter(distributor_id__in=ids)
        .values("distributor_id")
        .annotate(total=Sum("amount"))
    ):
        result[row["distributor_id"]]["commission_available"] = row["total"] or 0
    for row in (
        Withdrawal.objects.filter(distributor_id__in=ids, status=WithdrawalStatus.PAID)
        .values("distributor_id")
        .annotate(total=Sum("amount"))
    ):
        result[row["distributor_id"]]["commission_withdrawn"] = row["total"] or 0
    return result
