"""What a product page shows of group buys: the running group-buy offer of a product and
its open groups a buyer can still join. Read-only, a fixed number of queries."""

from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from ..models import GroupBuy, GroupStatus, Promotion, PromotionItem, PromotionKind, running

OPEN_GROUPS_SHOWN = 5


@dataclass
class GroupOffer:
    promotion: Promotion
    item: PromotionItem
    groups: list[GroupBuy] = field(default_factory=list)

    def price_for(self, regular: int) -> int:
        return self.item.price_for(regular)


def group_offer(product, now=None) -> GroupOffer | None:
    """The group-buy promotion running now for `product` (the one opened earliest if there
    are several), with its open groups that still have seats, closest to their deadline first."""
    now = now or timezone.now()
    item = (
        PromotionItem.objects.filter(product=product, promotion__kind=PromotionKind.GROUP)
        .filter(promotion__in=Promotion.objects.filter(running(now)).values("pk"))
        .select_related("promotion")
        .order_by("promotion__starts_at", "pk")
        .first()
    )
    if item is None:
        return None
    groups = list(
        GroupBuy.objects.filter(
            promotion=item.promotion,
            item__product=product,
            status=GroupStatus.OPEN,
            deadline__gt=now,
            seats_taken__lt=F("size"),
        )
        .select_related("leader")
        .order_by("deadline", "pk")[:OPEN_GROUPS_SHOWN]
    )
    for group in groups:
        group.seats_left = group.size - group.seats_taken
    return GroupOffer(item.promotion, item, groups)
