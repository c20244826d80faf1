"""The append-only ledger: a distributor's balance is the sum of their entries."""

from django.db.models import Sum

from ..models import Distributor, LedgerEntry


def balance(distributor_id: int) -> int:
    return (
        LedgerEntry.objects.filter(distributor_id=distributor_id).aggregate(total=Sum("amount"))["total"] or 0
    )


def lock(distributor_id: int) -> Distributor:
    """Serialise every balance-changing operation of one distributor on their row."""
    return Distributor.objects.select_for_update().get(pk=distributor_id)
