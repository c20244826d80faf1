"""Why an order earned what it earned: the chain snapshotted at checkout, the rule that
decided each commission, and — when a level or the whole order earned nothing — the reason,
so staff can answer a distributor's "why didn't I get anything for this order?".

Read-only; a fixed number of queries per order.
"""

from dataclasses import dataclass, field

from django.utils import timezone

from fenxiao.core.money import format_bp, format_fen

from ..models import Commission, Distributor, DistributorStatus, OrderAttribution, RuleKind
from . import config
from .binding import active_binding
from .dashboard import why
from .rules import RuleBook


@dataclass
class ChainLink:
    level: int
    distributor: Distributor | None
    note: str = ""


@dataclass
class Explanation:
    attribution: OrderAttribution | None
    chain: list[ChainLink] = field(default_factory=list)
    commissions: list[Commission] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.attribution is None:
            return "未归属任何分销商，不计佣金"
        total = sum(c.net_amount for c in self.commissions)
        if not self.commissions:
            return "已归属分销商，但没有产生佣金"
        return f"共 {len(self.commissions)} 笔佣金，实得合计 {format_fen(total)}"


def _distributor_text(distributor: Distributor) -> str:
    user = distributor.user
    name = user.nickname or user.phone or user.username
    return f"{name}（{distributor.referral_code}）"


def explain_order(order) -> Explanation:
    attribution = (
        OrderAttribution.objects.select_related(
            "level1__user", "level1__grade", "level2__user", "level2__grade", "level3__user", "level3__grade"
        )
        .filter(order=order)
        .first()
    )
    result = Explanation(attribution=attribution)
    if attribution is None:
        result.notes += _why_unattributed(order)
        return result

    result.commissions = list(
        Commission.objects.filter(order=order)
        .select_related("distributor__user", "order_line", "rule")
        .prefetch_related("order_line__discounts", "adjustments")
        .order_by("level", "order_line_id", "pk")
    )
    for commission in result.commissions:
        commission.explanation = why(commission)

    cfg = config.current()
    for level in (1, 2, 3):
        distributor = getattr(attribution, f"level{level}")
        link = ChainLink(level, distributor)
        if distributor is None:
            if level == 1:
                link.note = "无（上级不存在）"
            elif level > cfg.levels:
                link.note = f"无（当前只开启 {cfg.levels} 级分销）"
            else:
                link.note = "无（没有更上一级的分销商）"
        elif distributor.status != DistributorStatus.ACTIVE:
            link.note = f"当前状态：{distributor.get_status_display()}，非正常状态不计佣"
        result.chain.append(link)

    if order.paid_at is None:
        result.notes.append("订单尚未付款：付款后按上面的归属生成佣金")
        return result
    result.notes += _why_levels_earned_nothing(order, attribution, result.commissions, cfg)
    return result


def _why_unattributed(order) -> list[str]:
    notes = [
        "下单时买家既不是正常状态的分销商（或自购时没有上级），也没有有效的客户绑定关系，"
        "因此订单不归属任何分销商。"
    ]
    binding = active_binding(order.buyer) if order.buyer_id else None
    if binding is not None:
        when = timezone.localtime(binding.bound_at)
        if binding.bound_at > order.created_at:
            notes.append(
                f"买家在下单之后（{when:%Y-%m-%d %H:%M}）才绑定 {_distributor_text(binding.distributor)}，"
                "绑定只对之后的订单生效。"
            )
        else:
            notes.append(f"买家当前绑定 {_distributor_text(binding.distributor)}（{when:%Y-%m-%d %H:%M}）。")
    return notes


def _why_levels_earned_nothing(order, attribution, commissions, cfg) -> list[str]:
    """For every line × level of the chain without a commission, the reason."""
    earned = {(c.order_line_id, c.level) for c in commissions}
    lines = list(order.lines.all())
    book = RuleBook(lines, cfg)
    notes = []
    for level in (1, 2, 3):
        distributor = getattr(attribution, f"level{level}")
        if distributor is None:
            continue
        who = f"{level}级 {_distributor_text(distributor)}"
        if distributor.status != DistributorStatus.ACTIVE:
            if not any(c.level == level for c in commissions):
                notes.append(f"{who}：状态为{distributor.get_status_display()}，不计佣金")
            continue
        for line in lines:
            if (line.pk, level) in earned:
                continue
            product = f"{line.product_name} {line.spec_text}".strip()
            if line.paid_amount <= 0:
                notes.append(f"{who}：{product} 实付为 ¥0.00，不计佣金")
                continue
            resolved = book.resolve(line, level, distributor.grade)
            source = _rule_text(resolved)
            if resolved.kind == RuleKind.EXCLUDE:
                notes.append(f"{who}：{product} 适用{source}，不产生任何佣金")
            elif resolved.value == 0:
                notes.append(f"{who}：{product} 适用{source}，佣金为 0，不计佣金")
            else:
                notes.append(
                    f"{who}：{product} 没有佣金（付款时分销商不是正常状态，或当时的规则为 0；"
                    f"现在适用{source}）"
                )
    return notes


def _rule_text(resolved) -> str:
    from ..models import RuleSource

    text = RuleSource(resolved.source).label
    if resolved.name:
        text += f"“{resolved.name}”"
    if resolved.kind == RuleKind.EXCLUDE:
        return f"{text}（不计佣金）"
    if resolved.kind == RuleKind.FIXED:
        return f"{text} {format_fen(resolved.value)}/件"
    return f"{text} {format_bp(resolved.value)}"
