"""Commission on a sale made at a store's till (门店收银), the port the stores app calls
when its POS pushes a sale and the store turned 门店收银计佣 on.

Distribution knows nothing of stores: the sale arrives as plain values. It is paid for and
complete, so it earns as an online order would that was paid and then completed, at once:
the same beneficiaries (`attribution.chain_for`), rules (`RuleBook`, the store's own level-1
rate, tier bonus, team commission, the guard per line), created frozen until the hold ends,
and the same running totals. A line the shop has no SKU for earns nothing.

A return at the till (门店退货) takes back as an online refund does: each refunded line's
commission is brought to its share of what the line still has paid
(`commissions.bring_to_share`, the same arithmetic, so several partial returns never drift),
and the sale counts for its level-1 distributor's sales less what went back.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from fenxiao.core.money import format_fen
from fenxiao.notices.services import events as notices

from ..models import Commission, CommissionStatus, DistributorStatus, OfflineAttribution, texts
from . import config, store_rules, totals
from .attribution import chain_for
from .commissions import bring_to_share, line_commissions, tier_bonus_bp
from .rules import RuleBook


@dataclass(frozen=True)
class TillLine:
    ref: str  # unique for the line, e.g. "pos:<sale id>:<line id>"
    sku_id: int | None
    product_id: int | None
    quantity: int
    amount: int  # fen paid for the line
    name: str  # what the line sold, as commission lists show it
    # RuleBook reads a promotion's snapshot from the line: a till sale has none.
    commission_override: None = None


@dataclass(frozen=True)
class TillSale:
    key: str  # unique for the sale, e.g. "pos:<sale id>"
    buyer: object  # the member (a user)
    total: int
    label: str  # e.g. "门店收银 <store> 单号 <no>"
    lines: list[TillLine] = field(default_factory=list)


@dataclass(frozen=True)
class TillResult:
    commissions: list[Commission]

    @property
    def amount(self) -> int:
        return sum(c.amount for c in self.commissions)


def create_for_till_sale(sale: TillSale, now: datetime | None = None) -> TillResult:
    """Call inside the transaction that records the sale. Counts the sale for its level-1
    distributor's orders and sales and creates the frozen commission, one `totals.add`."""
    now = now or timezone.now()
    cfg = config.current()
    chain = chain_for(sale.buyer, cfg)
    if chain is None:
        return TillResult([])
    level1, level2, level3 = chain.levels
    OfflineAttribution.objects.create(
        sale_key=sale.key,
        level1=level1,
        level2=level2,
        level3=level3,
        self_purchase=chain.self_purchase,
        reason=chain.reason,
        total=sale.total,
        settings_version=cfg.version,
    )
    beneficiaries = [
        (level, d)
        for level, d in enumerate(chain.levels, start=1)
        if d is not None and d.status == DistributorStatus.ACTIVE
    ]
    created = _create(sale, beneficiaries, cfg, config.hold_until(now), now) if beneficiaries else []
    changes = totals.deltas()
    totals.order_paid(changes, level1.pk, sale.total)
    earned: dict[int, int] = {}
    for commission in created:
        totals.commission_created(changes, commission)
        user_id = commission.distributor.user_id
        earned[user_id] = earned.get(user_id, 0) + commission.amount
    totals.add(changes)
    notices.commission_arrived_in_store(sale_key=sale.key, label=sale.label, amounts=earned)
    return TillResult(created)


def _create(sale: TillSale, beneficiaries, cfg, until, now) -> list[Commission]:
    lines = [line for line in sale.lines if line.sku_id and line.product_id and line.amount > 0]
    if not lines:
        return []
    book = RuleBook(lines, cfg)
    bonus = {d.pk: tier_bonus_bp(d.pk, now) for level, d in beneficiaries if level == 1}
    store_rates = store_rules.level1_rates(d.pk for level, d in beneficiaries if level == 1)
    commissions = []
    for line in lines:
        commissions += line_commissions(
            line,
            line.amount,
            beneficiaries,
            book,
            bonus,
            store_rates,
            cfg,
            offline_ref=line.ref,
            offline_label=sale.label[:120],
            item_name=line.name[:200],
            status=CommissionStatus.FROZEN,
            frozen_until=until,
        )
    Commission.objects.bulk_create(commissions)
    return commissions


@dataclass(frozen=True)
class TillRefundLine:
    ref: str  # the sale line's `TillLine.ref`
    paid: int  # fen the line paid (its amount at the sale)
    refunded: int  # fen refunded on the line so far, this return included


@dataclass(frozen=True)
class TillRefund:
    key: str  # the sale's `TillSale.key`
    amount: int  # fen this return gave back (the sum over its lines)
    label: str  # e.g. "门店收银 <store> 单号 <no>", for the adjustments' notes
    lines: list[TillRefundLine] = field(default_factory=list)


@dataclass(frozen=True)
class TillRefundResult:
    reduced: int = 0  # fen taken off held commission (reduced or cancelled)
    clawed_back: int = 0  # fen taken back from settled commission, through the ledger


def refund_till_sale(refund: TillRefund) -> TillRefundResult:
    """Call inside the transaction that records the return, after the sale lines' refunded
    amounts grew. Locks the lines' commission rows (ascending id), a distributor's row only
    for a clawback, and the running totals last, in one `totals.add`, as online refunds do."""
    changes = totals.deltas()
    reduced = clawed_back = 0
    by_ref = {line.ref: line for line in refund.lines}
    commissions = (
        Commission.objects.select_for_update(of=("self",))
        .select_related("distributor")
        .filter(offline_ref__in=list(by_ref))
        .order_by("pk")
    )
    for commission in commissions:
        line = by_ref[commission.offline_ref]
        note = texts.TILL_RETURN % {"sale": refund.label, "amount": format_fen(line.refunded)}
        cut = bring_to_share(commission, line.paid, line.refunded, note, changes)
        if commission.status == CommissionStatus.SETTLED:
            clawed_back += cut
        else:
            reduced += cut
    level1_id = (
        OfflineAttribution.objects.filter(sale_key=refund.key).values_list("level1_id", flat=True).first()
    )
    if level1_id and refund.amount:
        OfflineAttribution.objects.filter(sale_key=refund.key).update(refunded=F("refunded") + refund.amount)
        changes[level1_id]["sales"] -= refund.amount
    totals.add(changes)
    return TillRefundResult(reduced=reduced, clawed_back=clawed_back)
