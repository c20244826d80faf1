"""Store credit (商城余额): a buyer's wallet, spent at checkout as a way to pay.

Invariant: a wallet never goes below zero, and each debit or credit is applied exactly
once. The wallet is the append-only ledger `WalletEntry`; its balance is the sum of the
entries. A debit locks the owner's user row (one lock per wallet, PostgreSQL `SELECT …
FOR UPDATE`; SQLite serialises writers with IMMEDIATE transactions), sums, and only then
writes the negative entry, so simultaneous checkouts queue on the lock and the second
sees the first one's debit. Every entry has a unique `source_key` (the order or refund it
belongs to): repeating a debit or a credit finds the entry already there and adds nothing.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Sum

from ..errors import WalletInsufficient
from ..models import WalletEntry


def balance(user_id: int) -> int:
    return WalletEntry.objects.filter(user_id=user_id).aggregate(total=Sum("amount"))["total"] or 0


def entries(user_id: int):
    """The buyer's 商城余额明细, newest first (page it by key: the table only grows)."""
    return WalletEntry.objects.filter(user_id=user_id).order_by("-id")


def _lock(user_id: int) -> None:
    get_user_model().objects.select_for_update().only("pk").get(pk=user_id)


def debit_up_to(user_id: int, most: int, *, source_key: str, note: str) -> int:
    """Take as much as the wallet holds, at most `most` fen; returns what was taken.
    The balance is read under the wallet's lock, so a racing debit is seen, not overdrawn."""
    if most <= 0:
        return 0
    with transaction.atomic():
        _lock(user_id)
        existing = WalletEntry.objects.filter(source_key=source_key).first()
        if existing is not None:
            return -existing.amount
        amount = min(balance(user_id), most)
        if amount <= 0:
            return 0
        WalletEntry.objects.create(user_id=user_id, amount=-amount, source_key=source_key, note=note[:200])
        return amount


def debit(user_id: int, amount: int, *, source_key: str, note: str) -> WalletEntry:
    """Take exactly `amount` fen from the wallet, or refuse with WALLET_INSUFFICIENT."""
    if amount <= 0:
        raise ValueError("debit amount must be positive")
    with transaction.atomic():
        _lock(user_id)
        existing = WalletEntry.objects.filter(source_key=source_key).first()
        if existing is not None:
            return existing
        available = balance(user_id)
        if available < amount:
            raise WalletInsufficient(available=available, requested=amount)
        return WalletEntry.objects.create(
            user_id=user_id, amount=-amount, source_key=source_key, note=note[:200]
        )


def credit(user_id: int, amount: int, *, source_key: str, note: str) -> WalletEntry | None:
    """Give `amount` fen back (a refund, a released hold); once per `source_key`."""
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            return WalletEntry.objects.create(
                user_id=user_id, amount=amount, source_key=source_key, note=note[:200]
            )
    except IntegrityError:
        return WalletEntry.objects.get(source_key=source_key)
