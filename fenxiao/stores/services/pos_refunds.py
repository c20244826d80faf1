"""Returns at a store's till (门店退货), pushed by its POS against a sale it reported.

Invariant: a return is recorded once per (sale, the till's refund no.), in one transaction
with all it moves, or not at all. Under the sale's row lock it is checked against what each
sale line still has (quantity and amount, taken from the sale's lines of that SKU code in
line order); then the lines' refunded counters grow, the member's figures lose the amount
(spend down, refunds up, as an online refund moves them), and distribution's port brings
each line's commission to its share of what the line still has paid and takes the amount
off the level-1 distributor's sales. A refusal (unknown sale or line, more than remains, a
total that does not add up, a time in the future) writes nothing, so the till can correct
the return and send it again.

The idempotency key (`pos_sync.once`) answers a retry with the first answer; the unique
(sale, refund no.) refuses the same return sent again under another key.
"""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from ..pos_errors import PosPayloadInvalid, PosRefundExceedsSale, PosSaleNotFound
from ..pos_models import OfflineRefund, OfflineRefundLine, OfflineSale, OfflineSaleLine
from .pos_sync import line_ref, sale_key, sale_label, till_time


def record_refund(store, api_key, sale_no: str, refund: dict, now=None) -> dict:
    """Record one till return of the store's sale `sale_no`. `refund` is the validated
    payload: {refund_id, lines: [{sku_code, quantity, amount}], total, refunded_at}."""
    from fenxiao.customers.services import figures

    now = now or timezone.now()
    lines = refund["lines"]
    total = sum(line["amount"] for line in lines)
    if total != refund["total"]:
        raise PosPayloadInvalid(_("明细金额之和与退款总额不一致"), code="POS_TOTAL_MISMATCH")
    if any(line["quantity"] == 0 and line["amount"] == 0 for line in lines):
        raise PosPayloadInvalid(_("退货明细的数量和金额不能同时为 0"), code="POS_REFUND_LINE_EMPTY")
    refunded_at = till_time(
        refund["refunded_at"],
        now,
        "POS_REFUNDED_AT_INVALID",
        early=_("退货时间不能早于 2000-01-01"),
        late=_("退货时间不能晚于当前时间"),
    )
    # Locked: two returns of one sale are checked against what remains one after the other.
    sale = OfflineSale.objects.select_for_update().filter(store=store, sale_no=sale_no).first()
    if sale is None:
        raise PosSaleNotFound()
    if refunded_at < sale.sold_at:
        raise PosPayloadInvalid(_("退货时间不能早于销售时间"), code="POS_REFUNDED_AT_INVALID")
    try:
        with transaction.atomic():
            record = OfflineRefund.objects.create(
                sale=sale,
                refund_no=refund["refund_id"],
                total=total,
                refunded_at=refunded_at,
                api_key=api_key,
            )
    except IntegrityError:
        raise PosPayloadInvalid(
            _("该退货单号已上报过（换了幂等键？）"), code="POS_REFUND_DUPLICATE", status=409
        ) from None
    # Checked after the refund no. is taken, so a return sent again says so even when it
    # could not fit any more (its row goes with the transaction if this refuses).
    taken = _allocate(list(sale.lines.order_by("pk")), lines)
    OfflineRefundLine.objects.bulk_create(
        [
            OfflineRefundLine(refund=record, sale_line=line, quantity=quantity, amount=amount)
            for line, (quantity, amount) in taken.items()
        ]
    )
    for line, (quantity, amount) in taken.items():
        OfflineSaleLine.objects.filter(pk=line.pk).update(
            refunded_quantity=F("refunded_quantity") + quantity, refunded_amount=F("refunded_amount") + amount
        )
        line.refunded_quantity += quantity
        line.refunded_amount += amount
    if total:
        OfflineSale.objects.filter(pk=sale.pk).update(refunded_amount=F("refunded_amount") + total)
    commission = _commission(store, sale, list(taken), total)
    if sale.buyer_id is not None and total:
        # Last, as an online refund moves the figures after the running totals.
        figures.refund_approved(sale.buyer_id, total)
        figures._retag_after_commit(sale.buyer_id)
    return {
        "refund_id": record.refund_no,
        "sale_id": sale.sale_no,
        "id": record.pk,
        "total": total,
        "sale_refunded_total": sale.refunded_amount + total,
        "commission": commission,
    }


def _allocate(sale_lines: list[OfflineSaleLine], lines: list[dict]) -> dict:
    """{sale line: (quantity, amount)} this return takes. The requested lines of one SKU
    code add up; quantity and amount are each taken from the sale's lines of that code in
    line order, as far as each line still has. Refused whole if a code is not in the sale
    or asks more than its lines still have."""
    asked: dict[str, list[int]] = {}
    for line in lines:
        want = asked.setdefault(line["sku_code"], [0, 0])
        want[0] += line["quantity"]
        want[1] += line["amount"]
    by_code: dict[str, list[OfflineSaleLine]] = {}
    for line in sale_lines:
        by_code.setdefault(line.sku_code, []).append(line)
    unknown = [code for code in asked if code not in by_code]
    if unknown:
        raise PosPayloadInvalid(
            _("退货明细中有该笔销售没有的 SKU 编码"),
            code="POS_REFUND_LINE_UNKNOWN",
            status=422,
            missing=unknown[:50],
        )
    taken: dict[OfflineSaleLine, tuple[int, int]] = {}
    over = []
    for code, (quantity, amount) in asked.items():
        for line in by_code[code]:
            q = min(quantity, line.quantity - line.refunded_quantity)
            a = min(amount, line.amount - line.refunded_amount)
            if q or a:
                taken[line] = (q, a)
                quantity -= q
                amount -= a
        if quantity or amount:
            have = by_code[code]
            over.append(
                {
                    "sku_code": code,
                    "quantity_left": sum(line.quantity - line.refunded_quantity for line in have),
                    "amount_left": sum(line.amount - line.refunded_amount for line in have),
                }
            )
    if over:
        raise PosRefundExceedsSale(lines=over[:50])
    return taken


def _commission(store, sale: OfflineSale, lines: list[OfflineSaleLine], total: int) -> dict:
    """What the return took back from the sale's commission, through distribution's port,
    {"reduced": fen, "clawed_back": fen}. Asked whatever the setting is now: commission the
    sale earned while 门店收银计佣 was on still follows its returns, and so does that of a sale
    whose member's account is gone since (the port finds what there is in two queries)."""
    from fenxiao.distribution.services import offline

    result = offline.refund_till_sale(
        offline.TillRefund(
            key=sale_key(sale),
            amount=total,
            label=sale_label(store, sale),
            lines=[
                offline.TillRefundLine(ref=line_ref(line), paid=line.amount, refunded=line.refunded_amount)
                for line in lines
            ],
        )
    )
    return {"reduced": result.reduced, "clawed_back": result.clawed_back}
