"""What a distributor sees: figures, commission with its "why", team, rankings.

The money and sales figures are the distributor's running totals (`totals`, one row kept
up to date by every service that changes them), so the dashboard costs the same whether a
distributor has three commissions or three hundred thousand; the team figures read one
parent's members from the (parent, status) index instead of scanning every distributor.

The team is the distributors who are active now: applicants (pending or rejected),
suspended and banned members are not counted, the same rule the grade conditions use. The
bound buyers are those whose binding has not expired.
"""

from datetime import timedelta

from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import format_fen
from fenxiao.core.numbers import whole_number
from fenxiao.orders.models import PRICE_KINDS, DiscountKind

from ..models import (
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    CustomerBinding,
    Distributor,
    DistributorStatus,
    OfflineAttribution,
    RuleKind,
    RuleSource,
)
from . import totals

TEAM_STATUSES = (DistributorStatus.ACTIVE,)
# 排行榜 is shown to every distributor, so it holds up only those in good standing: a
# suspended or banned distributor's sales still happened, but the list is no place for them.
RANKED_STATUS = DistributorStatus.ACTIVE


def _members():
    return Distributor.objects.filter(status__in=TEAM_STATUSES)


def _live_bindings(now=None):
    now = now or timezone.now()
    return CustomerBinding.objects.in_force(now)


def _figures(stored: dict, *, bound_buyers: int, team_direct: int, team_indirect: int) -> dict:
    estimated = stored["pending"] + stored["frozen"]
    return {
        "bound_buyers": bound_buyers,
        "team_direct": team_direct,
        "team_indirect": team_indirect,
        "orders": stored["orders"],
        "sales": stored["sales"],
        "commission_pending": stored["pending"],
        "commission_frozen": stored["frozen"],
        "commission_estimated": estimated,
        "commission_available": stored["balance"],
        "commission_withdrawn": stored["withdrawn"],
        "commission_total": estimated + stored["settled"],
    }


def figures(distributor: Distributor) -> dict:
    """Three queries: the running totals row, and the bound buyers and team counted on
    their (distributor) and (parent, status) indexes."""
    direct_ids = Distributor.objects.filter(parent_id=distributor.pk).values("pk")
    team = (
        _members()
        .filter(Q(parent_id=distributor.pk) | Q(parent_id__in=direct_ids))
        .aggregate(
            direct=Count("pk", filter=Q(parent_id=distributor.pk)),
            indirect=Count("pk", filter=~Q(parent_id=distributor.pk)),
        )
    )
    return _figures(
        totals.stored([distributor.pk])[distributor.pk],
        bound_buyers=_live_bindings().filter(distributor=distributor).count(),
        team_direct=team["direct"],
        team_indirect=team["indirect"],
    )


def why(commission: Commission) -> str:
    """ "Why ¥X": the base and how the line came to pay it, the level, the rule — in one
    sentence. Reads the line's discount rows: prefetch `order_line__discounts` (as
    `commissions()` does) so a page of them costs one query, not one per row."""
    line = commission.order_line
    if line is None:
        # A till sale's line: what the POS reported paid, no discounts of the shop's.
        text = _("%(sale)s 商品实付 %(base)s") % {
            "sale": commission.offline_label,
            "base": format_fen(commission.base),
        }
    else:
        text = _("订单商品实付 %(base)s") % {"base": format_fen(commission.base)}
        paid_how = line_discounts(line)
        if paid_how:
            text += _("（%(how)s）") % {"how": paid_how}
    if commission.rule_kind == RuleKind.FIXED:
        formula = _("%(amount)s/件 × %(quantity)s件") % {
            "amount": format_fen(commission.fixed_per_unit),
            "quantity": commission.quantity,
        }
    else:
        formula = f"{commission.rate_bp / 100:g}%"
    if commission.rule_source == RuleSource.PROMOTION:
        text += _("；%(level)s级佣金按活动「%(name)s」佣金 %(formula)s") % {
            "level": commission.level,
            "name": commission.rule_name,
            "formula": formula,
        }
    elif commission.rule_source == RuleSource.STORE:
        text += _("；%(level)s级佣金按门店「%(name)s」导购比例 %(formula)s") % {
            "level": commission.level,
            "name": commission.rule_name,
            "formula": formula,
        }
    else:
        source = commission.get_rule_source_display()
        if commission.rule_id or commission.rule_name:
            source += _("“%(name)s” v%(version)s") % {
                "name": rule_name(commission),
                "version": commission.rule_version,
            }
        text += _("；%(level)s级佣金按%(source)s：%(formula)s") % {
            "level": commission.level,
            "source": source,
            "formula": formula,
        }
    extras = []
    if commission.bonus_bp:
        extras.append(_("阶梯奖励 +%(rate)s") % {"rate": f"{commission.bonus_bp / 100:g}%"})
    if commission.team_bp:
        extras.append(_("团队佣金 +%(rate)s") % {"rate": f"{commission.team_bp / 100:g}%"})
    if extras:
        text += _("，") + _("，").join(extras)
    if commission.capped:
        text += _("；超出单商品佣金上限，扣减 %(amount)s") % {"amount": format_fen(commission.capped)}
    text += f" = {format_fen(commission.amount)}"
    if commission.reversed_amount:
        text += _("；%(reason)s %(reversed)s，实得 %(net)s") % {
            "reason": _reduced_by(commission),
            "reversed": format_fen(commission.reversed_amount),
            "net": format_fen(commission.net_amount),
        }
    if commission.under_review and commission.status in (CommissionStatus.PENDING, CommissionStatus.FROZEN):
        text += _("；该订单正在风控审核，审核通过后照常结算")
    return text


# What reduces a commission, as the explanation names it: refunds, a ban's or a risk
# review's void, a missing-order claim that moved the order to another distributor.
Kind = CommissionAdjustment.Kind
REFUNDS = {Kind.REDUCED, Kind.CANCELLED, Kind.CLAWBACK}
NOT_REFUNDS = {
    Kind.VOIDED: gettext_lazy("封禁作废"),
    Kind.RISK_VOIDED: gettext_lazy("风控审核作废"),
    Kind.REATTRIBUTED: gettext_lazy("掉单申诉改判"),
}


def _reduced_by(commission: Commission) -> str:
    """Why the commission was reduced. Reads its adjustments: prefetch `adjustments` (as
    `commissions()` does) for a page of them."""
    kinds = {adjustment.kind for adjustment in commission.adjustments.all()}
    named = [str(text) for kind, text in NOT_REFUNDS.items() if kind in kinds]
    if not named or kinds & REFUNDS:
        named.insert(0, _("退款冲减"))
    return _("、").join(named)


def line_discounts(line) -> str:
    """How a line came to pay what it paid, or "" when it paid its plain subtotal: the
    original price and the promotion price it sold at, then each 满减 / coupon share (its
    `OrderDiscount` rows). Commission is computed on what is left, never on the list price."""
    rows = list(line.discounts.all())
    priced = [r for r in rows if r.kind in PRICE_KINDS]
    shares = [r for r in rows if r.kind not in PRICE_KINDS]
    parts = []
    if line.original_price > line.unit_price:
        parts.append(
            _("原价 %(price)s × %(quantity)s件 = %(total)s")
            % {
                "price": format_fen(line.original_price),
                "quantity": line.quantity,
                "total": format_fen(line.original_price * line.quantity),
            }
        )
        by = _("、").join(
            _("%(kind)s「%(name)s」") % {"kind": r.get_kind_display(), "name": r.name} for r in priced
        ) or _("活动价")
        parts.append(
            _("%(by)s %(price)s/件，小计 %(subtotal)s")
            % {"by": by, "price": format_fen(line.unit_price), "subtotal": format_fen(line.subtotal)}
        )
    elif line.discount_share:
        parts.append(_("小计 %(subtotal)s") % {"subtotal": format_fen(line.subtotal)})
    # Rows that do not add up to the share (an order repriced before adjustments were kept
    # as rows) are not shown: the share itself is what the line paid less.
    if shares and sum(r.amount for r in shares) == line.discount_share:
        parts += [_share_text(r) for r in shares]
    elif line.discount_share:
        parts.append(_("分摊优惠 %(amount)s") % {"amount": format_fen(line.discount_share)})
    if rows:
        parts.append(_("佣金按实付金额计算"))
    return _("，").join(parts)


def rule_name(commission: Commission) -> str:
    """The rule's name as it was when the commission was computed, not as it is now."""
    if commission.rule_name:
        return commission.rule_name
    return commission.rule.name if commission.rule_id else ""


def for_order(commissions_qs, order: str):
    """Narrow commissions to one order, named by its number or its id."""
    order = (order or "").strip()
    match = Q(order__number=order)
    order_id = whole_number(order)
    if order_id is not None:
        match |= Q(order_id=order_id)
    return commissions_qs.filter(match)


def commissions(distributor: Distributor):
    return (
        Commission.objects.filter(distributor=distributor)
        .select_related("order", "order_line", "rule")
        .prefetch_related("order_line__discounts", "adjustments")
        .order_by("-id")
    )


def team(distributor: Distributor, depth: int = 1):
    """Direct (depth 1) or indirect (depth 2) team members."""
    if depth == 1:
        members = _members().filter(parent_id=distributor.pk)
    else:
        members = _members().filter(
            parent_id__in=Distributor.objects.filter(parent_id=distributor.pk).values("pk")
        )
    return members.select_related("user", "grade").order_by("-id")


def member_stats(member_ids) -> dict[int, dict]:
    """Sales, orders and team size of a page of members, in two queries. Orders and sales
    are each member's running totals, as their own center shows them: paid orders less
    refunds, and sales at a store's till less its returns."""
    ids = list(member_ids)
    stored = totals.stored(ids)
    stats = {pk: {"sales": stored[pk]["sales"], "orders": stored[pk]["orders"], "members": 0} for pk in ids}
    for row in _members().filter(parent_id__in=ids).values("parent_id").annotate(n=Count("pk")):
        stats[row["parent_id"]]["members"] = row["n"]
    return stats


def period_since(period: str, now=None):
    local = timezone.localtime(now or timezone.now())
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return start - timedelta(days=start.weekday())
    return start.replace(day=1)


def ranking(by: str, period: str, limit: int = 20) -> list[dict]:
    """The period's top `limit` active distributors. The others are left out in the grouped
    query itself (a join, not a query more), so they never take a place from one who shows."""
    since = period_since(period)
    if by == "commission":
        rows = (
            Commission.objects.filter(created_at__gte=since, distributor__status=RANKED_STATUS)
            .exclude(status=CommissionStatus.CANCELLED)
            .values("distributor_id")
            .annotate(value=Sum("amount") - Sum("reversed_amount"))
            .order_by("-value", "distributor_id")[:limit]  # a tie: the earlier distributor first, as in sales
        )
    else:
        rows = _sales_ranking(since, limit)
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


def _sales_ranking(since, limit: int) -> list[dict]:
    """The period's top active sellers by 推广销售额 as their centers and the tier bonus count it:
    level-1 paid orders less refunds, plus sales at a store's till less its returns. Two
    grouped queries over the period, merged: a 导购 selling at the till ranks by all of it."""
    from fenxiao.orders.models import Order

    sales: dict[int, int] = {}
    online = (
        Order.objects.filter(paid_at__gte=since, attribution__level1__status=RANKED_STATUS)
        .order_by()
        .values(distributor_id=F("attribution__level1_id"))
        .annotate(value=Sum("paid_amount") - Sum("refunded_amount"))
    )
    till = (
        OfflineAttribution.objects.filter(created_at__gte=since, level1__status=RANKED_STATUS)
        .order_by()
        .values(distributor_id=F("level1_id"))
        .annotate(value=Sum("total") - Sum("refunded"))
    )
    for row in [*online, *till]:
        sales[row["distributor_id"]] = sales.get(row["distributor_id"], 0) + (row["value"] or 0)
    ranked = sorted(sales.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"distributor_id": pk, "value": value} for pk, value in ranked]


def figures_for_page(distributor_ids) -> dict[int, dict]:
    """`figures()` for a page of distributors (the backend list) in four queries, whatever
    the page size: the totals rows, and one grouped count each for bound buyers and the
    direct and indirect team."""
    ids = list(distributor_ids)
    if not ids:
        return {}
    counts = {pk: {"bound_buyers": 0, "team_direct": 0, "team_indirect": 0} for pk in ids}
    for row in (
        _live_bindings().filter(distributor_id__in=ids).values("distributor_id").annotate(n=Count("pk"))
    ):
        counts[row["distributor_id"]]["bound_buyers"] = row["n"]
    for row in _members().filter(parent_id__in=ids).values("parent_id").annotate(n=Count("pk")):
        counts[row["parent_id"]]["team_direct"] = row["n"]
    for row in (
        _members()
        .filter(parent_id__in=Distributor.objects.filter(parent_id__in=ids).values("pk"))
        .values("parent__parent_id")
        .annotate(n=Count("pk"))
    ):
        counts[row["parent__parent_id"]]["team_indirect"] = row["n"]
    stored = totals.stored(ids)
    return {pk: _figures(stored[pk], **counts[pk]) for pk in ids}


def _share_text(row) -> str:
    """满减「满200减15」-¥8.12; a merchant adjustment has no promotion name and may raise the
    price: 商家改价 +¥3.00."""
    if row.kind == DiscountKind.ADJUST:
        label = f"{row.get_kind_display()} "
    else:
        label = _("%(kind)s「%(name)s」") % {"kind": row.get_kind_display(), "name": row.name}
    return f"{label}-{format_fen(row.amount)}" if row.amount >= 0 else f"{label}+{format_fen(-row.amount)}"
