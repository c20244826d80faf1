"""佣金模拟 (what-if): before changing the levels, the default rates, the grades' rates,
the single-product cap or the freeze, replay the last months of real paid orders under the draft and compare
what they would have paid with what they did pay — in total, per level, as a share of
sales, and per distributor.

The freeze changes when commission can settle, not how much: the replay reports the hold
either way (the freeze, or the after-sale window if longer) and, under the current and the
drafted hold, the refunds asked for on or after the first settlement day past it (the
cycle's; a manual batch settles no earlier), whose commission would have been settled and
clawed back from the distributor's balance: each refunded line's share of that line's
commission, as a refund brings it down. While the hold covers the after-sale window such
refunds are only ones the merchant makes. What was really clawed back in the period is
reported beside them.

The replay is the live calculation (`commissions.line_commissions`, the rule book, the
stores' 导购 rates and the guard) on each order's frozen attribution, so it answers exactly
what checkout would have decided. It reads the orders in key order, `CHUNK` at a time, with
a fixed number of queries per chunk, and keeps only running sums: memory does not grow
with the number of orders, only with the number of distributors paid.

What stays as it was: the tier bonus each level-1 distributor earned then (it depends on
their sales, not on the draft), and who earns: the attribution taken at checkout, walked
further up the current team when the draft pays more levels, each distributor in their
current grade. A grade's drafted rates (a rate of its own, or none to follow the default)
replace its rates for its members in the replay. One product / SKU / category rule may be
drafted too (how it computes, its levels, on or off; not what it applies to): the replay
reads the active rules once and decides every line with the draft in place of the rule.
Amounts are compared at payment, before refunds, on both sides.
"""

import copy
import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core import jobs
from fenxiao.core.errors import DomainError, InvalidInput
from fenxiao.core.money import format_bp, format_fen, ratio_bp

from ..models import (
    MAX_FREEZE_DAYS,
    MAX_LEVELS,
    Commission,
    CommissionAdjustment,
    CommissionRule,
    Distributor,
    DistributorGrade,
    DistributorStatus,
    OrderAttribution,
    RuleKind,
)
from . import commission_guard, config, settlement_cycle, store_rules
from .commissions import line_commissions
from .rules import RuleBook, values_text

KIND = "distribution.simulation"
PERMISSION = "distribution.change_distributionsettings"
CHUNK = 500
MAX_MONTHS = 12
# What a draft may change (the rest of the settings are read as they are).
DRAFT_FIELDS = ("levels", "level1_bp", "level2_bp", "level3_bp", "max_commission_bp", "freeze_days")
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级"}
# A grade's rates a draft may change ("grades": {grade id: {field: bp, or None for the
# default}}); team_bp is never None.
GRADE_FIELDS = {
    "level1_bp": gettext_lazy("一级"),
    "level2_bp": gettext_lazy("二级"),
    "level3_bp": gettext_lazy("三级"),
    "team_bp": gettext_lazy("团队"),
}
# What a draft may change of one commission rule ("rule": {"id": rule id, field: value}):
# how it computes and whether it is on, not what it applies to.
RULE_FIELDS = ("kind", "level1", "level2", "level3", "is_active")
# The same, in the job's own (stored, Chinese) description.
_GRADE_FIELDS_ZH = {"level1_bp": "一级", "level2_bp": "二级", "level3_bp": "三级", "team_bp": "团队"}


@dataclass
class Tally:
    orders: int = 0
    sales: int = 0
    actual: int = 0
    draft: int = 0
    actual_by_level: dict = field(default_factory=lambda: defaultdict(int))
    draft_by_level: dict = field(default_factory=lambda: defaultdict(int))
    # distributor id → [actual, draft]
    by_distributor: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # Days an order's commission is held after completion, now and under the draft.
    hold_actual: int = 0
    hold_draft: int = 0
    # The settlement day that follows the hold (每周五 02:30): the draft keeps the shop's.
    settles: str = ""
    # Refunds asked for once the commission would have settled, and the commission they
    # claw back, under the current and the drafted hold: [count, fen].
    late_actual: list = field(default_factory=lambda: [0, 0])
    late_draft: list = field(default_factory=lambda: [0, 0])
    # What was really clawed back from the period's orders: [count, fen].
    clawed_back: list = field(default_factory=lambda: [0, 0])


def draft_settings(changes: dict):
    """The current settings with `changes` (unsaved), and what saving them would refuse
    ("" when they would be accepted). Unknown fields or values out of range: InvalidInput."""
    cfg = config.current()
    draft = copy.copy(cfg)
    for name, value in changes.items():
        if name in ("grades", "rule"):
            continue  # the grades' rates and a rule: `draft_grades`, `draft_rule`
        if name not in DRAFT_FIELDS:
            raise InvalidInput(_("无法模拟该设置项：%(name)s") % {"name": name}, code="SIMULATION_FIELD")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidInput(_("模拟方案的数值必须是非负整数"), code="SIMULATION_VALUE")
        setattr(draft, name, value)
    if not 1 <= draft.levels <= MAX_LEVELS:
        raise InvalidInput(_("分销层级必须是 1–%(max)s 级") % {"max": MAX_LEVELS}, code="SIMULATION_VALUE")
    if draft.max_commission_bp > 10000 or any(draft.level_bp(n) > 10000 for n in (1, 2, 3)):
        raise InvalidInput(_("比例不能超过 100%"), code="SIMULATION_VALUE")
    if draft.freeze_days > MAX_FREEZE_DAYS:
        raise InvalidInput(
            _("冻结期不能超过 %(days)s 天") % {"days": MAX_FREEZE_DAYS}, code="SIMULATION_VALUE"
        )
    grades = draft_grades(changes)
    rule = draft_rule(changes)
    try:
        # Checked with the drafted grade rates and rule in place (written in a savepoint
        # that is rolled back), as saving the settings, the grades and the rule would check them.
        config.dry_run(lambda: _validate(draft, grades, rule))
    except DomainError as exc:
        return draft, exc.message
    return draft, ""


def _validate(draft, grades: dict[int, dict], rule: CommissionRule | None) -> None:
    for pk, rates in grades.items():
        DistributorGrade.objects.filter(pk=pk).update(**rates)
    if rule is not None:
        CommissionRule.objects.filter(pk=rule.pk).update(
            **{name: getattr(rule, name) for name in RULE_FIELDS}
        )
        if rule.is_active:
            commission_guard.check_rule(rule, draft)
    config.validate(draft)


def draft_rule(changes: dict) -> CommissionRule | None:
    """The commission rule a draft changes, as it would be (unsaved), or None. An unknown
    rule or field, or a value out of range: InvalidInput."""
    raw = changes.get("rule")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InvalidInput(_("规则方案格式有误"), code="SIMULATION_VALUE")
    pk = raw.get("id")
    rule = None
    if isinstance(pk, int) and not isinstance(pk, bool):
        rule = CommissionRule.objects.select_related("grade").filter(pk=pk).first()
    if rule is None:
        raise InvalidInput(_("规则不存在"), code="SIMULATION_FIELD")
    for name, value in raw.items():
        if name == "id":
            continue
        if name not in RULE_FIELDS:
            raise InvalidInput(_("无法模拟该规则设置项：%(name)s") % {"name": name}, code="SIMULATION_FIELD")
        if name == "kind":
            valid = value in RuleKind.values
        elif name == "is_active":
            valid = isinstance(value, bool)
        else:
            valid = value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)
        if not valid:
            raise InvalidInput(_("规则方案的取值有误：%(name)s") % {"name": name}, code="SIMULATION_VALUE")
        setattr(rule, name, value)
    if rule.excludes:
        rule.level1 = rule.level2 = rule.level3 = None
    if rule.kind == RuleKind.RATE and any((rule.value(n) or 0) > 10000 for n in (1, 2, 3)):
        raise InvalidInput(_("比例不能超过 100%"), code="SIMULATION_VALUE")
    return rule


def _rules_with(rule: CommissionRule | None) -> list | None:
    """The active rules with the drafted one in place of its saved self (left out when the
    draft switches it off); None (each chunk reads its own) without a drafted rule."""
    if rule is None:
        return None
    rules = list(CommissionRule.objects.filter(is_active=True).exclude(pk=rule.pk))
    return [*rules, rule] if rule.is_active else rules


def draft_grades(changes: dict) -> dict[int, dict]:
    """The grades' rates a draft changes, checked: {grade id: {field: bp or None}}. An
    unknown grade or field, or a value out of range: InvalidInput."""
    raw = changes.get("grades") or {}
    if not isinstance(raw, dict):
        raise InvalidInput(_("等级方案格式有误"), code="SIMULATION_VALUE")
    try:
        wanted = {int(key): rates for key, rates in raw.items()}
    except (TypeError, ValueError):
        raise InvalidInput(_("等级不存在"), code="SIMULATION_FIELD") from None
    known = set(DistributorGrade.objects.filter(pk__in=list(wanted)).values_list("pk", flat=True))
    drafts = {}
    for pk, rates in wanted.items():
        if pk not in known or not isinstance(rates, dict):
            raise InvalidInput(_("等级不存在"), code="SIMULATION_FIELD")
        for name, value in rates.items():
            if name not in GRADE_FIELDS:
                raise InvalidInput(
                    _("无法模拟该等级设置项：%(name)s") % {"name": name}, code="SIMULATION_FIELD"
                )
            if value is None and name != "team_bp":
                continue
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10000:
                raise InvalidInput(_("等级比例须在 0–100% 之间"), code="SIMULATION_VALUE")
        drafts[pk] = dict(rates)
    return drafts


def _with_draft_grades(chunk, grades: dict[int, dict]) -> None:
    """Give the grades loaded with the chunk's distributors (each row its own copy, never
    saved) the draft's rates."""
    if not grades:
        return
    for attribution in chunk:
        for start in (attribution.level1, attribution.level2, attribution.level3):
            distributor = start
            while distributor is not None:
                if distributor.grade_id in grades and Distributor.grade.is_cached(distributor):
                    for name, value in grades[distributor.grade_id].items():
                        setattr(distributor.grade, name, value)
                distributor = distributor.parent if Distributor.parent.is_cached(distributor) else None


def _beneficiaries(attribution: OrderAttribution, levels: int) -> list:
    """Who would earn on the order under `levels`: its attribution, walked further up the
    current team where it stops short, active distributors only (as a payment decides)."""
    chain = [attribution.level1, attribution.level2, attribution.level3]
    for index in range(1, MAX_LEVELS):
        if chain[index] is None and chain[index - 1] is not None:
            chain[index] = chain[index - 1].parent
    return [
        (level, distributor)
        for level, distributor in enumerate(chain[:levels], start=1)
        if distributor is not None and distributor.status == DistributorStatus.ACTIVE
    ]


def replay(
    draft,
    since,
    until,
    progress=None,
    grades: dict[int, dict] | None = None,
    rule: CommissionRule | None = None,
) -> Tally:
    """Replay the orders paid in [since, until) with an attribution under `draft` (and the
    grades' drafted rates, and the drafted rule)."""
    from fenxiao.orders.models import AfterSaleLine, OrderLine

    rules = _rules_with(rule)
    tally = Tally(
        hold_actual=config.hold_days(config.current()),
        hold_draft=config.hold_days(draft),
        settles=settlement_cycle.when_text(draft),
    )
    attributions = (
        OrderAttribution.objects.filter(order__paid_at__gte=since, order__paid_at__lt=until)
        .select_related(
            "order",
            *(f"level{n}__grade" for n in (1, 2, 3)),
            *(f"level{n}__parent__grade" for n in (1, 2)),
            "level1__parent__parent__grade",
        )
        .order_by("order_id")
    )
    total = attributions.count()
    after = 0
    while True:
        chunk = list(attributions.filter(order_id__gt=after)[:CHUNK])
        if not chunk:
            return tally
        after = chunk[-1].order_id
        ids = [a.order_id for a in chunk]
        _with_draft_grades(chunk, grades or {})
        lines = defaultdict(list)
        for line in OrderLine.objects.filter(order_id__in=ids).order_by("pk"):
            lines[line.order_id].append(line)
        book = RuleBook([line for group in lines.values() for line in group], draft, rules=rules)
        bonus = dict(
            Commission.objects.filter(order_id__in=ids, level=1)
            .values_list("order_id")
            .annotate(bp=Max("bonus_bp"))
            .values_list("order_id", "bp")
        )
        store_rates = store_rules.level1_rates(a.level1_id for a in chunk)
        # order line id → [actual, draft] commission
        per_line = defaultdict(lambda: [0, 0])
        for row in Commission.objects.filter(order_id__in=ids).values_list(
            "order_line_id", "level", "distributor_id", "amount"
        ):
            line_id, level, distributor_id, amount = row
            tally.actual += amount
            tally.actual_by_level[level] += amount
            tally.by_distributor[distributor_id][0] += amount
            per_line[line_id][0] += amount
        for attribution in chunk:
            order = attribution.order
            tally.orders += 1
            tally.sales += order.paid_amount
            beneficiaries = _beneficiaries(attribution, draft.levels)
            if not beneficiaries:
                continue
            earned = {attribution.level1_id: bonus.get(order.pk, 0)}
            for line in lines[order.pk]:
                if line.paid_amount <= 0:
                    continue
                for c in line_commissions(
                    line, line.paid_amount, beneficiaries, book, earned, store_rates, draft
                ):
                    tally.draft += c.amount
                    tally.draft_by_level[c.level] += c.amount
                    tally.by_distributor[c.distributor.pk][1] += c.amount
                    per_line[line.pk][1] += c.amount
        _count_late_refunds(
            tally,
            {a.order_id: a.order for a in chunk},
            AfterSaleLine.objects.filter(
                after_sale__order_id__in=ids, after_sale__refunded_at__isnull=False
            ).values_list(
                "after_sale_id", "after_sale__order_id", "after_sale__created_at", "order_line_id", "amount"
            ),
            per_line,
            {line.pk: line.paid_amount for group in lines.values() for line in group},
            draft,
        )
        for amount in CommissionAdjustment.objects.filter(
            commission__order_id__in=ids, kind=CommissionAdjustment.Kind.CLAWBACK
        ).values_list("amount", flat=True):
            tally.clawed_back[0] += 1
            tally.clawed_back[1] += amount
        if progress:
            progress(tally.orders, total)


def _count_late_refunds(
    tally: Tally, orders: dict, refunded_lines, per_line: dict, paid: dict, draft
) -> None:
    """The chunk's refunded lines: each asked for once the first settlement run past the
    hold (current, draft) of its order's completion has settled it claws back its share of
    the line's commission (`amount × refunded // paid`, as a refund brings commission down;
    to within a fen of each commission's own rounding)."""
    late = ({}, {})  # after-sale id → commission it claws back, current and draft
    for after_sale_id, order_id, asked_at, line_id, refunded in refunded_lines:
        order = orders[order_id]
        if order.completed_at is None or not paid.get(line_id):
            continue
        for side, hold in enumerate((tally.hold_actual, tally.hold_draft)):
            # Settled by the first run once the hold is over; a refund asked before that run
            # only reduces what is still held.
            settled = settlement_cycle.first_run_after(draft, order.completed_at + timedelta(days=hold))
            amount = per_line[line_id][side] * min(refunded, paid[line_id]) // paid[line_id]
            if asked_at >= settled and amount > 0:
                late[side][after_sale_id] = late[side].get(after_sale_id, 0) + amount
    for side, totals in zip(late, (tally.late_actual, tally.late_draft), strict=True):
        totals[0] += len(side)
        totals[1] += sum(side.values())


def _share(part: int, sales: int) -> str:
    return format_bp(ratio_bp(part, sales)) if sales else "-"


def _signed(amount: int) -> str:
    return ("+" if amount > 0 else "") + format_fen(amount)


def figures(tally: Tally) -> list[tuple[str, str]]:
    delta = tally.draft - tally.actual
    rows = [
        ("订单数", f"{tally.orders}"),
        ("销售额（实付）", format_fen(tally.sales)),
        ("实际佣金", f"{format_fen(tally.actual)}（占销售额 {_share(tally.actual, tally.sales)}）"),
        ("模拟佣金", f"{format_fen(tally.draft)}（占销售额 {_share(tally.draft, tally.sales)}）"),
        ("佣金变化", _signed(delta)),
        ("对毛利的影响", f"{_signed(-delta)}（{_share(-delta, tally.sales)} 销售额）"),
    ]
    for level in range(1, MAX_LEVELS + 1):
        actual, draft = tally.actual_by_level.get(level, 0), tally.draft_by_level.get(level, 0)
        if actual or draft:
            rows.append((f"{LEVEL_NAMES[level]}佣金", f"{format_fen(actual)} → {format_fen(draft)}"))
    changed = sum(1 for actual, draft in tally.by_distributor.values() if actual != draft)
    rows.append(("佣金有变化的分销商", f"{changed} 人"))
    rows.append(
        (
            "佣金可结算时间",
            f"订单完成后 {tally.hold_actual} 天 → {tally.hold_draft} 天（之后的首个结算日：{tally.settles}）",
        )
    )
    rows.append(
        (
            "结算后才申请的退款（需追回佣金）",
            f"{tally.late_actual[0]} 笔 {format_fen(tally.late_actual[1])} → "
            f"{tally.late_draft[0]} 笔 {format_fen(tally.late_draft[1])}",
        )
    )
    rows.append(
        ("期间实际追回的佣金", f"{format_fen(tally.clawed_back[1])}（{tally.clawed_back[0]} 条佣金记录）")
    )
    return rows


def distributor_rows(tally: Tally):
    """The CSV's rows: every distributor paid on either side, biggest change first, names
    read a thousand at a time."""
    ordered = sorted(tally.by_distributor.items(), key=lambda item: (-abs(item[1][1] - item[1][0]), item[0]))
    for start in range(0, len(ordered), 1000):
        part = ordered[start : start + 1000]
        people = {
            d.pk: d
            for d in Distributor.objects.filter(pk__in=[pk for pk, _ in part]).select_related("user", "grade")
        }
        for pk, (actual, draft) in part:
            d = people.get(pk)
            yield [
                pk,
                d.referral_code if d else "",
                (d.real_name or d.user.display_name) if d else "",
                d.grade.name if d and d.grade else "",
                f"{actual / 100:.2f}",
                f"{draft / 100:.2f}",
                f"{(draft - actual) / 100:.2f}",
            ]


HEADERS = ["分销商ID", "推广码", "分销商", "等级", "实际佣金（元）", "模拟佣金（元）", "变化（元）"]


def describe(changes: dict, months: int) -> str:
    # The job keeps it: in the shop's language. (A `with`, not a decorator: the decorator
    # is one object shared by every thread calling it.)
    with translation.override(settings.LANGUAGE_CODE):
        return _describe(changes, months)


def _describe(changes: dict, months: int) -> str:
    cfg = config.current()
    parts = []
    for name in DRAFT_FIELDS:
        if name in changes and changes[name] != getattr(cfg, name):
            label = str(cfg._meta.get_field(name).verbose_name).replace("（基点）", "").replace("（天）", "")
            old, new = getattr(cfg, name), changes[name]
            if name == "levels":
                text = f"{old} → {new} 级"
            elif name == "freeze_days":
                text = f"{old} → {new} 天"
            else:
                text = f"{format_bp(old)} → {format_bp(new)}"
            parts.append(f"{label} {text}")
    drafts = draft_grades(changes)
    grades = {g.pk: g for g in DistributorGrade.objects.filter(pk__in=list(drafts))}
    for pk, rates in drafts.items():
        grade = grades[pk]
        for name, value in rates.items():
            old = getattr(grade, name)
            if value != old:
                zh = _GRADE_FIELDS_ZH[name]
                parts.append(f"{grade.name}{zh} {_grade_rate(old)} → {_grade_rate(value)}")
    drafted = draft_rule(changes)
    if drafted is not None:
        saved = CommissionRule.objects.get(pk=drafted.pk)
        before, after = _rule_state(saved), _rule_state(drafted)
        if before != after:
            parts.append(f"规则“{saved.name}” {before} → {after}")
    return f"佣金模拟（近 {months} 个月）：" + ("，".join(parts) or "与当前设置相同")


def _grade_rate(bp: int | None) -> str:
    return "默认" if bp is None else format_bp(bp)


def _rule_state(rule: CommissionRule) -> str:
    return values_text(rule) if rule.is_active else "停用"


def start(user, changes: dict, months: int):
    """Queue the simulation as a background job (任务中心) and return it."""
    if not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise InvalidInput(_("模拟区间为 1–%(max)s 个月") % {"max": MAX_MONTHS}, code="SIMULATION_VALUE")
    draft_settings(changes)  # refuse bad input now (the grades and the rule too), not in the worker
    return jobs.create(
        KIND, user=user, title=describe(changes, months)[:200], params={"changes": changes, "months": months}
    )


def run(job_run: jobs.JobRun) -> None:
    params = job_run.job.params or {}
    months = params.get("months", 3)
    draft, refusal = draft_settings(params.get("changes") or {})
    until = job_run.job.created_at or timezone.now()
    since = until - timedelta(days=30 * months)
    job_run.progress(0, total=0, stage="回放订单", force=True)
    tally = replay(
        draft,
        since,
        until,
        lambda done, total: job_run.progress(done, total=total),
        grades=draft_grades(params.get("changes") or {}),
        rule=draft_rule(params.get("changes") or {}),
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    writer.writerows(distributor_rows(tally))
    job_run.save_result(f"佣金模拟_近{months}个月.csv", ("\ufeff" + out.getvalue()).encode())
    message = f"回放 {since:%Y-%m-%d} 至 {until:%Y-%m-%d} 的 {tally.orders} 笔分销订单"
    if refusal:
        message += f"。注意：该方案保存时会被拒绝：{refusal}"
    job_run.succeed(summary={"figures": figures(tally)}, message=message)


def register() -> None:
    jobs.register(KIND, label="佣金模拟", permission=PERMISSION, handler=run)
