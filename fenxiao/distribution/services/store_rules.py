"""Store-level commission rules for 导购: the only way commission reaches `fenxiao.stores`,
which sits above distribution (as orders reach promotions through their port).

The stores app registers the answer at startup (`StoresConfig.ready`). A store may set its
own level-1 rate for the distributors who sell for it (its 导购 and the store's own
account); it replaces the SKU / product / category / grade / default rule for that level.
A promotion's snapshot and a 不计佣金 rule still decide first: a store never pays
commission on what the merchant excluded, nor changes what a promotion promised.
"""

from collections.abc import Callable, Iterable

from ..models import RuleKind, RuleSource
from .rules import Resolved

# distributor ids -> {distributor id: (rate in basis points, store name)}
_level1_rates: Callable[[set[int]], dict[int, tuple[int, str]]] | None = None
# () -> (rate in basis points, store name) of the store paying the highest rate, or None
_highest_rate: Callable[[], tuple[int, str] | None] | None = None


def register(
    level1_rates: Callable[[set[int]], dict[int, tuple[int, str]]],
    highest_rate: Callable[[], tuple[int, str] | None] | None = None,
) -> None:
    global _level1_rates, _highest_rate
    _level1_rates = level1_rates
    _highest_rate = highest_rate


def level1_rates(distributor_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """One query (or none without stores) for every level-1 beneficiary of an order."""
    ids = {pk for pk in distributor_ids if pk}
    if not ids or _level1_rates is None:
        return {}
    return _level1_rates(ids)


def highest_rate() -> tuple[int, str] | None:
    """The highest level-1 rate any store pays its 导购, with that store's name, for the
    guard (`commission_guard.check_worst_combination`): whoever sells for that store could earn it."""
    return _highest_rate() if _highest_rate is not None else None


def apply(resolved: Resolved, store_rate: tuple[int, str] | None) -> Resolved:
    """The level-1 decision once the store's rate is considered."""
    if store_rate is None or resolved.excluded or resolved.source == RuleSource.PROMOTION:
        return resolved
    bp, name = store_rate
    return Resolved(RuleKind.RATE, bp, RuleSource.STORE, name=name)
