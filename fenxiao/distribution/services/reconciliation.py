"""The daily reconciliation (对账): every fen traced from order line to commission, to the
ledger, to each distributor's balance, to the withdrawal and its payout.

Each check is a set-based query over the whole history, walked in windows of ids, so its
cost grows with the data but its memory and query count per window do not. A check that
finds rows which disagree looks at just those rows once more before reporting them: a
payment or settlement committing between two reads of one window is not an error, and
a real difference is still there the second time.

What is proved, whatever the rules and settings were at the time:

- 订单 → 佣金: a commission belongs to a paid order, to the distributor the order's
  attribution named at its level, never exceeds its base, and its base never exceeds what
  the buyer paid for the line; a commission frozen or settled is on a completed order.
- 佣金 → 流水: a settled commission is on the ledger exactly once, net of clawbacks; one
  not settled is not on it at all.
- 流水 → 余额: each distributor's balance (and every running total on their dashboard)
  equals what their history adds up to.
- 提现 → 流水 → 打款: each withdrawal holds exactly its amount, gives it back only when
  rejected or failed; a transfer that arrived is on a paid withdrawal, and one paid to the
  buyer wallet put exactly its payout there.

Each disagreement is kept as the templates it was said with and their values, beside its
sentence in the shop's language, so the backend reads it in its reader's language.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from fenxiao.core.days import day_bounds
from fenxiao.core.money import format_fen

from ..models import (
    Commission,
    CommissionStatus,
    Distributor,
    DistributorTotals,
    LedgerEntry,
    LedgerKind,
    PayoutMethod,
    PayoutStatus,
    Reconciliation,
    RiskReview,
    RiskReviewStatus,
    Withdrawal,
    WithdrawalStatus,
)
from ..payouts import SANDBOX_MARK
from . import totals

WINDOW = 5_000  # ids per query window
SHOWN = 20  # rows listed per check; the rest are counted

# A commission still owed (not cancelled) on an order that was never paid: the first thing
# 订单 → 佣金 rules out, shared with the compliance summary (合规概览).
LIVE = ~Q(status=CommissionStatus.CANCELLED)
ON_UNPAID_ORDER = Q(order__isnull=False, order__paid_at__isnull=True)

# The day's money movements shown above the checks: (key, label, is an amount in fen).
FIGURES = (
    ("paid_orders", gettext_lazy("付款订单数"), False),
    ("paid_amount", gettext_lazy("付款金额"), True),
    ("commission_created", gettext_lazy("新增佣金"), True),
    ("commission_settled", gettext_lazy("结算入账"), True),
    ("clawback", gettext_lazy("退款追回"), True),
    ("withdrawal_requested", gettext_lazy("提现申请"), True),
    ("withdrawal_released", gettext_lazy("提现退回"), True),
    ("withdrawal_paid", gettext_lazy("提现打款"), True),
    ("balance_total", gettext_lazy("分销商余额合计（日终）"), True),
)


# --- the problems' sentences ------------------------------------------------------------
# A problem is kept twice: as its sentence in the shop's language (`text`, what a row from
# before the templates has alone) and as the templates it was made from with their values
# (`subject`, `why`), so a page rebuilds it in its reader's language (`problem_text`), as
# the order log does (`OrderEvent.text`). Values are kept raw and shown when read: amounts
# in fen as {"fen": n}, statuses and field names as {kind: code}; ids, order numbers,
# counts and what the records say (a till sale's label, a payout reference) as they are.

# "subject：reasons", the reasons joined with "；".
PROBLEM = gettext_noop("%(subject)s：%(why)s")

# 订单 ↔ 佣金
COMMISSION_OF_ORDER = gettext_noop("佣金#%(pk)s（订单 %(number)s）")
COMMISSION_OF_TILL = gettext_noop("佣金#%(pk)s（门店收银 %(sale)s）")
ABOVE_BASE = gettext_noop("佣金 %(amount)s 超过计佣金额 %(base)s")
ORDER_UNPAID = gettext_noop("订单未付款")
# `named`: the distributor the order's attribution names at that level.
NOT_NAMED = gettext_noop("%(level)s级归属为分销商#%(named)s，佣金却给了#%(distributor)s")
NAMES_NOBODY = gettext_noop("订单没有%(level)s级归属，佣金却给了#%(distributor)s")
BASE_ABOVE_PAID = gettext_noop("计佣金额 %(base)s 超过实付 %(paid)s")
NOT_COMPLETED = gettext_noop("订单未完成，佣金却已冻结或结算")
NOT_RELEASED = gettext_noop("风控审核未放行，佣金却已结算")
HELD_WITHOUT_REVIEW = gettext_noop("风控暂扣，却没有待审核的风控记录（无法放行或作废）")

# 佣金 ↔ 账户流水
COMMISSION_OF_DISTRIBUTOR = gettext_noop("佣金#%(pk)s（%(status)s，分销商#%(distributor)s）")
BOOKED = gettext_noop("应入账 %(expected)s，流水为 %(booked)s")

# 账户流水 ↔ 余额 (`total`: a DistributorTotals field)
DISTRIBUTOR = gettext_noop("分销商#%(pk)s")
TOTAL_DIFFERS = gettext_noop("%(total)s记为 %(recorded)s，历史为 %(history)s")

# 提现 ↔ 流水 ↔ 打款
WITHDRAWAL = gettext_noop("提现 %(number)s")
HOLD_WRONG = gettext_noop("应冻结 %(amount)s，流水冻结 %(held)s（%(holds)s 笔）")
# `status`: 已拒绝 or 打款失败.
RELEASE_WRONG = gettext_noop("%(status)s，应退回 %(amount)s，流水退回 %(released)s")
RELEASED_UNASKED = gettext_noop("未拒绝或失败，流水却退回 %(released)s")
ARRIVED_NOT_PAID = gettext_noop("打款已到账，提现单却不是已打款")
PAID_BY_SANDBOX = gettext_noop("由沙箱打款（%(reference)s），款项并未实际到账")
PAID_WITHOUT_TIME = gettext_noop("已打款却没有打款时间")
CREDIT_WRONG = gettext_noop("应转入商城余额 %(payout)s，余额记录为 %(credited)s")


def _label(choices):
    return lambda code: str(dict(choices.choices).get(code, code))


def _total_label(name: str) -> str:
    try:
        return str(DistributorTotals._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


# What a {kind: code} value means, in the reader's language.
_CODES = {
    "fen": format_fen,
    "commission_status": _label(CommissionStatus),
    "withdrawal_status": _label(WithdrawalStatus),
    "total": _total_label,
}


def _fen(amount: int | None) -> dict:
    return {"fen": amount}


def _value(value):
    if isinstance(value, dict) and len(value) == 1:
        ((kind, code),) = value.items()
        if kind in _CODES:
            return _CODES[kind](code)
    return value


def _sentence(part) -> str:
    template, args = part
    return gettext(template) % {name: _value(value) for name, value in args.items()}


def problem_text(problem: dict) -> str:
    """A problem in the active language. Pure Python: a page of problems costs no query. A
    problem kept before its templates were (only `text`), or whose templates no longer fit
    its values, reads as it was written."""
    if "subject" not in problem:
        return problem.get("text", "")
    try:
        return gettext(PROBLEM) % {
            "subject": _sentence(problem["subject"]),
            "why": gettext("；").join(_sentence(part) for part in problem["why"]),
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return problem.get("text", "")


@dataclass
class Check:
    key: str
    title: str
    checked: int = 0
    # {"text": what disagrees, in the shop's language, "subject": [template, values],
    #  "why": [[template, values], …], "model": "app.model", "pk": the record to open}
    problems: list[dict] = field(default_factory=list)

    def add(self, said: tuple, model, pk: int) -> None:
        """`said`: (subject, reasons), each a (template, values) pair."""
        subject, why = said
        problem = {"subject": list(subject), "why": [list(part) for part in why]}
        # Written under the run's language (the shop's): the sentence older readers show.
        problem["text"] = problem_text(problem)
        self.problems.append({**problem, "model": model._meta.label_lower, "pk": pk})

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "title": self.title,
            "ok": not self.problems,
            "checked": self.checked,
            "problems": self.problems[:SHOWN],
            "more": max(len(self.problems) - SHOWN, 0),
        }


def run(day: date | None = None, *, staff=None) -> Reconciliation:
    """Reconcile now and keep the result, a new row, as `day`'s (yesterday by default): the
    checks cover all history up to now, the figures that day's movements."""
    started = time.monotonic()
    day = day or (timezone.localdate() - timedelta(days=1))
    # The result is kept: its texts (status and field names among them) stay in the
    # shop's language whoever asked for the run.
    with translation.override(settings.LANGUAGE_CODE):
        checks = [
            _orders_and_commissions(),
            _commissions_and_ledger(),
            _ledger_and_balances(),
            _withdrawals(),
        ]
    problem_count = sum(len(c.problems) for c in checks)
    return Reconciliation.objects.create(
        day=day,
        ok=problem_count == 0,
        problem_count=problem_count,
        figures=day_figures(day),
        checks=[c.as_dict() for c in checks],
        ran_at=timezone.now(),
        ran_by=staff,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


# --- walking history ---------------------------------------------------------------------


def _windows(model) -> Iterator[tuple[int, int]]:
    """(after, upto] id windows over the table, WINDOW ids wide (ids may have gaps)."""
    top = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for start in range(0, top, WINDOW):
        yield start, min(start + WINDOW, top)


def _wrong(
    query: Callable, describe: Callable[[dict], tuple], check: Check, model, *, base=None, windows=True
) -> None:
    """Run `query(rows)` (a values() queryset of the rows that disagree, given a base
    queryset) window by window, or over all rows in one statement where a window would
    read a whole unindexed table each time (`windows=False`); rows found are read once
    more before they are reported, as `describe(row)` says (see `Check.add`)."""
    base = base if base is not None else model.objects.all()
    spans = _windows(model) if windows else [(0, None)]
    for after, upto in spans:
        window = base.filter(pk__gt=after) if upto is None else base.filter(pk__gt=after, pk__lte=upto)
        check.checked += window.count()
        suspects = [row["pk"] for row in query(window)]
        if suspects:
            for row in query(base.filter(pk__in=suspects)):
                check.add(describe(row), model, row["pk"])


# --- the checks --------------------------------------------------------------------------


def _orders_and_commissions() -> Check:
    check = Check("orders", gettext_noop("订单 ↔ 佣金：佣金属于已付款订单、归属与下单时一致、金额不超过实付"))
    level_named = Case(
        When(level=1, then=F("order__attribution__level1_id")),
        When(level=2, then=F("order__attribution__level2_id")),
        When(level=3, then=F("order__attribution__level3_id")),
        output_field=IntegerField(),
    )

    # The abuse guards' review of this commission's order and distributor, if any: what it
    # held may settle only once cleared, and what is held must have an open review.
    review = RiskReview.objects.filter(
        order_id=OuterRef("order_id"), distributor_id=OuterRef("distributor_id")
    )

    def query(rows):
        online = Q(order__isnull=False)
        return (
            rows.filter(LIVE)
            .annotate(
                named=level_named,
                # A case decided before this commission existed (a 掉单申诉 改判 paying a
                # distributor of both chains afresh) never held it.
                unreleased=Exists(
                    review.exclude(status=RiskReviewStatus.CLEARED).filter(
                        Q(decided_at__isnull=True) | Q(decided_at__gte=OuterRef("created_at"))
                    )
                ),
                reviewable=Exists(review.filter(status=RiskReviewStatus.OPEN)),
            )
            .filter(
                Q(amount__gt=F("base"))
                | ON_UNPAID_ORDER
                | Q(status=CommissionStatus.SETTLED, unreleased=True)
                | Q(under_review=True, reviewable=False)
                | online
                & (
                    Q(named__isnull=True)
                    | ~Q(distributor_id=F("named"))
                    | Q(base__gt=F("order_line__paid_amount"))
                    | (
                        Q(status__in=[CommissionStatus.FROZEN, CommissionStatus.SETTLED])
                        & ~Q(order__status="completed")
                    )
                )
            )
            .values(
                "pk",
                "level",
                "distributor_id",
                "named",
                "amount",
                "base",
                "status",
                "offline_label",
                "under_review",
                "unreleased",
                "reviewable",
            )
            .annotate(
                number=F("order__number"),
                paid=F("order__paid_at"),
                line_paid=F("order_line__paid_amount"),
                order_status=F("order__status"),
            )
        )

    def describe(row) -> tuple:
        why = []
        if row["amount"] > row["base"]:
            why.append((ABOVE_BASE, {"amount": _fen(row["amount"]), "base": _fen(row["base"])}))
        if row["number"] is not None:  # what only an online order can get wrong
            if row["paid"] is None:
                why.append((ORDER_UNPAID, {}))
            if row["named"] is None:
                why.append((NAMES_NOBODY, {"level": row["level"], "distributor": row["distributor_id"]}))
            elif row["named"] != row["distributor_id"]:
                named = {"level": row["level"], "named": row["named"], "distributor": row["distributor_id"]}
                why.append((NOT_NAMED, named))
            if row["base"] > row["line_paid"]:
                why.append((BASE_ABOVE_PAID, {"base": _fen(row["base"]), "paid": _fen(row["line_paid"])}))
            if row["status"] in (CommissionStatus.FROZEN, CommissionStatus.SETTLED) and (
                row["order_status"] != "completed"
            ):
                why.append((NOT_COMPLETED, {}))
        if row["status"] == CommissionStatus.SETTLED and row["unreleased"]:
            why.append((NOT_RELEASED, {}))
        if row["under_review"] and not row["reviewable"]:
            why.append((HELD_WITHOUT_REVIEW, {}))
        if row["number"] is None:  # a till sale's commission
            return (COMMISSION_OF_TILL, {"pk": row["pk"], "sale": row["offline_label"]}), why
        return (COMMISSION_OF_ORDER, {"pk": row["pk"], "number": row["number"]}), why

    _wrong(query, describe, check, Commission)
    return check


def _commissions_and_ledger() -> Check:
    check = Check("ledger", gettext_noop("佣金 ↔ 账户流水：已结算佣金按净额入账一次，未结算的不入账"))
    expected = Case(
        When(status=CommissionStatus.SETTLED, then=F("amount") - F("reversed_amount")),
        default=Value(0),
        output_field=IntegerField(),
    )

    def query(rows):
        return (
            rows.order_by()
            .values("pk", "status", "distributor_id")
            .annotate(booked=Coalesce(Sum("ledger_entries__amount"), 0), expected=expected)
            .exclude(booked=F("expected"))
        )

    def describe(row) -> tuple:
        subject = {
            "pk": row["pk"],
            "status": {"commission_status": row["status"]},
            "distributor": row["distributor_id"],
        }
        booked = {"expected": _fen(row["expected"]), "booked": _fen(row["booked"])}
        return (COMMISSION_OF_DISTRIBUTOR, subject), [(BOOKED, booked)]

    # The ledger's commission column has no index (settlement writes one entry per
    # commission and each index costs a write), so both tables are read once, together.
    _wrong(query, describe, check, Commission, windows=False)
    return check


def _ledger_and_balances() -> Check:
    check = Check(
        "balances", gettext_noop("账户流水 ↔ 余额：每位分销商的余额和看板累计数等于其流水与佣金历史之和")
    )
    for after, upto in _windows(Distributor):
        ids = list(Distributor.objects.filter(pk__gt=after, pk__lte=upto).values_list("pk", flat=True))
        check.checked += len(ids)
        suspects = totals.mismatches(ids)
        for pk, diff in sorted(totals.mismatches(list(suspects)).items() if suspects else []):
            why = [
                (TOTAL_DIFFERS, {"total": {"total": f}, "recorded": _amount(f, a), "history": _amount(f, b)})
                for f, (a, b) in diff.items()
            ]
            check.add(((DISTRIBUTOR, {"pk": pk}), why), Distributor, pk)
    return check


def _amount(field_name: str, value: int):
    return value if field_name == "orders" else _fen(value)


def _withdrawals() -> Check:
    from fenxiao.customers.models import WalletEntry

    check = Check(
        "withdrawals",
        gettext_noop("提现 ↔ 流水 ↔ 打款：提现冻结其金额，仅拒绝或失败时退回，已打款的有打款记录"),
    )
    given_back = (WithdrawalStatus.REJECTED, WithdrawalStatus.FAILED)
    # Outside a demo, a withdrawal "paid" by the sandbox payout adapter reached nobody.
    demo = settings.DEMO_MODE or settings.DEBUG
    sandbox_paid = (
        Q(pk__in=[]) if demo else Q(status=WithdrawalStatus.PAID, payout_reference__contains=SANDBOX_MARK)
    )

    def query(rows):
        return (
            rows.order_by()
            .values("pk", "number", "status", "amount", "payout_status", "payout_reference")
            .annotate(
                held=Coalesce(
                    Sum("ledger_entries__amount", filter=Q(ledger_entries__kind=LedgerKind.WITHDRAWAL_HOLD)),
                    0,
                ),
                holds=Count("ledger_entries", filter=Q(ledger_entries__kind=LedgerKind.WITHDRAWAL_HOLD)),
                released=Coalesce(
                    Sum(
                        "ledger_entries__amount", filter=Q(ledger_entries__kind=LedgerKind.WITHDRAWAL_RELEASE)
                    ),
                    0,
                ),
            )
            .filter(
                ~Q(held=-F("amount"))
                | ~Q(holds=1)
                | (Q(status__in=given_back) & ~Q(released=F("amount")))
                | (~Q(status__in=given_back) & ~Q(released=0))
                | (Q(payout_status=PayoutStatus.SUCCEEDED) & ~Q(status=WithdrawalStatus.PAID))
                | (Q(status=WithdrawalStatus.PAID) & Q(paid_at__isnull=True))
                | sandbox_paid
            )
        )

    def describe(row) -> tuple:
        why = []
        amount, held, released = row["amount"], -row["held"], row["released"]
        if row["holds"] != 1 or held != amount:
            why.append((HOLD_WRONG, {"amount": _fen(amount), "held": _fen(held), "holds": row["holds"]}))
        if row["status"] in given_back and released != amount:
            status = {"withdrawal_status": row["status"]}
            given = {"status": status, "amount": _fen(amount), "released": _fen(released)}
            why.append((RELEASE_WRONG, given))
        if row["status"] not in given_back and released:
            why.append((RELEASED_UNASKED, {"released": _fen(released)}))
        if row["payout_status"] == PayoutStatus.SUCCEEDED and row["status"] != WithdrawalStatus.PAID:
            why.append((ARRIVED_NOT_PAID, {}))
        if not demo and SANDBOX_MARK in row["payout_reference"]:
            why.append((PAID_BY_SANDBOX, {"reference": row["payout_reference"]}))
        return (WITHDRAWAL, {"number": row["number"]}), why or [(PAID_WITHOUT_TIME, {})]

    _wrong(query, describe, check, Withdrawal)

    # Store credit: a paid one put exactly its payout into the distributor's wallet (found
    # by the credit's unique source key).
    credit = WalletEntry.objects.filter(
        source_key=Concat(Value("withdrawal:"), Cast(OuterRef("pk"), CharField()))
    ).values("amount")[:1]

    def to_wallet(rows):
        return (
            rows.annotate(credited=Subquery(credit))
            .filter(Q(credited__isnull=True) | ~Q(credited=F("payout")))
            .values("pk", "number", "payout", "credited")
        )

    def describe_credit(row) -> tuple:
        credited = {"payout": _fen(row["payout"]), "credited": _fen(row["credited"] or 0)}
        return (WITHDRAWAL, {"number": row["number"]}), [(CREDIT_WRONG, credited)]

    paid_to_wallet = Withdrawal.objects.filter(status=WithdrawalStatus.PAID, method=PayoutMethod.STORE_CREDIT)
    counted = check.checked
    _wrong(to_wallet, describe_credit, check, Withdrawal, base=paid_to_wallet)
    check.checked = counted  # the same withdrawals, counted once
    return check


# --- the day's movements -----------------------------------------------------------------


def day_figures(day: date) -> dict[str, int]:
    """What moved on `day` (local time): orders paid, commission earned and settled, clawed
    back, withdrawals asked for, given back and paid, and the balances at the day's end."""
    from fenxiao.orders.models import Order

    lo, hi = day_bounds(day, day)
    paid = Order.objects.filter(paid_at__gte=lo, paid_at__lt=hi).aggregate(
        n=Count("pk"), total=Coalesce(Sum("paid_amount"), 0)
    )
    ledger = LedgerEntry.objects.filter(created_at__gte=lo, created_at__lt=hi).aggregate(
        **{
            name: Coalesce(Sum("amount", filter=Q(kind=kind)), 0)
            for name, kind in (
                ("settled", LedgerKind.COMMISSION),
                ("clawback", LedgerKind.CLAWBACK),
                ("held", LedgerKind.WITHDRAWAL_HOLD),
                ("released", LedgerKind.WITHDRAWAL_RELEASE),
            )
        }
    )
    return {
        "paid_orders": paid["n"],
        "paid_amount": paid["total"],
        "commission_created": Commission.objects.filter(created_at__gte=lo, created_at__lt=hi).aggregate(
            t=Coalesce(Sum("amount"), 0)
        )["t"],
        "commission_settled": ledger["settled"],
        "clawback": -ledger["clawback"],
        "withdrawal_requested": -ledger["held"],
        "withdrawal_released": ledger["released"],
        "withdrawal_paid": Withdrawal.objects.filter(paid_at__gte=lo, paid_at__lt=hi).aggregate(
            t=Coalesce(Sum("payout"), 0)
        )["t"],
        "balance_total": LedgerEntry.objects.filter(created_at__lt=hi).aggregate(
            t=Coalesce(Sum("amount"), 0)
        )["t"],
    }
