"""Why an order earned what it earned: the chain snapshotted at checkout, the rule that
decided each commission, and — when a level or the whole order earned nothing — the reason,
so staff can answer a distributor's "why didn't I get anything for this order?".

Read-only; a fixed number of queries per order.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

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
            return _("未归属任何分销商，不计佣金")
        total = sum(c.net_amount for c in self.commissions)
        if not self.commissions:
            return _("已归属分销商，但没有产生佣金")
        return _("共 %(count)s 笔佣金，实得合计 %(total)s") % {
            "count": len(self.commissions),
            "total": format_fen(total),
        }


def _distributor_text(distributor: Distributor) -> str:
    user = distributor.user
    name = user.nickname or user.phone or user.username
    return _("%(name)s（%(code)s）") % {"name": name, "code": distributor.referral_code}


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
                link.note = _("无（上级不存在）")
            elif level > cfg.levels:
                link.note = _("无（当前只开启 %(levels)s 级分销）") % {"levels": cfg.levels}
            else:
                link.note = _("无（没有更上一级的分销商）")
        elif distributor.status != DistributorStatus.ACTIVE:
            link.note = _("当前状态：%(status)s，非正常状态不计佣") % {
                "status": distributor.get_status_display()
            }
        result.chain.append(link)

    if order.paid_at is None:
        result.notes.append(_("订单尚未付款：付款后按上面的归属生成佣金"))
        return result
    result.notes += _why_levels_earned_nothing(order, attribution, result.commissions, cfg)
    return result


def _why_unattributed(order) -> list[str]:
    notes = [
        _(
            "下单时买家既不是正常状态的分销商（或自购时没有上级），也没有有效的客户绑定关系，"
            "因此订单不归属任何分销商。"
        )
    ]
    binding = active_binding(order.buyer) if order.buyer_id else None
    if binding is not None:
        when = timezone.localtime(binding.bound_at)
        if binding.bound_at > order.created_at:
            notes.append(
                _("买家在下单之后（%(when)s）才绑定 %(distributor)s，绑定只对之后的订单生效。")
                % {"when": f"{when:%Y-%m-%d %H:%M}", "distributor": _distributor_text(binding.distributor)}
            )
        else:
            notes.append(
                _("买家当前绑定 %(distributor)s（%(when)s）。")
                % {"distributor": _distributor_text(binding.distributor), "when": f"{when:%Y-%m-%d %H:%M}"}
            )
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
        who = _("%(level)s级 %(distributor)s") % {
            "level": level,
            "distributor": _distributor_text(distributor),
        }
        if distributor.status != DistributorStatus.ACTIVE:
            if not any(c.level == level for c in commissions):
                notes.append(
                    _("%(who)s：状态为%(status)s，不计佣金")
                    % {"who": who, "status": distributor.get_status_display()}
                )
            continue
        for line in lines:
            if (line.pk, level) in earned:
                continue
            product = f"{line.product_name} {line.spec_text}".strip()
            if line.paid_amount <= 0:
                notes.append(
                    _("%(who)s：%(product)s 实付为 ¥0.00，不计佣金") % {"who": who, "product": product}
                )
                continue
            resolved = book.resolve(line, level, distributor.grade)
            source = _rule_text(resolved)
            if resolved.kind == RuleKind.EXCLUDE:
                notes.append(
                    _("%(who)s：%(product)s 适用%(source)s，不产生任何佣金")
                    % {"who": who, "product": product, "source": source}
                )
            elif resolved.value == 0:
                notes.append(
                    _("%(who)s：%(product)s 适用%(source)s，佣金为 0，不计佣金")
                    % {"who": who, "product": product, "source": source}
                )
            else:
                notes.append(
                    _(
                        "%(who)s：%(product)s 没有佣金（付款时分销商不是正常状态，或当时的规则为 0；"
                        "现在适用%(source)s）"
                    )
                    % {"who": who, "product": product, "source": source}
                )
    return notes


def _rule_text(resolved) -> str:
    from ..models import RuleSource

    text = str(RuleSource(resolved.source).label)
    if resolved.name:
        text += _("“%(name)s”") % {"name": resolved.name}
    if resolved.kind == RuleKind.EXCLUDE:
        return _("%(rule)s（不计佣金）") % {"rule": text}
    if resolved.kind == RuleKind.FIXED:
        return _("%(rule)s %(amount)s/件") % {"rule": text, "amount": format_fen(resolved.value)}
    return f"{text} {format_bp(resolved.value)}"
