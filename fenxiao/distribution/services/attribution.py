"""Who earns on a purchase (levels 1–3): snapshot at checkout for an order, and decided the
same way, at once, for a sale made at a store's till."""

from dataclasses import dataclass

from ..models import Distributor, OrderAttribution
from . import config
from .binding import active_binding


@dataclass(frozen=True)
class Chain:
    """The beneficiaries of a buyer's purchase, level 1 first (None where nobody earns)."""

    levels: tuple  # (level1, level2, level3): Distributor or None
    reason: str
    self_purchase: bool


def chain_for(buyer, cfg) -> Chain | None:
    """Who earns on what `buyer` (a user) buys now: their own active distributor account
    (self-purchase setting) or else their active binding, then up the chain to `cfg.levels`.
    A fixed number of queries. None when nobody does."""
    own = (
        Distributor.objects.select_related("parent__parent__parent")
        .filter(user=buyer, status=Distributor.Status.ACTIVE)
        .first()
    )
    level1, reason, self_purchase = None, "", False
    if own is not None:
        if cfg.self_purchase:
            level1, reason, self_purchase = own, "分销商自购，自购返佣开启", True
        else:
            level1, reason = own.parent, "分销商自购，自购返佣关闭，由上级获得一级佣金"
    else:
        binding = active_binding(buyer)
        if binding is not None:
            level1, reason = binding.distributor, "客户绑定关系"
    if level1 is None:
        return None
    chain = [level1]
    while len(chain) < cfg.levels and chain[-1].parent_id:
        chain.append(chain[-1].parent)
    chain += [None] * (3 - len(chain))
    return Chain(tuple(chain), reason, self_purchase)


def attribute_order(order) -> OrderAttribution | None:
    """Called by checkout inside its transaction. A fixed number of queries."""
    cfg = config.current()
    chain = chain_for(order.buyer, cfg)
    if chain is None:
        return None
    level1, level2, level3 = chain.levels
    return OrderAttribution.objects.create(
        order=order,
        level1=level1,
        level2=level2,
        level3=level3,
        self_purchase=chain.self_purchase,
        reason=chain.reason,
        settings_version=cfg.version,
    )
