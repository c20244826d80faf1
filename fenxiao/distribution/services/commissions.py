"""Commission: created pending at payment, frozen at completion, reduced or clawed back on
refunds. Every amount is computed from the line's paid amount, rounded down to the fen.

Each change also moves the distributors' running totals (`totals.add`), once per call and
at its end, in the same transaction."""

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from fenxiao.core.money import apply_bp, format_fen
from fenxiao.notices.services import events as notices

from ..models import (
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    DistributorStatus,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
    OrderAttribution,
    RuleKind,
    SalesTier,
    texts,
)
from . import config, ledger, risk, store_rules, totals
from .rules import RuleBook


def month_start(now=None):
    local = timezone.localtime(now or timezone.now())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def period_sales(distributor_id: int, since) -> int:
    """A distributor's level-1 paid sales since `since`, net of refunds, as they stand: an
    order cancelled after payment is refunded in full (`refunded_amount`), so it stops
    counting at once. A bonus already written on an earlier order is not revisited when a
    later refund drops the month below the threshold: a commission changes only with
    refunds of its own line (SPEC, commission lifecycle).

    Read while a payment is applied (the tier bonus), so it must stay cheap at any history
    size: the distributor's order ids come from the `attribution_level1_order` index alone,
    and the planner joins them with orders by key (a small distributor) or with the month's
    paid orders from `order_paid_at` (a big one), whichever is fewer rows — never a scan of
    all orders. The payment locks no product row (sales counts move after its commit, see
    catalog.services.sales), so only this order's own rows are held meanwhile."""
    from fenxiao.orders.models import Order

    sums = Order.objects.filter(attribution__level1_id=distributor_id, paid_at__gte=since).aggregate(
        paid=Sum("paid_amount"), refunded=Sum("refunded_amount")
    )
    # Sales at a store's till count too, less their returns, as they do in the running totals.
    till = OfflineAttribution.objects.filter(level1_id=distributor_id, created_at__gte=since).aggregate(
        total=Sum("total"), refunded=Sum("refunded")
    )
    return (sums["paid"] or 0) - (sums["refunded"] or 0) + (till["total"] or 0) - (till["refunded"] or 0)


def tier_bonus_bp(distributor_id: int, now=None) -> int:
    tiers = list(SalesTier.objects.order_by("-threshold"))
    if not tiers:
        return 0
    sales = period_sales(distributor_id, month_start(now))
    return next((t.bonus_bp for t in tiers if sales >= t.threshold), 0)


# What a payment reads of the attribution's three distributors and their grades: who they
# are, whether they earn, and their grade's rates. The other ~25 columns of each (profile
# text, review notes, grade conditions) cost the six-table read more to build and convert
# than the rows cost to fetch.
_PAID_ATTRIBUTION_FIELDS = ["order_id", "level1_id", "level2_id", "level3_id"] + [
    f"{level}__{field}"
    for level in ("level1", "level2", "level3")
    for field in (
        "user_id",
        "status",
        "grade_id",
        "grade__name",
        "grade__level1_bp",
        "grade__level2_bp",
        "grade__level3_bp",
        "grade__team_bp",
    )
]


def create_for_paid_order(order, cfg=None) -> list[Commission]:
    """Called by the order-paid hook inside the payment transaction. `cfg`, the settings
    record when the caller has read it already in this transaction (read here otherwise).

    Also counts the order for its level-1 distributor's orders and sales (earning or not:
    a suspended one still sold it), together with the new pending commission in one
    `totals.add`, so the payment takes the totals rows in one ascending order."""
    attribution = (
        OrderAttribution.objects.select_related("level1__grade", "level2__grade", "level3__grade")
        .only(*_PAID_ATTRIBUTION_FIELDS)
        .filter(order=order)
        .first()
    )
    if attribution is None:
        return []
    changes = totals.deltas()
    totals.order_paid(changes, attribution.level1_id, order.paid_amount)
    created = write_for(order, attribution, cfg)
    earned: dict[int, int] = {}  # what the order earns each distributor, by user
    for commission in created:
        totals.commission_created(changes, commission)
        user_id = commission.distributor.user_id
        earned[user_id] = earned.get(user_id, 0) + commission.amount
    totals.add(changes)
    notices.commission_arrived(order_id=order.pk, amounts=earned)
    return created


def write_for(order, attribution: OrderAttribution, cfg=None) -> list[Commission]:
    """Compute and write the commission `attribution`'s chain earns on the paid `order`
    (pending, screened by the abuse guards). The caller moves the running totals."""
    beneficiaries = [
        (level, d)
        for level, d in ((1, attribution.level1), (2, attribution.level2), (3, attribution.level3))
        if d is not None and d.status == DistributorStatus.ACTIVE
    ]
    if not beneficiaries:
        return []
    cfg = cfg or config.current()
    lines = list(order.lines.all())
    book = RuleBook(lines, cfg)
    bonus = {d.pk: tier_bonus_bp(d.pk) for level, d in beneficiaries if level == 1}
    store_rates = store_rules.level1_rates(d.pk for level, d in beneficiaries if level == 1)
    commissions = []
    for line in lines:
        if line.paid_amount <= 0:
            continue
        commissions += line_commissions(
            line, line.paid_amount, beneficiaries, book, bonus, store_rates, cfg, order=order, order_line=line
        )
    # Screened before they are written, so what the guards hold is never settleable.
    reviews = risk.screen(order, beneficiaries, commissions, cfg)
    Commission.objects.bulk_create(commissions)
    risk.record(reviews)
    return commissions


def line_commissions(line, paid: int, beneficiaries, book, bonus, store_rates, cfg, **source) -> list:
    """One line's commission for each beneficiary (`(level, distributor)`), guard applied,
    unsaved. `paid` is what the line paid; `source` names the line on each commission (its
    order and order line, or a till sale's line) and may set its status."""
    per_line = []
    for level, distributor in beneficiaries:
        grade = distributor.grade
        resolved = book.resolve(line, level, grade)
        if level == 1:
            resolved = store_rules.apply(resolved, store_rates.get(distributor.pk))
        if resolved.excluded:
            # 不计佣金: no level, and no tier bonus or team commission on top of nothing.
            continue
        extra_bonus = bonus.get(distributor.pk, 0) if level == 1 else 0
        team = grade.team_bp if (level == 2 and grade is not None) else 0
        if resolved.kind == RuleKind.FIXED:
            amount = resolved.value * line.quantity + apply_bp(paid, extra_bonus + team)
        else:
            amount = apply_bp(paid, resolved.value + extra_bonus + team)
        per_line.append(
            Commission(
                distributor=distributor,
                level=level,
                base=paid,
                quantity=line.quantity,
                rule_kind=resolved.kind,
                rate_bp=resolved.value if resolved.kind == RuleKind.RATE else 0,
                fixed_per_unit=resolved.value if resolved.kind == RuleKind.FIXED else 0,
                bonus_bp=extra_bonus,
                team_bp=team,
                rule_source=resolved.source,
                rule=resolved.rule,
                rule_version=resolved.rule.version if resolved.rule else 0,
                rule_name=resolved.name,
                grade_name=grade.name if grade else "",
                settings_version=cfg.version,
                amount=amount,
                **source,
            )
        )
    _apply_guard(per_line, apply_bp(paid, cfg.max_commission_bp))
    # A level trimmed to nothing by the guard is kept, so "why ¥0" can be answered.
    return [c for c in per_line if c.amount > 0 or c.capped > 0]


def _apply_guard(per_line: list[Commission], cap: int) -> None:
    """Never pay more than the guard on one line: trim from the deepest level up."""
    excess = sum(c.amount for c in per_line) - cap
    for commission in sorted(per_line, key=lambda c: -c.level):
        if excess <= 0:
            break
        cut = min(excess, commission.amount)
        commission.amount -= cut
        commission.capped = cut
        excess -= cut


def freeze_for_completed_order(order) -> int:
    until = config.hold_until(order.completed_at or timezone.now())
    # Locked first, so the net amounts moved to `frozen` are the ones frozen.
    pending = Commission.objects.filter(
        pk__in=list(
            Commission.objects.select_for_update()
            .filter(order=order, status=CommissionStatus.PENDING)
            .values_list("pk", flat=True)
        )
    )
    changes = totals.commission_moves(pending, CommissionStatus.PENDING, CommissionStatus.FROZEN)
    moved = pending.update(status=CommissionStatus.FROZEN, frozen_until=until)
    totals.add(changes)
    return moved


def freeze_for_completed_orders(order_ids, completed_at) -> int:
    """The auto-complete sweep's chunk: every order completed at the same moment, so one
    hold end and ONE UPDATE for all their pending commission. Call inside the chunk's
    transaction, with the orders locked (a refund of one of them waits for the chunk)."""
    until = config.hold_until(completed_at)
    pending = Commission.objects.filter(order_id__in=list(order_ids), status=CommissionStatus.PENDING)
    # What each distributor moves from pending to frozen (net of refunds), in one query.
    changes = totals.commission_moves(pending, CommissionStatus.PENDING, CommissionStatus.FROZEN)
    if not changes:
        return 0
    moved = pending.update(status=CommissionStatus.FROZEN, frozen_until=until)
    totals.add(changes)
    return moved


def apply_line_refunds(order, lines) -> None:
    """Bring each refunded line's commissions to their share of what is still paid.

    The target is computed from the original amount each time, so several partial refunds
    never drift by a fen: net = amount × (paid − refunded) // paid.
    """
    with transaction.atomic():
        changes = totals.deltas()
        for line in lines:
            line.refresh_from_db(fields=["paid_amount", "refunded_amount"])
            note = texts.LINE_REFUNDED % {"number": order.number, "amount": format_fen(line.refunded_amount)}
            # Only the commission rows: a distributor's row is locked only for a clawback,
            # which takes from the balance (as a withdrawal does, under the same lock), so a
            # refund of held commission never queues behind, or blocks, that distributor's
            # payments.
            commissions = (
                Commission.objects.select_for_update(of=("self",))
                .select_related("distributor")
                .filter(order_line=line)
                .order_by("pk")
            )
            for commission in commissions:
                bring_to_share(commission, line.paid_amount, line.refunded_amount, note, changes)
        totals.add(changes)
        risk.close_moot(order_id=order.pk)


def cancel_for_unsold_order(order, note: str) -> None:
    """The order was closed before anything shipped, with part of what was paid kept (every
    unit refunded for less than its price): nothing was sold, so nothing is owed on what the
    merchant kept. Each commission still standing is cancelled, as a full refund of its line
    would cancel it."""
    with transaction.atomic():
        changes = totals.deltas()
        commissions = (
            Commission.objects.select_for_update(of=("self",))
            .select_related("distributor", "order_line")
            .filter(order_id=order.pk)
            .order_by("pk")
        )
        for commission in commissions:
            paid = commission.order_line.paid_amount if commission.order_line_id else commission.base
            bring_to_share(commission, paid, paid, note, changes)
        totals.add(changes)
        risk.close_moot(order_id=order.pk)


def bring_to_share(
    commission: Commission, paid: int, refunded: int, note: str, changes: totals.Deltas
) -> int:
    """Bring one commission (locked by the caller) to its share of what its line still has
    paid, `paid` and `refunded` being the line's paid amount and cumulative refunds: reduced
    or cancelled while held, clawed back through the ledger once settled. Returns the cut
    (0 when it already is at or below its share). Online order lines and till sale lines
    (`offline`) both come through here, so their arithmetic cannot drift apart."""
    if commission.status == CommissionStatus.CANCELLED:
        return 0
    remaining = max(paid - refunded, 0)
    target = commission.amount * remaining // paid if paid else 0
    cut = commission.net_amount - target
    if cut <= 0:
        return 0
    if commission.status == CommissionStatus.SETTLED:
        ledger.lock(commission.distributor_id)
        adjustment = CommissionAdjustment.objects.create(
            commission=commission,
            kind=CommissionAdjustment.Kind.CLAWBACK,
            amount=cut,
            refunded_base=refunded,
            note=note,
        )
        LedgerEntry.objects.create(
            distributor=commission.distributor,
            kind=LedgerKind.CLAWBACK,
            amount=-cut,
            source_key=f"clawback:{adjustment.pk}",
            commission=commission,
            note=texts.CLAWBACK % {"note": note},
        )
        Commission.objects.filter(pk=commission.pk).update(reversed_amount=F("reversed_amount") + cut)
        changes[commission.distributor_id]["settled"] -= cut
        changes[commission.distributor_id]["balance"] -= cut
        return cut
    kind = CommissionAdjustment.Kind.CANCELLED if target == 0 else CommissionAdjustment.Kind.REDUCED
    CommissionAdjustment.objects.create(
        commission=commission, kind=kind, amount=cut, refunded_base=refunded, note=note
    )
    fields = {"reversed_amount": F("reversed_amount") + cut}
    if target == 0:
        fields["status"] = CommissionStatus.CANCELLED
    Commission.objects.filter(pk=commission.pk).update(**fields)
    # Reduced or cancelled, the cut leaves its bucket (a cancelled commission's net is 0).
    changes[commission.distributor_id][totals.BUCKET[commission.status]] -= cut
    return cut
