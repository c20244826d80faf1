"""Abuse guards (风控): screen each paid order for commission that should not be paid
without a look, hold it, and let staff clear or void it.

Screening runs while the payment is applied, before its commissions are written, so a held
commission is never settleable for an instant. It reads a fixed number of rows sets (the
people's phones, address books, payout accounts and devices, and the buyer's recent
refunds) whatever the size of the shop, and writes nothing for an order that looks clean.

- Buyer and distributor look like one person under two accounts (the "second account"
  self-purchase): the order ships to the distributor's phone or to an address in their
  address book, the two signed in on one device, or the buyer's own distributor account
  withdrew to the distributor's payout account. A distributor's purchase on their own
  account is not screened: the self-purchase setting decides it.
- Circular recruiting: two distributors of the order's chain withdraw to the same payout
  account, so one person earns two levels.
- Refund abuse: at least `risk_refund_orders` of the buyer's orders paid in the last 90
  days, and at least `risk_refund_rate_bp` of them, were refunded at the buyer's request.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from fenxiao.core.errors import InvalidInput
from fenxiao.core.money import format_fen
from fenxiao.customers.models import Address, User
from fenxiao.customers.phones import mask_phone
from fenxiao.customers.services import devices

from ..models import (
    RISK_REVIEW_FLOW,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    PayoutMethod,
    RiskReview,
    RiskReviewStatus,
    RiskSignal,
    RiskTrust,
    Withdrawal,
    texts,
)
from . import settlement, totals

REFUND_WINDOW = timedelta(days=90)
# The signals a trusted pair is no longer held for.
SAME_PERSON = {RiskSignal.SAME_PHONE, RiskSignal.SAME_ADDRESS, RiskSignal.SAME_DEVICE, RiskSignal.SAME_PAYOUT}
# What a review holds: commission not yet settled nor cancelled.
HELD = (CommissionStatus.PENDING, CommissionStatus.FROZEN)
LEVEL_NAMES = {1: gettext_noop("一级"), 2: gettext_noop("二级"), 3: gettext_noop("三级")}
_BLANKS = re.compile(r"[\s\-_·,，]+")


@dataclass
class _Identity:
    """What ties an account to a person: its phone, the phones and addresses it ships to,
    the payout accounts its distributor account withdrew to, and its devices."""

    phone: str = ""
    address_phones: set = field(default_factory=set)
    addresses: set = field(default_factory=set)
    payouts: set = field(default_factory=set)
    devices: set = field(default_factory=set)


def _plain(text: str) -> str:
    return _BLANKS.sub("", text or "").lower()


def _identities(user_ids: set[int]) -> dict[int, _Identity]:
    """Four reads, whatever the number of people or their history."""
    found = defaultdict(_Identity)
    for pk, phone in User.objects.filter(pk__in=user_ids).values_list("pk", "phone"):
        found[pk].phone = phone or ""
    addresses = Address.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "phone", "province", "city", "district", "detail"
    )
    for user_id, phone, *parts in addresses:
        found[user_id].address_phones.add(phone)
        found[user_id].addresses.add(_plain("".join(parts)))
    payouts = (
        Withdrawal.objects.filter(distributor__user_id__in=user_ids)
        .exclude(method=PayoutMethod.STORE_CREDIT)
        .values_list("distributor__user_id", "method", "account")
        .distinct()
    )
    for user_id, method, account in payouts:
        # WeChat 商家转账 pays a WeChat user by openid: the same openid is the same wallet.
        account = account or {}
        number = _plain(str(account.get("account") or account.get("openid") or ""))
        if number:
            found[user_id].payouts.add((method, number))
    for user_id, device in devices.of_users(user_ids):
        found[user_id].devices.add(device)
    return found


PAYOUT_NAMES = {
    PayoutMethod.BANK: gettext_noop("银行卡"),
    PayoutMethod.WECHAT: gettext_noop("微信"),
    PayoutMethod.ALIPAY: gettext_noop("支付宝"),
}


def _payout_text(payouts: set) -> str:
    method, number = sorted(payouts)[0]
    return texts.PAYOUT_ACCOUNT % {
        "method": PAYOUT_NAMES.get(method, method),
        "number": f"{number[:3]}***{number[-3:]}",
    }


def _same_person(buyer: _Identity, seller: _Identity, order) -> list[tuple[str, str]]:
    """The signals saying the buyer is the distributor under another account, with their
    evidence."""
    found = []
    receiver = order.recipient_phone
    if receiver and receiver == seller.phone:
        found.append((RiskSignal.SAME_PHONE, texts.PHONE_IS_THEIRS % {"phone": mask_phone(receiver)}))
    elif receiver in seller.address_phones:
        found.append((RiskSignal.SAME_PHONE, texts.PHONE_IN_ADDRESSES % {"phone": mask_phone(receiver)}))
    if _plain(order.address_text) in seller.addresses:
        found.append((RiskSignal.SAME_ADDRESS, texts.ADDRESS_IN_ADDRESSES % {"address": order.address_text}))
    if buyer.devices & seller.devices:
        found.append((RiskSignal.SAME_DEVICE, texts.SAME_DEVICE))
    shared = buyer.payouts & seller.payouts
    if shared:
        found.append((RiskSignal.SAME_PAYOUT, texts.SAME_PAYOUT % {"account": _payout_text(shared)}))
    return found


def _one_person(a: _Identity, b: _Identity) -> str:
    """Why two distributors look like one person ("" when they do not): the same payout
    account is where one person's money goes. A shared phone in an address book or a shared
    device is common in a family or a store team, and would hold every order they share."""
    shared = a.payouts & b.payouts
    return texts.PAID_TO_SAME % {"account": _payout_text(shared)} if shared else ""


def _refund_history(order, cfg) -> str:
    """The buyer's refund record, when it passes the shop's refund-abuse threshold: orders
    of the last 90 days refunded on the buyer's own request (not a failed group buy, nor
    the merchant refunding what it could not ship)."""
    if not cfg.risk_refund_orders:
        return ""
    from fenxiao.orders.models import ActorKind, AfterSale, Order

    asked = AfterSale.objects.filter(
        order_id=OuterRef("pk"),
        requested_by=ActorKind.BUYER,
        status__in=[AfterSale.Status.APPROVED, AfterSale.Status.REFUNDED],
    )
    since = timezone.now() - REFUND_WINDOW
    counts = (
        Order.objects.filter(buyer_id=order.buyer_id, paid_at__gte=since)
        .exclude(pk=order.pk)
        .aggregate(paid=Count("pk"), refunded=Count("pk", filter=Exists(asked)))
    )
    paid, refunded = counts["paid"], counts["refunded"]
    if refunded < cfg.risk_refund_orders or refunded * 10000 < cfg.risk_refund_rate_bp * paid:
        return ""
    return texts.REFUND_HISTORY % {"paid": paid, "refunded": refunded}


def screen(order, beneficiaries, commissions: list[Commission], cfg) -> list[RiskReview]:
    """Hold what `order` would pay to any distributor it looks abusive for: their
    commissions (unsaved, about to be written) are marked `under_review`, and the reviews
    to write are returned. `beneficiaries`: (level, distributor) pairs of the order's chain
    that earn on it."""
    if not cfg.risk_guard or not commissions:
        return []
    people = _identities({order.buyer_id} | {d.user_id for _, d in beneficiaries})
    buyer = people[order.buyer_id]
    signals: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for level, distributor in beneficiaries:
        if distributor.user_id == order.buyer_id:
            continue  # the distributor's own purchase: the self-purchase setting decides
        for signal, evidence in _same_person(buyer, people[distributor.user_id], order):
            text = texts.EVIDENCE_OF_LEVEL % {"level": LEVEL_NAMES[level], "evidence": evidence}
            signals[distributor.pk].append((signal, text))
    if signals:  # read only when something fired: a clean order costs no more
        for pk in RiskTrust.objects.filter(
            buyer_id=order.buyer_id, distributor_id__in=list(signals)
        ).values_list("distributor_id", flat=True):
            del signals[pk]  # staff trust this pair: the same-person signals are answered
    for i, (level, upper) in enumerate(beneficiaries):
        for lower_level, lower in beneficiaries[:i]:
            why = _one_person(people[lower.user_id], people[upper.user_id])
            if why and lower.user_id != upper.user_id:
                text = texts.LEVELS_ONE_PERSON % {
                    "lower": LEVEL_NAMES[lower_level],
                    "upper": LEVEL_NAMES[level],
                    "why": why,
                }
                signals[lower.pk].append((RiskSignal.CIRCULAR, text))
                signals[upper.pk].append((RiskSignal.CIRCULAR, text))
    refunds = _refund_history(order, cfg)
    if refunds:
        for _level, distributor in beneficiaries:
            signals[distributor.pk].append((RiskSignal.REFUND_ABUSE, refunds))
    if not signals:
        return []
    held = defaultdict(int)
    for commission in commissions:
        if commission.distributor_id in signals:
            held[commission.distributor_id] += commission.amount
    # Nothing held (every line excluded or capped to ¥0): nothing to review or mark.
    for commission in commissions:
        if held.get(commission.distributor_id):
            commission.under_review = True
    return [
        RiskReview(
            order=order,
            distributor_id=pk,
            buyer_id=order.buyer_id,
            signals=",".join(dict.fromkeys(signal for signal, _ in found)),
            evidence=[text for _, text in found],
            held_amount=held[pk],
        )
        for pk, found in signals.items()
        if held.get(pk)
    ]


# --- review ---------------------------------------------------------------------------------


def record(reviews: list[RiskReview]) -> None:
    """Write what `screen` found. A pair with a case already (a 掉单申诉 改判 that pays a
    distributor of both chains, or one held by hand before) gets that case reopened with the
    new signals and what is held now, so one case per order and distributor decides it all."""
    if not reviews:
        return
    order_id = reviews[0].order_id
    existing = {
        r.distributor_id: r
        for r in RiskReview.objects.select_for_update().filter(
            order_id=order_id, distributor_id__in=[r.distributor_id for r in reviews]
        )
    }
    RiskReview.objects.bulk_create([r for r in reviews if r.distributor_id not in existing])
    for new in reviews:
        case = existing.get(new.distributor_id)
        if case is None:
            continue
        signals = ",".join(dict.fromkeys([*case.signal_values, *new.signal_values]))
        fields = {
            "signals": signals,
            "evidence": [*case.evidence, *new.evidence],
            "held_amount": new.held_amount,
        }
        if case.status == RiskReviewStatus.OPEN:
            RiskReview.objects.filter(pk=case.pk).update(**fields)
        else:
            RISK_REVIEW_FLOW.move(
                case, RiskReviewStatus.OPEN, note="", decided_by=None, decided_at=None, **fields
            )


def _locked_open(review: RiskReview) -> RiskReview:
    locked = RiskReview.objects.select_for_update().filter(pk=review.pk).first()
    if locked is None:
        raise InvalidInput(_("风控记录不存在"), code="RISK_REVIEW_NOT_FOUND")
    if locked.status != RiskReviewStatus.OPEN:
        raise InvalidInput(
            _("该风控记录已处理（%(status)s）") % {"status": locked.get_status_display()},
            code="RISK_REVIEW_DECIDED",
        )
    return locked


def _lock_order(order_id: int) -> None:
    """The order first, as refunds and the auto-complete sweep take it: the sweep reads a
    commission's amount under the order's lock and moves it after, so a void between the
    two would be counted twice in the running totals."""
    from fenxiao.orders.models import Order

    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))


def _held_rows(review: RiskReview):
    return Commission.objects.filter(
        order_id=review.order_id,
        distributor_id=review.distributor_id,
        status__in=HELD,
    )


def _decide(review: RiskReview, staff, target: str, note: str) -> None:
    RISK_REVIEW_FLOW.move(review, target, note=note[:200], decided_by=staff, decided_at=timezone.now())


@transaction.atomic
def clear(review: RiskReview, staff, *, note: str = "", trust: bool = False) -> RiskReview:
    """放行: the held commission settles as it would have (once its hold has ended).
    `trust`: the buyer and the distributor are known to staff (family, the shop's own
    staff), and their later orders are not held for looking like one person."""
    _lock_order(review.order_id)  # the order first, as refunds and 改判 take it
    review = _locked_open(review)
    note = (note or "").strip()
    if trust and not set(review.signal_values) & SAME_PERSON:
        raise InvalidInput(
            _("该记录没有同人信号（手机号、地址、设备、收款账户），无需信任"), code="TRUST_NOT_APPLICABLE"
        )
    if trust:
        RiskTrust.objects.get_or_create(
            buyer_id=review.buyer_id,
            distributor_id=review.distributor_id,
            defaults={"review": review, "note": note[:200], "created_by": staff},
        )
    rows = list(_held_rows(review).select_for_update(of=("self",)).order_by("pk").values("pk"))
    CommissionAdjustment.objects.bulk_create(
        CommissionAdjustment(
            commission_id=row["pk"],
            kind=CommissionAdjustment.Kind.RISK_CLEARED,
            amount=0,
            refunded_base=0,
            note=((texts.RISK_CLEARED_NOTE % {"note": note}) if note else texts.RISK_CLEARED)[:200],
        )
        for row in rows
    )
    Commission.objects.filter(order_id=review.order_id, distributor_id=review.distributor_id).update(
        under_review=False
    )
    _decide(review, staff, RiskReviewStatus.CLEARED, note)
    return review


@transaction.atomic
def void(review: RiskReview, staff, *, note: str) -> RiskReview:
    """作废: the held commission is cancelled, with the reason on its history. One locking
    read, one insert of the history, one update, whatever the number of lines."""
    note = (note or "").strip()
    if not note:
        raise InvalidInput(_("请填写作废原因"), code="REASON_REQUIRED")
    _lock_order(review.order_id)  # the order first, as refunds and 改判 take it
    review = _locked_open(review)
    held_rows = _held_rows(review)
    held = list(
        held_rows.select_for_update(of=("self",))
        .order_by("pk")
        .annotate(line_refunded=F("order_line__refunded_amount"))
        .values("pk", "status", "amount", "reversed_amount", "line_refunded")
    )
    CommissionAdjustment.objects.bulk_create(
        CommissionAdjustment(
            commission_id=row["pk"],
            kind=CommissionAdjustment.Kind.RISK_VOIDED,
            amount=row["amount"] - row["reversed_amount"],
            refunded_base=row["line_refunded"] or 0,
            note=(texts.RISK_VOIDED % {"note": note})[:200],
        )
        for row in held
    )
    changes = totals.deltas()
    if held:
        # Locked above, so every one is still in the status it was read in.
        held_rows.update(status=CommissionStatus.CANCELLED, reversed_amount=F("amount"), under_review=False)
        for row in held:
            changes[review.distributor_id][totals.BUCKET[row["status"]]] -= (
                row["amount"] - row["reversed_amount"]
            )
    totals.add(changes)
    _decide(review, staff, RiskReviewStatus.VOIDED, note)
    return review


@transaction.atomic
def hold(order_id: int, distributor_id: int, staff, *, reason: str) -> RiskReview:
    """人工暂扣: staff hold what `order_id` still has to pay `distributor_id` (pending or
    frozen, and out of any batch under review) until the case is cleared or voided in
    风控审核, like a hold the guards made. A case decided before is reopened."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写暂扣原因"), code="REASON_REQUIRED")
    _lock_order(order_id)
    pair = Commission.objects.filter(order_id=order_id, distributor_id=distributor_id)
    # Every row of the pair locked before it is read: a settlement run skips locked rows, so
    # none can settle between the test below and the hold.
    list(pair.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
    if pair.filter(status=CommissionStatus.SETTLED).exists():
        raise InvalidInput(
            _("该分销商在该订单上的佣金已结算，不能暂扣（可在售后中追回）"), code="HOLD_SETTLED"
        )
    rows = list(
        pair.filter(status__in=HELD)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values("pk", "amount", "reversed_amount")
    )
    amount = sum(row["amount"] - row["reversed_amount"] for row in rows)
    if not amount:
        raise InvalidInput(_("没有可暂扣的佣金（已取消或金额为零）"), code="HOLD_NOTHING")
    ids = [row["pk"] for row in rows]
    who = getattr(staff, "username", "") or texts.SOME_STAFF
    evidence = (texts.MANUAL_HOLD % {"who": who, "reason": reason})[:200]
    case = (
        RiskReview.objects.select_for_update()
        .filter(order_id=order_id, distributor_id=distributor_id)
        .first()
    )
    if case is not None and case.status == RiskReviewStatus.OPEN:
        raise InvalidInput(_("该佣金已在风控审核中"), code="HOLD_ALREADY_HELD", status=409)
    from fenxiao.orders.models import Order

    buyer_id = Order.objects.filter(pk=order_id).values_list("buyer_id", flat=True).get()
    record(
        [
            RiskReview(
                order_id=order_id,
                distributor_id=distributor_id,
                buyer_id=buyer_id,
                signals=RiskSignal.MANUAL,
                evidence=[evidence],
                held_amount=amount,
            )
        ]
    )
    Commission.objects.filter(pk__in=ids).update(under_review=True)
    settlement.release_from_review_batches(ids)
    return RiskReview.objects.get(order_id=order_id, distributor_id=distributor_id)


def revoke_trust(trust: RiskTrust) -> None:
    """The pair is screened like any other again, from their next order."""
    RiskTrust.objects.filter(pk=trust.pk).delete()


def close_moot(**scope) -> int:
    """Close as 已失效 the open reviews within `scope` (e.g. order_id=…, distributor_id=…)
    that hold nothing any more — a refund or a ban's void cancelled every commission they
    held — so the queue and its to-do count list only what a decision still changes. One
    statement; call it in the transaction that cancelled the commission."""
    still_held = Commission.objects.filter(
        order_id=OuterRef("order_id"), distributor_id=OuterRef("distributor_id"), status__in=HELD
    )
    return (
        RiskReview.objects.filter(status__in=RISK_REVIEW_FLOW.sources(RiskReviewStatus.CLOSED), **scope)
        .exclude(Exists(still_held))
        .update(
            status=RiskReviewStatus.CLOSED,
            note=texts.REVIEW_MOOT,
            decided_at=timezone.now(),
        )
    )


def describe(review: RiskReview) -> str:
    """A review as the bulk actions list it (shown, never stored)."""
    return _("订单 %(number)s（%(signals)s，暂扣 %(held)s）") % {
        "number": review.order.number,
        "signals": _("、").join(review.signal_labels),
        "held": format_fen(review.held_amount),
    }
