"""Customer binding: who a buyer belongs to, decided on the server, every touch kept.

A referral link sets a cookie only so the code survives until the buyer signs in; the
decision is always made here, against the buyer's account, with the rule that decided.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..errors import BindingRefused, DistributorNotFound, LoopRefused
from ..models import (
    KEPT_UNTIL,
    PROTECTED_UNTIL,
    BindMode,
    CustomerBinding,
    Distributor,
    DistributorStatus,
    EnableMode,
    Touch,
    TouchDecision,
    TouchRule,
    TouchSource,
)
from . import config, visits
from .distributors import adopt_orphan, ensure_for_everyone_mode, is_in_downline

NEW_BUYERS_ONLY_REFUSED = gettext_noop("仅绑定新客户，该客户已有付款订单")


def _has_paid_order(buyer) -> bool:
    from fenxiao.orders.models import Order

    return Order.objects.filter(buyer=buyer, paid_at__isnull=False).exists()


def _windows(cfg, now):
    expires = now + timedelta(days=cfg.bind_days) if cfg.bind_mode == BindMode.EXPIRING else None
    protected = now + timedelta(days=cfg.protect_days) if cfg.bind_mode == BindMode.LATEST else None
    return expires, protected


def _refusal(buyer, distributor: Distributor, cfg) -> tuple[str, str] | None:
    """(rule, reason) when this buyer may not be bound to this distributor at all."""
    if distributor.status != DistributorStatus.ACTIVE:
        return TouchRule.INACTIVE, gettext_noop("分销商当前不是正常状态")
    if distributor.user_id == buyer.pk:
        return TouchRule.SELF, gettext_noop("分销商不能绑定自己")
    own = Distributor.objects.filter(user=buyer).first()
    if own is not None and is_in_downline(distributor, own):
        return TouchRule.LOOP, gettext_noop("该分销商是您的下级，绑定会形成循环")
    return None


def visitor_key(client_address: str | None) -> str:
    """A keyed hash of the client address: repeat visits group together, addresses are not stored."""
    return salted_hmac("fenxiao.touch-visitor", client_address or "unknown").hexdigest()[:32]


def record_touch(
    buyer,
    distributor: Distributor,
    source: str,
    *,
    target: str = "",
    visitor: str = "",
    keep_existing: bool = False,
) -> Touch | None:
    """A visit through a distributor's link / QR / poster / store / coupon: bind as the rules say.

    `keep_existing` (a store QR whose store settings forbid taking a customer from another
    distributor) keeps any binding still in force; it can only bind less than the rules
    would, never more.

    A signed-in buyer's visit is decided and recorded one row per visit (the binding
    history), and that row is returned. A signed-out visit decides nothing, so it is only
    counted (`visits.count`) and nothing is returned.
    """
    if buyer is None or not getattr(buyer, "is_authenticated", False):
        visits.count(distributor.pk, source, target=target, visitor=visitor or visitor_key(None))
        return None
    cfg = config.current()
    with transaction.atomic():
        touch = _decide(cfg, buyer, distributor, source, target, keep_existing)
        if cfg.enable_mode == EnableMode.EVERYONE and touch.decision in (
            TouchDecision.BOUND,
            TouchDecision.REBOUND,
        ):
            # 人人分销: a buyer bound here becomes a distributor in this distributor's team;
            # one whose account was made before anyone bound them joins it at the first binding.
            account = ensure_for_everyone_mode(buyer)
            if touch.decision == TouchDecision.BOUND:
                adopt_orphan(account, distributor)
        return touch


def _decide(
    cfg, buyer, distributor: Distributor, source: str, target: str, keep_existing: bool = False
) -> Touch:
    now = timezone.now()

    def touch(decision, rule, reason):
        return Touch.objects.create(
            distributor=distributor,
            buyer=buyer,
            source=source,
            target=target[:300],
            decision=decision,
            rule=rule,
            reason=reason,
        )

    refused = _refusal(buyer, distributor, cfg)
    if refused:
        return touch(TouchDecision.REFUSED, *refused)
    # Lock the buyer so two simultaneous visits decide one after the other: locking only
    # the binding row would not serialise the first visits, when there is no row yet.
    get_user_model().objects.select_for_update().filter(pk=buyer.pk).first()
    binding = CustomerBinding.objects.filter(buyer=buyer).first()
    expires, protected = _windows(cfg, now)
    if binding is None:
        if cfg.new_buyers_only and _has_paid_order(buyer):
            return touch(TouchDecision.REFUSED, TouchRule.NEW_BUYERS_ONLY, NEW_BUYERS_ONLY_REFUSED)
        CustomerBinding.objects.create(
            buyer=buyer,
            distributor=distributor,
            source=source,
            bound_at=now,
            expires_at=expires,
            protected_until=protected,
        )
        return touch(TouchDecision.BOUND, cfg.bind_mode, gettext_noop("首次绑定"))
    # A binding that lapsed (under 有效期, possibly before a switch of mode) binds nobody:
    # whatever the mode now, the next link decides afresh.
    lapsed = binding.expires_at is not None and binding.expires_at <= now
    if binding.distributor_id == distributor.pk:
        if cfg.bind_mode == BindMode.EXPIRING:
            CustomerBinding.objects.filter(pk=binding.pk).update(expires_at=expires)
            return touch(TouchDecision.RENEWED, cfg.bind_mode, gettext_noop("再次访问，绑定有效期已续期"))
        if not lapsed:
            return touch(TouchDecision.KEPT, cfg.bind_mode, gettext_noop("已绑定该分销商"))
    elif not lapsed:
        if keep_existing:
            return touch(
                TouchDecision.KEPT, TouchRule.STORE_KEEP, gettext_noop("门店设置：扫门店码不改绑已有分销商")
            )
        if cfg.bind_mode == BindMode.FIRST:
            return touch(TouchDecision.KEPT, cfg.bind_mode, gettext_noop("首次绑定永久有效，保留原分销商"))
        if cfg.bind_mode == BindMode.EXPIRING and binding.expires_at:
            return touch(
                TouchDecision.KEPT,
                cfg.bind_mode,
                KEPT_UNTIL % {"date": f"{timezone.localtime(binding.expires_at):%Y-%m-%d}"},
            )
        if cfg.bind_mode == BindMode.LATEST and binding.protected_until and binding.protected_until > now:
            return touch(
                TouchDecision.KEPT,
                cfg.bind_mode,
                PROTECTED_UNTIL % {"date": f"{timezone.localtime(binding.protected_until):%Y-%m-%d}"},
            )
    if cfg.new_buyers_only and _has_paid_order(buyer):
        return touch(
            TouchDecision.KEPT, TouchRule.NEW_BUYERS_ONLY, gettext_noop("仅绑定新客户，保留原分销商")
        )
    CustomerBinding.objects.filter(pk=binding.pk).update(
        distributor=distributor, source=source, bound_at=now, expires_at=expires, protected_until=protected
    )
    if lapsed or cfg.bind_mode == BindMode.EXPIRING:
        reason = gettext_noop("原绑定已过期，改绑新分销商")
        if binding.distributor_id == distributor.pk:
            reason = gettext_noop("原绑定已过期，重新绑定该分销商")
    else:
        reason = gettext_noop("最新推广链接优先，改绑")
    return touch(TouchDecision.REBOUND, cfg.bind_mode, reason)


def _raise_refusal(refused: tuple[str, str]) -> None:
    rule, why = refused
    if rule == "loop":
        raise LoopRefused(_(why))
    raise BindingRefused(_(why))


def bind_by_code(buyer, code: str, source: str = TouchSource.LINK) -> Touch:
    """The signed-in buyer asks to be bound (an app scanned a QR code or a shared card).

    A request the rules can never grant (to themselves, into a loop, to an inactive
    distributor) is bad input: refused as an error and nothing is written. Any other
    outcome is decided and recorded exactly like a visit through the link.
    """
    from .distributors import by_code

    distributor = by_code(code)
    if distributor is None:
        raise DistributorNotFound(_("推广码无效"))
    refused = _refusal(buyer, distributor, config.current())
    if refused:
        _raise_refusal(refused)
    return record_touch(buyer, distributor, source)


def claim_referral(buyer, code: str, source: str = TouchSource.LINK, target: str = ""):
    """After sign-in: turn the referral the cookie carried into a binding decision."""
    from .distributors import by_code

    distributor = by_code(code)
    if distributor is None:
        return None
    return record_touch(buyer, distributor, source, target=target)


def earlier_referral_stands(earlier_code: str, since, code: str) -> bool:
    """Whether a signed-out visitor's earlier referral (carried by the cookie since `since`)
    stands against another distributor's link, as a binding made at that first visit would
    have: 首次绑定永久有效 keeps it for good, 绑定有效期 for its days, 最新链接优先 for its
    protection. A referral whose distributor is no longer active stands for nothing."""
    from .distributors import by_code, normalize_code

    if normalize_code(earlier_code) in (None, normalize_code(code)):
        return False
    earlier = by_code(earlier_code)
    if earlier is None or earlier.status != DistributorStatus.ACTIVE:
        return False
    cfg = config.current()
    if cfg.bind_mode == BindMode.FIRST:
        return True
    if since is None:
        return False
    expires, protected = _windows(cfg, since)
    until = expires or protected
    return until is not None and until > timezone.now()


@transaction.atomic
def reassign(buyer, distributor: Distributor, staff, *, reason: str) -> CustomerBinding:
    """Staff moves a buyer to another distributor by hand, with the reason on record."""
    reason = (reason or "").strip()
    if not reason:
        raise BindingRefused(_("请填写调整原因"), code="REASON_REQUIRED", status=400)
    cfg = config.current()
    refused = _refusal(buyer, distributor, cfg)
    if refused:
        _raise_refusal(refused)
    now = timezone.now()
    expires, protected = _windows(cfg, now)
    binding, _created = CustomerBinding.objects.update_or_create(
        buyer=buyer,
        defaults={
            "distributor": distributor,
            "source": TouchSource.MANUAL,
            "bound_at": now,
            "expires_at": expires,
            "protected_until": protected,
        },
    )
    Touch.objects.create(
        distributor=distributor,
        buyer=buyer,
        source=TouchSource.MANUAL,
        decision=TouchDecision.REBOUND,
        rule=TouchRule.MANUAL,
        reason=reason[:200],
        staff=staff,
    )
    return binding


def active_binding(buyer) -> CustomerBinding | None:
    binding = (
        CustomerBinding.objects.select_related("distributor__parent__parent").filter(buyer=buyer).first()
    )
    if binding is None:
        return None
    if binding.expires_at and binding.expires_at <= timezone.now():
        return None
    return binding


def renew_on_purchase(buyer, cfg=None) -> None:
    """In 有效期 mode each purchase renews the binding. `buyer` may be the user or its id;
    `cfg`, the settings record if the caller has read it in this transaction already."""
    cfg = cfg or config.current()
    if cfg.bind_mode != BindMode.EXPIRING:
        return
    CustomerBinding.objects.filter(buyer=buyer, expires_at__gt=timezone.now()).update(
        expires_at=timezone.now() + timedelta(days=cfg.bind_days)
    )
