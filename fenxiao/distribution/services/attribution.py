"""Who earns on a purchase (levels 1–3): snapshot at checkout for an order, and decided the
same way, at once, for a sale made at a store's till."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone, translation

from ..models import CustomerBinding, Distributor, EnableMode, OrderAttribution, texts
from . import config


@dataclass(frozen=True)
class Chain:
    """The beneficiaries of a buyer's purchase, level 1 first (None where nobody earns)."""

    levels: tuple  # (level1, level2, level3): Distributor or None
    reason: str
    self_purchase: bool


# A buyer with an account in one of these states is a distributor: their own purchase goes
# by the self-purchase setting, and where they may not earn (suspended, banned) their level
# is skipped, not handed to whoever their binding names. Applicants (pending, rejected)
# are buyers like any other.
DISTRIBUTOR_STATES = (
    Distributor.Status.ACTIVE,
    Distributor.Status.SUSPENDED,
    Distributor.Status.BANNED,
)


def chain_for(buyer, cfg) -> Chain | None:
    """Who earns on what `buyer` (a user) buys now: their own distributor account
    (self-purchase setting) or else their active binding, then up the chain to `cfg.levels`.
    One query (under 人人分销, a buyer's first purchase also makes their account). None when
    nobody does."""
    if buyer is None:
        return None
    # Both candidates in one read, with their parents for the chain: the buyer's own
    # account and the distributor of their unexpired binding (each at most one row: both
    # are one-to-one with the buyer). The binding's expiry is the test `active_binding` makes.
    now = timezone.now()
    bound = CustomerBinding.objects.filter(buyer=buyer).in_force(now)
    candidates = list(
        Distributor.objects.select_related("parent__parent__parent").filter(
            Q(user=buyer, status__in=DISTRIBUTOR_STATES) | Q(pk__in=bound.values("distributor_id"))
        )
    )
    own = next((d for d in candidates if d.user_id == buyer.pk and d.status in DISTRIBUTOR_STATES), None)
    if own is None and cfg.enable_mode == EnableMode.EVERYONE and _made_distributor(buyer):
        return chain_for(buyer, cfg)
    level1, reason, self_purchase = None, "", False
    if own is not None:
        if cfg.self_purchase:
            level1, reason, self_purchase = own, texts.SELF_PURCHASE, True
            if own.status != Distributor.Status.ACTIVE:
                # The reason is kept: in the shop's language, whoever's request it is.
                with translation.override(settings.LANGUAGE_CODE):
                    status = own.get_status_display()
                reason = texts.SELF_PURCHASE_NOT_EARNING % {"status": status}
        else:
            level1, reason = own.parent, texts.SELF_PURCHASE_TO_PARENT
    elif candidates:
        # Without an own account, the row read is the bound distributor's.
        level1, reason = candidates[0], texts.BOUND_CUSTOMER
    if level1 is None:
        return None
    chain = [level1]
    while len(chain) < cfg.levels and chain[-1].parent_id:
        chain.append(chain[-1].parent)
    chain += [None] * (3 - len(chain))
    return Chain(tuple(chain), reason, self_purchase)


def _made_distributor(buyer) -> bool:
    """人人分销: every buyer is a distributor, so one who is not yet gets their account now
    (False when they have one already, as an applicant turned down before the switch)."""
    from .distributors import ensure_for_everyone_mode, for_user

    return for_user(buyer) is None and ensure_for_everyone_mode(buyer) is not None


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
