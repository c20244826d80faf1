"""A 作废 ban racing the distributor's own withdrawal and a settlement run, on real
PostgreSQL connections: whichever goes first, every fen of the balance is either held by
a withdrawal or written off by the ban, never both and never neither."""

import pytest

from fenxiao.core.errors import DomainError
from fenxiao.distribution.models import Commission, LedgerEntry, LedgerKind, Withdrawal
from fenxiao.distribution.services import distributors, settlement, withdrawals
from fenxiao.testing import run_together as race

from .helpers import (
    after_freeze,
    assert_totals_match_history,
    bound_buyer,
    buy,
    earn,
    ledger_sum,
    make_distributor,
    receive,
    sku,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNT = {"name": "张三", "account": "zhangsan@example.com"}


def together(*calls) -> list:
    outcomes = race(len(calls), lambda i: calls[i](), start_timeout=10, join_timeout=60)
    crashed = [o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, DomainError)]
    assert not crashed, crashed
    return outcomes


@pytest.mark.parametrize("attempt", range(3))
def test_a_void_ban_and_a_withdrawal_at_once_leave_nothing_stranded(postgres_only, attempt):
    b = make_distributor()
    earn(b, 10000)  # 1,000 settled
    fetched = type(b).objects.get(pk=b.pk)

    outcomes = together(
        lambda: distributors.ban(fetched, None, decision="void", reason="刷单"),
        lambda: withdrawals.request(
            type(b).objects.get(pk=b.pk), amount=600, method="alipay", account=ACCOUNT
        ),
    )

    held = Withdrawal.objects.filter(distributor=b).count()
    ban = LedgerEntry.objects.get(distributor=b, kind=LedgerKind.BAN)
    if held:  # the withdrawal went first: the ban wrote off what it left
        assert ban.amount == -400
    else:  # the ban went first: the withdrawal was refused
        assert isinstance(outcomes[1], DomainError) and ban.amount == -1000
    assert ledger_sum(b) == 0
    assert_totals_match_history()


def test_a_void_ban_during_a_settlement_run_writes_off_what_the_run_credited(postgres_only, lamp):
    b = make_distributor()
    for _ in range(6):
        receive(buy(bound_buyer(b), (sku(lamp), 1)))
    due = after_freeze()

    together(
        lambda: settlement.settle_due(due),
        lambda: distributors.ban(type(b).objects.get(pk=b.pk), None, decision="void", reason="刷单"),
    )

    settled = Commission.objects.filter(distributor=b, status="settled").count()
    cancelled = Commission.objects.filter(distributor=b, status="cancelled").count()
    assert settled + cancelled == 6
    ban = LedgerEntry.objects.get(distributor=b, kind=LedgerKind.BAN)
    assert ban.amount == -1000 * settled
    assert ledger_sum(b) == 0
    assert_totals_match_history()
