"""The guard (单商品佣金上限) for a promotion's own commission (rule priority 1).

A promotion may pay its lines at its own rates or fixed amounts per unit. It is checked
when it is saved, like a commission rule: the worst line it could price must not pay more
than `max_commission_bp`. A level the promotion leaves empty is still paid, at the largest
normal rate any line could fall back to there (default, any grade, any active rate rule),
and the largest tier bonus and team commission are added on top, as for rules.

Promotions sit above distribution: they call this module, this module never reads them.
"""

from django.utils.translation import gettext as _

from fenxiao.core.money import apply_bp, format_fen

from ..errors import RuleExceedsGuard
from ..models import CommissionRule, RuleKind
from .commission_guard import fallback_bp, max_grade_extra
from .config import current

RATE = "rate"
FIXED = "fixed"


def _largest_fallback_bp(level: int, cfg) -> int:
    """The highest rate an empty level could resolve to on any line of the shop: the
    default and grade rates (`fallback_bp` of a rule with no target), or any active rate
    rule, since a promotion may price products of every category."""
    rates = [fallback_bp(CommissionRule(), level, cfg)]
    rates += CommissionRule.objects.filter(
        is_active=True, kind=RuleKind.RATE, **{f"level{level}__isnull": False}
    ).values_list(f"level{level}", flat=True)
    return max(rates)


def check_promotion_commission(mode: str, levels: dict[int, int | None], cheapest_price: int | None) -> None:
    """Refuse promotion rates (bp) or fixed amounts (fen per unit) that could pay more than
    the guard. `levels` maps 1..3 to the promotion's value (None: left to the normal rules);
    `cheapest_price` is the lowest price (fen) a line of the promotion could sell at, for
    fixed amounts. Any other mode (normal rules, 不计佣金) is already within the guard."""
    if mode not in (RATE, FIXED):
        return
    cfg = current()
    active = range(1, cfg.levels + 1)
    fallback = sum(_largest_fallback_bp(level, cfg) for level in active if levels.get(level) is None)
    extra = max_grade_extra(cfg.levels)
    if mode == RATE:
        total = sum(levels.get(level) or 0 for level in active) + fallback + extra
        if total > cfg.max_commission_bp:
            raise RuleExceedsGuard(
                _(
                    "活动各级佣金比例合计（含阶梯/团队奖励及未填层级沿用的比例）%(total)s "
                    "超过单商品佣金上限 %(limit)s"
                )
                % {"total": f"{total / 100:g}%", "limit": f"{cfg.max_commission_bp / 100:g}%"}
            )
        return
    if cheapest_price is None:
        return  # nothing priced yet: a fixed amount cannot be weighed against a price
    fixed = sum(levels.get(level) or 0 for level in active)
    total = fixed + apply_bp(cheapest_price, fallback + extra)
    limit = apply_bp(cheapest_price, cfg.max_commission_bp)
    if total > limit:
        raise RuleExceedsGuard(
            _(
                "活动固定佣金每件合计 %(total)s（含阶梯/团队奖励及未填层级沿用的比例），"
                "超过最低活动价 %(price)s 的佣金上限 %(limit)s"
            )
            % {"total": format_fen(total), "price": format_fen(cheapest_price), "limit": format_fen(limit)}
        )
