"""掉单申诉 (missing-order claims): a distributor claims a paid order that should have been
theirs; staff look at the attribution and the buyer's touches, then move the order to the
claimant (改判) or reject the claim.

Filing asks for the order number AND the last four digits of the buyer's (or the
recipient's) phone, so order numbers cannot be fished for, and says the same thing whatever
of the two is wrong. A claim is possible while the order's commission could still change
hands: paid, within CLAIM_DAYS, not refunded in full, nothing of it settled.

改判 (approve) moves the order in one transaction, under the order's lock (as refunds and
the auto-complete sweep take it): the old chain's unsettled commission is cancelled with a
`REATTRIBUTED` adjustment, the order's attribution names the claimant's chain, and the new
chain's commission is computed by the same code as at payment (today's rules and settings,
screened by the abuse guards), brought to its share of any partial refund and frozen if the
order has completed. The old and the new level-1 distributor's orders and sales move with it.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.errors import InvalidInput
from fenxiao.core.numbers import half_width
from fenxiao.customers.services import limits
from fenxiao.notices.services import events as notices

from ..errors import NotADistributor
from ..models import (
    CLAIM_FLOW,
    ClaimStatus,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    Distributor,
    DistributorStatus,
    OrderAttribution,
    OrderClaim,
    Touch,
    texts,
)
from . import binding, commissions, config, risk, settlement, totals

CLAIM_DAYS = 30
# Open claims a distributor may have at once: enough for a real backlog, not for spam.
MAX_OPEN = 20
LEVEL_COUNT = 3
NOT_FOUND = gettext_lazy("订单号或买家手机号后四位不正确")
# Wrong order number or phone digits a distributor may type in an hour.
FAILED_TRIES = 10
HOUR = 3600


def _claimable(order, distributor, filed_at=None) -> None:
    """Refuse, with the reason, an order whose commission can no longer move to `distributor`
    (`filed_at`: when the claim was filed, which the claim window counts to)."""
    if order.paid_at is None:
        raise InvalidInput(_("订单尚未付款，付款后才能申诉"), code="CLAIM_ORDER_UNPAID")
    if order.paid_at < (filed_at or timezone.now()) - timedelta(days=CLAIM_DAYS):
        raise InvalidInput(
            _("只能申诉 %(days)s 天内付款的订单") % {"days": CLAIM_DAYS}, code="CLAIM_TOO_LATE"
        )
    if order.refunded_amount >= order.paid_amount:
        raise InvalidInput(_("订单已全额退款，不能申诉"), code="CLAIM_ORDER_REFUNDED")
    if order.buyer_id == distributor.user_id:
        raise InvalidInput(_("自己的订单按自购规则计佣，不能申诉"), code="CLAIM_OWN_ORDER")
    level1 = OrderAttribution.objects.filter(order=order).values_list("level1_id", flat=True).first()
    if level1 == distributor.pk:
        raise InvalidInput(_("该订单已计入你的业绩"), code="CLAIM_ALREADY_YOURS")
    if Commission.objects.filter(order=order, status=CommissionStatus.SETTLED).exists():
        raise InvalidInput(_("该订单的佣金已结算，不能再改判"), code="CLAIM_SETTLED")


def file(distributor, *, order_number: str, phone_tail: str, reason: str) -> OrderClaim:
    """The distributor `distributor` claims the order `order_number`.

    Each try is counted first, outside the transaction (a refusal must not roll the count
    back), and a filed claim gives its count back: FAILED_TRIES wrong guesses an hour, so
    four digits cannot be tried through."""
    if distributor.status != DistributorStatus.ACTIVE:
        raise NotADistributor()
    # Both are digits a full-width keyboard types as ２０２６ …: the same number.
    number, tail = half_width(order_number or "").strip(), half_width(phone_tail or "").strip()
    reason = (reason or "").strip()
    # The form's fields in its order, each refusal naming the one to fix; none of these
    # is a guess at an order, so none counts as a try.
    if not number:
        raise InvalidInput(_("请填写订单号"), code="ORDER_NUMBER_REQUIRED")
    if not (len(tail) == 4 and tail.isascii() and tail.isdigit()):
        raise InvalidInput(_("请填写收货人手机号后 4 位数字"), code="PHONE_TAIL_INVALID")
    if not reason:
        raise InvalidInput(_("请说明客户是如何通过你下单的"), code="REASON_REQUIRED")
    tries = limits.counter_key("order-claim", str(distributor.pk))
    if limits.hit(tries, HOUR) > FAILED_TRIES:
        raise InvalidInput(_("尝试次数过多，请一小时后再试"), code="CLAIM_TOO_MANY_TRIES", status=429)
    claim = _file(distributor, number, tail, reason)
    limits.release(tries)
    return claim


@transaction.atomic
def _file(distributor, number: str, tail: str, reason: str) -> OrderClaim:
    from fenxiao.orders.models import Order

    order = Order.objects.select_related("buyer").filter(number=number).first()
    phones = (order.recipient_phone, order.buyer.phone or "") if order else ()
    if order is None or len(tail) != 4 or not any(p.endswith(tail) for p in phones if p):
        raise InvalidInput(NOT_FOUND, code="CLAIM_ORDER_NOT_FOUND", status=404)
    _claimable(order, distributor)
    if OrderClaim.objects.filter(distributor=distributor, status=ClaimStatus.OPEN).count() >= MAX_OPEN:
        raise InvalidInput(
            _("待处理的申诉已有 %(count)s 条，请等处理后再提交") % {"count": MAX_OPEN},
            code="CLAIM_TOO_MANY",
            status=429,
        )
    level1 = OrderAttribution.objects.filter(order=order).values_list("level1_id", flat=True).first()
    try:
        with transaction.atomic():  # the unique pair settles a double submit
            return OrderClaim.objects.create(
                distributor=distributor, order=order, reason=reason[:200], previous_level1_id=level1
            )
    except IntegrityError:
        raise InvalidInput(_("你已申诉过该订单"), code="CLAIM_DUPLICATE", status=409) from None


def touches(claim: OrderClaim, limit: int = 20):
    """The buyer's latest arrivals through any distributor (link, QR, poster, store, coupon, a staff
    rebinding), newest first, each with what it did and the rule that decided it: the
    evidence staff weigh, the claimant's next to whoever won."""
    return (
        Touch.objects.filter(buyer_id=claim.order.buyer_id)
        .select_related("distributor__user")
        .order_by("-created_at", "-pk")[:limit]
    )


def _locked_open(claim: OrderClaim) -> OrderClaim:
    locked = OrderClaim.objects.select_for_update().filter(pk=claim.pk).first()
    if locked is None:
        raise InvalidInput(_("申诉不存在"), code="CLAIM_NOT_FOUND", status=404)
    if locked.status != ClaimStatus.OPEN:
        raise InvalidInput(
            _("该申诉已处理（%(status)s）") % {"status": locked.get_status_display()},
            code="CLAIM_DECIDED",
            status=409,
        )
    return locked


def _decide(claim: OrderClaim, staff, target: str, note: str) -> None:
    CLAIM_FLOW.move(claim, target, note=note[:200], decided_by=staff, decided_at=timezone.now())
    notices.claim_decided(
        user_id=claim.distributor.user_id,
        claim_id=claim.pk,
        number=claim.order.number,
        approved=target == ClaimStatus.APPROVED,
        note=note,
    )


@transaction.atomic
def reject(claim: OrderClaim, staff, *, note: str) -> OrderClaim:
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("请填写驳回原因（分销商会看到）"), code="REASON_REQUIRED")
    claim = _locked_open(claim)
    _decide(claim, staff, ClaimStatus.REJECTED, note)
    return claim


@transaction.atomic
def approve(claim: OrderClaim, staff, *, note: str = "", rebind: bool = False) -> OrderClaim:
    """改判: the order becomes the claimant's. `rebind` also binds the buyer to the claimant
    for their next orders (a staff rebinding, on the buyer's touch history)."""
    from fenxiao.orders.models import Order

    # The order first, then the claims: approving one claim answers the order's other open
    # claims, so two approvals on one order must queue on the order, not hold a claim each.
    order = Order.objects.select_for_update().get(pk=claim.order_id)
    claim = _locked_open(claim)
    claimant = Distributor.objects.select_related("parent__parent").get(pk=claim.distributor_id)
    if claimant.status != DistributorStatus.ACTIVE:
        raise InvalidInput(
            _("申诉分销商当前不是正常状态，不能改判"), code="CLAIM_DISTRIBUTOR_INACTIVE", status=409
        )
    # Every commission of the order locked before it is read: a settlement run skips locked
    # rows, so none settles between the test that nothing has and the move.
    all_rows = Commission.objects.filter(order=order)
    list(all_rows.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
    _claimable(order, claimant, filed_at=claim.created_at)
    note = (note or "").strip()
    cfg = config.current()
    changes = totals.deltas()

    # The old chain: its unsettled commission is cancelled (none is settled: checked above),
    # and the order leaves its level-1 distributor's orders and sales.
    attribution = OrderAttribution.objects.select_for_update().filter(order=order).first()
    old = list(
        Commission.objects.select_for_update(of=("self",))
        .filter(order=order, status__in=[CommissionStatus.PENDING, CommissionStatus.FROZEN])
        .order_by("pk")
        .annotate(line_refunded=F("order_line__refunded_amount"))
        .values("pk", "distributor_id", "status", "amount", "reversed_amount", "line_refunded")
    )
    moved = texts.CLAIM_MOVED_NOTE if note else texts.CLAIM_MOVED
    why = (moved % {"code": claimant.referral_code, "note": note})[:200]
    CommissionAdjustment.objects.bulk_create(
        CommissionAdjustment(
            commission_id=row["pk"],
            kind=CommissionAdjustment.Kind.REATTRIBUTED,
            amount=row["amount"] - row["reversed_amount"],
            refunded_base=row["line_refunded"] or 0,
            note=why,
        )
        for row in old
    )
    Commission.objects.filter(pk__in=[row["pk"] for row in old]).update(
        status=CommissionStatus.CANCELLED, reversed_amount=F("amount"), under_review=False
    )
    for row in old:
        changes[row["distributor_id"]][totals.BUCKET[row["status"]]] -= row["amount"] - row["reversed_amount"]
    settlement.release_from_review_batches([row["pk"] for row in old])
    still_paid = order.paid_amount - order.refunded_amount
    if attribution is not None and attribution.level1_id:
        changes[attribution.level1_id]["orders"] -= 1
        changes[attribution.level1_id]["sales"] -= still_paid

    # The new chain, from the claimant up to the configured depth.
    chain = [claimant]
    while len(chain) < cfg.levels and chain[-1].parent_id:
        chain.append(chain[-1].parent)
    if any(d.user_id == order.buyer_id for d in chain):
        # The buyer would earn on their own order outside the self-purchase setting.
        raise InvalidInput(
            _("买家是申诉分销商的上级，不能改判给其下级"), code="CLAIM_BUYER_UPLINE", status=409
        )
    levels = chain + [None] * (LEVEL_COUNT - len(chain))
    previous = (
        texts.PREVIOUS_REASON % {"reason": attribution.reason}
        if attribution and attribution.reason
        else texts.NO_PREVIOUS
    )
    fields = {
        "level1": levels[0],
        "level2": levels[1],
        "level3": levels[2],
        "self_purchase": False,
        "reason": (texts.CLAIM_REATTRIBUTED % {"claim": claim.pk, "previous": previous})[:200],
        "settings_version": cfg.version,
    }
    attribution, _created = OrderAttribution.objects.update_or_create(order=order, defaults=fields)
    attribution = OrderAttribution.objects.select_related(
        "level1__grade", "level2__grade", "level3__grade"
    ).get(pk=attribution.pk)
    changes[claimant.pk]["orders"] += 1
    changes[claimant.pk]["sales"] += still_paid
    created = commissions.write_for(order, attribution, cfg)
    for commission in created:
        totals.commission_created(changes, commission)
    totals.add(changes)
    # What the order has refunded already is taken off the new commission too, and it is
    # frozen as the old one was if the order has completed.
    refunded = [line for line in order.lines.all() if line.refunded_amount]
    if refunded:
        commissions.apply_line_refunds(order, refunded)
    if order.completed_at is not None:
        commissions.freeze_for_completed_orders([order.pk], order.completed_at)
    risk.close_moot(order_id=order.pk)
    if rebind:
        binding.reassign(order.buyer, claimant, staff, reason=texts.CLAIM_REBOUND % {"claim": claim.pk})
    _decide(claim, staff, ClaimStatus.APPROVED, note or texts.CLAIM_APPROVED)
    # The order has its owner now: anyone else's open claim on it is answered at once.
    for other in (
        OrderClaim.objects.select_for_update(of=("self",))
        .select_related("order", "distributor")
        .filter(order=order, status=ClaimStatus.OPEN)
        .order_by("pk")
    ):
        _decide(other, staff, ClaimStatus.REJECTED, texts.CLAIM_TAKEN)
    return claim
