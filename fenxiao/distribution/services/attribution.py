"""At checkout, snapshot who will earn on the order (levels 1–3)."""

from ..models import Distributor, OrderAttribution
from . import config
from .binding import active_binding


def attribute_order(order) -> OrderAttribution | None:
    """Called by checkout inside its transaction. A fixed number of queries."""
    cfg = config.current()
    buyer = order.buyer
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
    return OrderAttribution.objects.create(
        order=order,
        level1=chain[0],
        level2=chain[1],
        level3=chain[2],
        self_purchase=self_purchase,
        reason=reason,
        settings_version=cfg.version,
    )
