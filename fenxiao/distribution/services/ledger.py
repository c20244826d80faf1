"""The append-only ledger: a distributor's balance is the sum of their entries."""

from django.db.models import Q, Sum

from ..models import Distributor, LedgerEntry, Withdrawal, WithdrawalStatus

# What a 资金明细 row shows of an entry and of what it refers to; the rest of a commission,
# its order and a withdrawal stays in the database.
_SHOWN = (
    "id",
    "kind",
    "amount",
    "note",
    "created_at",
    "commission__level",
    "commission__order_line_id",
    "commission__offline_label",
    "commission__order__number",
    "withdrawal__number",
)


def balance(distributor_id: int) -> int:
    return (
        LedgerEntry.objects.filter(distributor_id=distributor_id).aggregate(total=Sum("amount"))["total"] or 0
    )


def entries(distributor_id: int):
    """The distributor's 资金明细, newest first, each with the order of its commission and
    the number of its withdrawal read in the same query. Page it by key: it only grows."""
    return (
        LedgerEntry.objects.filter(distributor_id=distributor_id)
        .select_related("commission__order", "withdrawal")
        .only(*_SHOWN)
        .order_by("-id")
    )


def balances(distributor_id: int, page: list[LedgerEntry]) -> int:
    """The balance now, and on each entry of a newest-first page of `entries` the balance
    right after it (`balance_after`): the sum up to the page's newest entry, less each
    entry going down. One query whatever the page, the one the balance costs anyway; both
    sums come from one statement, so they agree even while entries are being written."""
    if not page:
        return balance(distributor_id)
    sums = LedgerEntry.objects.filter(distributor_id=distributor_id).aggregate(
        total=Sum("amount"), newer=Sum("amount", filter=Q(pk__gt=page[0].pk))
    )
    total = sums["total"] or 0
    after = total - (sums["newer"] or 0)
    for entry in page:
        entry.balance_after = after
        after -= entry.amount
    return total


def remembered_account(distributor_id: int, methods) -> dict:
    """The payout method and account (name, bank, account number) of the distributor's
    latest withdrawal by one of `methods` (those the shop offers now) that was paid or is
    still under way, for the withdraw form to fill in again. A rejected or failed one is
    passed over: its account may be why it was refused. Their own withdrawals only; the
    openid a WeChat payout keeps is not offered. One query."""
    last = (
        Withdrawal.objects.filter(distributor_id=distributor_id, method__in=list(methods))
        .exclude(status__in=[WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED])
        .only("method", "account")
        .order_by("-id")
        .first()
    )
    if last is None:
        return {}
    account = last.account if isinstance(last.account, dict) else {}
    return {"method": last.method} | {
        k: str(account[k]) for k in ("name", "bank", "account") if account.get(k)
    }


def lock(distributor_id: int) -> Distributor:
    """Serialise every balance-changing operation of one distributor on their row."""
    return Distributor.objects.select_for_update().get(pk=distributor_id)
