"""The compliance summary (合规概览): what a merchant shows a regulator or a platform
reviewer, read from the data, never written by hand.

Invariant: every figure comes from the database at the time it is asked for, in a fixed
number of queries whatever the number of orders, commissions, ledger entries or
distributors (one aggregate per table, grouped by a handful of values, and one recursive
query for the recruiting tree). Each section states what the code enforces and what the
data shows; a section passes (符合) only when the data agrees, and anything the code does
not enforce, or a figure that disagrees, is shown as 需关注 with the reason, never hidden.

What the code enforces, and where (kept true by the tests of each module):
- depth: `DistributionSettings.levels` is 1–3 (`config.validate`, constraint
  `distribution_levels_1_to_3`); a commission's level is 1–3 (`commission_level_1_to_3`);
  attribution walks up at most `levels` parents (`attribution.chain_for`).
- real sales only: a commission names an order line or a till sale line, never neither
  (`commission_from_order_line_or_offline_sale`); it is created only when an order is paid
  (`commissions.create_for_paid_order`) or a till sale is pushed (`offline.create_for_till_sale`).
- no recruiting pay: becoming a distributor or recruiting one creates a distributor and
  its totals row, nothing else; the ledger has only the kinds in `LedgerKind`.
"""

from datetime import datetime, timedelta

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    MAX_LEVELS,
    Commission,
    CommissionAdjustment,
    CommissionStatus,
    DistributorGrade,
    EnableMode,
    LedgerEntry,
    LedgerKind,
    OfflineAttribution,
    Reconciliation,
    RiskReview,
    RiskReviewStatus,
)
from . import config
from .compliance_figures import LEVEL_NAMES, Figure, Section, Summary, local_minute, no_sales, ratio_bp
from .compliance_structure import history, team
from .reconciliation import LIVE, ON_UNPAID_ORDER

__all__ = ["Figure", "Section", "Summary", "summary"]

RECENT_DAYS = 30


def summary(now: datetime | None = None) -> Summary:
    now = now or timezone.now()
    since = now - timedelta(days=RECENT_DAYS)
    cfg = config.current()
    commissions = _commission_figures(since)
    sections = [
        _levels(cfg, commissions),
        _real_sales(cfg, commissions),
        _no_recruiting_pay(cfg),
        _ratios(cfg, commissions, since),
        team(cfg),
        history(cfg),
    ]
    return Summary(generated_at=now, since=since, sections=sections)


# --- reading the data ------------------------------------------------------------------------


def _net():
    return F("amount") - F("reversed_amount")


def _commission_figures(since) -> dict:
    """Commissions grouped by level, status and source (order line or till line): one query."""
    rows = (
        Commission.objects.order_by()
        .annotate(
            till=Case(
                When(order_id__isnull=True, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .values("level", "status", "till")
        .annotate(
            n=Count("pk"),
            gross=Coalesce(Sum("amount"), 0),  # not "amount": that would shadow the column
            net=Coalesce(Sum(_net()), 0),
            recent_net=Coalesce(Sum(_net(), filter=Q(created_at__gte=since)), 0),
            capped_n=Count("pk", filter=Q(capped__gt=0)),
            capped=Coalesce(Sum("capped"), 0),
        )
    )
    out = {
        "by_level": {level: {"n": 0, "net": 0, "live_n": 0} for level in range(1, MAX_LEVELS + 1)},
        "by_status": {status: {"n": 0, "net": 0, "amount": 0} for status in CommissionStatus.values},
        "online_n": 0,
        "till_n": 0,
        "net": 0,
        "recent_net": 0,
        "capped_n": 0,
        "capped": 0,
        "deepest": 0,
        "deepest_live": 0,
        "beyond_max_levels": 0,
    }
    for row in rows:
        level, status = row["level"], row["status"]
        if level > MAX_LEVELS:  # refused by the database; counted here if it ever got in
            out["beyond_max_levels"] += row["n"]
        per_level = out["by_level"].setdefault(level, {"n": 0, "net": 0, "live_n": 0})
        per_level["n"] += row["n"]
        per_level["net"] += row["net"]
        per_status = out["by_status"].setdefault(status, {"n": 0, "net": 0, "amount": 0})
        per_status["n"] += row["n"]
        per_status["net"] += row["net"]
        per_status["amount"] += row["gross"]
        out["till_n" if row["till"] else "online_n"] += row["n"]
        for key in ("net", "recent_net", "capped_n", "capped"):
            out[key] += row[key]
        out["deepest"] = max(out["deepest"], level)
        if status != CommissionStatus.CANCELLED and row["net"] > 0:
            per_level["live_n"] += row["n"]
            out["deepest_live"] = max(out["deepest_live"], level)
    return out


# --- 1. levels ------------------------------------------------------------------------------


def _levels(cfg, c: dict) -> Section:
    figures = [
        Figure(
            _("当前分销层级（设置）"),
            count=cfg.levels,
            note=_("保存设置时校验 1–3 级，数据库约束 distribution_levels_1_to_3 同样拒绝超过 3 级"),
            alert=cfg.levels > MAX_LEVELS,
        ),
    ]
    for level in sorted(c["by_level"]):
        row = c["by_level"][level]
        figures.append(
            Figure(
                _("%(level)s佣金") % {"level": LEVEL_NAMES.get(level) or _("%(level)s级") % {"level": level}},
                count=row["n"],
                amount=row["net"],
                note=_("笔数含已取消；金额为扣除退款冲减后的净额"),
                alert=level > MAX_LEVELS,
            )
        )
    figures += [
        Figure(
            _("历史上产生过佣金的最深层级"),
            text=_("%(level)s 级") % {"level": c["deepest_live"]} if c["deepest_live"] else _("尚无"),
            note=_("仅计未取消且净额大于 0 的佣金"),
            alert=c["deepest_live"] > MAX_LEVELS,
        ),
        Figure(
            _("超过 3 级的佣金记录"),
            count=c["beyond_max_levels"],
            note=_("数据库约束 commission_level_1_to_3 拒绝写入"),
            alert=c["beyond_max_levels"] > 0,
        ),
    ]
    ok = cfg.levels <= MAX_LEVELS and c["beyond_max_levels"] == 0
    if ok:
        deepest = (
            _("佣金最深发放到第 %(level)s 级") % {"level": c["deepest_live"]}
            if c["deepest_live"]
            else _("尚无佣金发放")
        )
        explanation = _("分销层级设置为 %(levels)s 级，%(deepest)s；系统拒绝保存超过 3 级的设置或佣金。") % {
            "levels": cfg.levels,
            "deepest": deepest,
        }
    else:
        explanation = _("存在超过 3 级的设置或佣金记录，请立即核查。")
    notes = []
    if c["deepest_live"] > cfg.levels:
        notes.append(
            _(
                "有第 %(level)s 级的佣金，深于当前设置的 %(levels)s 级："
                "这些佣金按当时的设置（订单结算归属在下单时确定）计算，仍不超过 3 级。"
            )
            % {"level": c["deepest_live"], "levels": cfg.levels}
        )
    return Section("levels", _("一、分销层级不超过三级"), ok, explanation, figures, notes)


# --- 2. real sales only ----------------------------------------------------------------------


def _real_sales(cfg, c: dict) -> Section:
    figures = [
        Figure(_("来自线上订单商品的佣金"), count=c["online_n"]),
        Figure(_("来自门店收银商品的佣金"), count=c["till_n"]),
    ]
    for status in CommissionStatus:
        row = c["by_status"][status.value]
        figures.append(
            Figure(
                _("佣金状态：%(status)s") % {"status": status.label},
                count=row["n"],
                amount=row["net"] if status != CommissionStatus.CANCELLED else row["amount"],
                note=_("原始金额（已全部冲减）") if status == CommissionStatus.CANCELLED else _("净额"),
            )
        )
    adjustments = {
        row["kind"]: row
        for row in CommissionAdjustment.objects.order_by()
        .values("kind")
        .annotate(n=Count("pk"), total=Coalesce(Sum("amount"), 0))
    }
    # A ban's release and a risk review's clearing reduce nothing: they are decisions.
    decisions = {CommissionAdjustment.Kind.RELEASED, CommissionAdjustment.Kind.RISK_CLEARED}
    for kind in CommissionAdjustment.Kind:
        if kind in decisions:
            continue
        row = adjustments.get(kind.value, {"n": 0, "total": 0})
        figures.append(
            Figure(_("佣金冲减：%(kind)s") % {"kind": kind.label}, count=row["n"], amount=row["total"])
        )

    # 风控审核: what looked like a sale to oneself (second account, circular recruiting,
    # refund abuse) is held until staff decide; voided ones are among the reductions above.
    held = RiskReview.objects.filter(status=RiskReviewStatus.OPEN).aggregate(
        n=Count("pk"), amount=Coalesce(Sum("held_amount"), 0)
    )
    figures += [
        Figure(
            _("可疑订单暂扣佣金（风控）"),
            text=_("已开启") if cfg.risk_guard else _("未开启"),
            note=_("同一手机号、地址、设备或收款账户，上下级疑似同一人，频繁退款"),
        ),
        Figure(
            _("风控暂扣、待审核的佣金"), count=held["n"], amount=held["amount"], note=_("审核放行前不结算")
        ),
    ]

    from fenxiao.orders.models import OrderStatus

    on_cancelled = Q(order__status=OrderStatus.CANCELLED) & ~ON_UNPAID_ORDER
    wrong = Commission.objects.filter(LIVE).aggregate(
        unpaid_n=Count("pk", filter=ON_UNPAID_ORDER),
        unpaid=Coalesce(Sum(_net(), filter=ON_UNPAID_ORDER), 0),
        cancelled_n=Count("pk", filter=on_cancelled),
        cancelled=Coalesce(Sum(_net(), filter=on_cancelled), 0),
    )
    figures += [
        Figure(
            _("未付款订单上的有效佣金"),
            count=wrong["unpaid_n"],
            amount=wrong["unpaid"],
            note=_("应为 0：佣金只在订单付款时产生"),
            alert=wrong["unpaid_n"] > 0,
        ),
        Figure(
            _("已取消订单上仍有效的佣金"),
            count=wrong["cancelled_n"],
            amount=wrong["cancelled"],
            note=_("应为 0：已付款订单取消即全额退款，佣金随退款取消"),
            alert=wrong["cancelled_n"] > 0,
        ),
    ]
    last = Reconciliation.objects.order_by("-ran_at", "-pk").only("day", "ok", "checks", "ran_at").first()
    reconciled_ok = True
    if last is None:
        figures.append(Figure(_("最近一次每日对账（订单 ↔ 佣金）"), text=_("尚未对账")))
    else:
        check = next((x for x in last.checks if x.get("key") == "orders"), None)
        problems = (len(check["problems"]) + check["more"]) if check else 0
        reconciled_ok = problems == 0
        figures.append(
            Figure(
                _("最近一次每日对账（订单 ↔ 佣金）"),
                text=f"{last.day:%Y-%m-%d} · "
                + (_("一致") if reconciled_ok else _("%(count)s 项不一致") % {"count": problems}),
                note=_("核对于 %(at)s") % {"at": local_minute(last.ran_at)},
                alert=not reconciled_ok,
            )
        )
    ok = wrong["unpaid_n"] == 0 and wrong["cancelled_n"] == 0 and reconciled_ok
    if ok:
        explanation = _("每笔佣金都来自已付款订单或门店收银的商品行；退款按比例冲减，结算后退款从余额追回。")
    else:
        reasons = []
        if wrong["unpaid_n"]:
            reasons.append(_("%(count)s 笔佣金挂在未付款订单上") % {"count": wrong["unpaid_n"]})
        if wrong["cancelled_n"]:
            reasons.append(
                _("%(count)s 笔佣金挂在已取消订单上（退款可能尚未完成）") % {"count": wrong["cancelled_n"]}
            )
        if not reconciled_ok:
            reasons.append(_("最近一次对账发现订单与佣金不一致"))
        explanation = _("%(reasons)s。") % {"reasons": "；".join(reasons)}
    notes = [
        _(
            "数据库约束 commission_from_order_line_or_offline_sale："
            "每笔佣金必须对应一个订单商品行或门店收银商品行。"
        ),
        _("计佣基数为买家实付（扣除全部优惠，不含运费），从不按标价计算。"),
    ]
    return Section("sales", _("二、只对真实销售计佣"), ok, explanation, figures, notes)


# --- 3. no recruiting pay --------------------------------------------------------------------


def _no_recruiting_pay(cfg) -> Section:
    rows = {
        row["kind"]: row
        for row in LedgerEntry.objects.order_by()
        .values("kind")
        .annotate(
            n=Count("pk"),
            total=Coalesce(Sum("amount"), 0),
            no_commission=Count("pk", filter=Q(commission__isnull=True)),
            no_withdrawal=Count("pk", filter=Q(withdrawal__isnull=True)),
            nonzero=Count("pk", filter=~Q(amount=0)),
        )
    }
    empty = {"n": 0, "total": 0, "no_commission": 0, "no_withdrawal": 0, "nonzero": 0}
    figures = []
    for kind in LedgerKind:
        row = rows.get(kind.value, empty)
        figures.append(
            Figure(_("账户流水：%(kind)s") % {"kind": kind.label}, count=row["n"], amount=row["total"])
        )
    figures.append(Figure(_("分销商余额合计（全部流水之和）"), amount=sum(r["total"] for r in rows.values())))
    unknown = sum(r["n"] for k, r in rows.items() if k not in LedgerKind.values)
    unlinked = sum(rows.get(k, empty)["no_commission"] for k in (LedgerKind.COMMISSION, LedgerKind.CLAWBACK))
    unheld = sum(
        rows.get(k, empty)["no_withdrawal"]
        for k in (LedgerKind.WITHDRAWAL_HOLD, LedgerKind.WITHDRAWAL_RELEASE)
    )
    ban_money = rows.get(LedgerKind.BAN, empty)["nonzero"]
    figures += [
        Figure(
            _("其他类型的流水"),
            count=unknown,
            note=_("应为 0：系统没有招募奖励、入门费返还等入账类型"),
            alert=unknown > 0,
        ),
        Figure(
            _("未关联佣金记录的佣金入账或追回"),
            count=unlinked,
            note=_("应为 0：每笔入账都能追溯到一笔佣金及其订单商品"),
            alert=unlinked > 0,
        ),
        Figure(
            _("未关联提现单的提现冻结或退回"),
            count=unheld,
            note=_("应为 0"),
            alert=unheld > 0,
        ),
        Figure(
            _("金额不为 0 的封禁处理流水"),
            count=ban_money,
            note=_("应为 0：封禁只作废或保留待结算佣金，本身不增减余额"),
            alert=ban_money > 0,
        ),
    ]

    grades = DistributorGrade.objects.aggregate(
        by_team_size=Count("pk", filter=Q(min_direct_team__isnull=False, min_direct_team__gt=0)),
        team_bp=Count("pk", filter=Q(team_bp__gt=0)),
    )
    figures.append(
        Figure(
            _("以“直属团队人数”为升级条件的分销等级"),
            count=grades["by_team_size"],
            note=_("升级后佣金比例更高，等于间接按招募人数计酬，建议改用销售额条件"),
            alert=grades["by_team_size"] > 0,
        )
    )
    figures.append(
        Figure(
            _("设有团队佣金的分销等级"),
            count=grades["team_bp"],
            note=_("团队佣金按直属团队成员的销售额计算，只发给二级（上级），不按人数"),
        )
    )
    # Every condition (spend, completed orders, listed products) is a purchase asked of the
    # buyer before they may earn: the shape 变相入门费 takes, so it is shown, not passed.
    join_by_purchase = cfg.enable_mode == EnableMode.CONDITION
    join_text = cfg.get_enable_mode_display()
    if cfg.enable_mode == EnableMode.CONDITION:
        join_text += f"（{cfg.get_condition_kind_display()}）"
    figures.append(
        Figure(
            _("成为分销商方式"),
            text=join_text,
            note=_("以购买商品或消费满额作为分销资格，可能被认定为以认购商品变相交纳入门费")
            if join_by_purchase
            else _("成为分销商无需付费或购买"),
            alert=join_by_purchase,
        )
    )

    money_ok = unknown == 0 and unlinked == 0 and unheld == 0 and ban_money == 0
    ok = money_ok and not grades["by_team_size"] and not join_by_purchase
    if ok:
        explanation = _(
            "成为分销商或招募下级不产生任何佣金或流水；余额只来自已结算的销售佣金，减去追回和提现。"
        )
    else:
        reasons = []
        if not money_ok:
            reasons.append(_("有无法追溯到销售佣金或提现的流水"))
        if grades["by_team_size"]:
            reasons.append(_("有分销等级以直属团队人数为升级条件"))
        if join_by_purchase:
            reasons.append(_("成为分销商需要先购买商品或消费满额"))
        explanation = _("%(reasons)s。系统本身不发放招募奖励。") % {"reasons": "；".join(reasons)}
    notes = [
        _(
            "成为分销商（申请、指定、人人分销、满足条件、扫门店码）和招募下级只建立分销商资料与上下级关系，"
            "不写入任何佣金或账户流水；账户流水只有上表所列类型。"
        ),
    ]
    return Section("recruiting", _("三、不按招募人数计酬（无拉人头奖励）"), ok, explanation, figures, notes)


# --- 4. ratios ---------------------------------------------------------------------------------


def _ratios(cfg, c: dict, since) -> Section:
    from fenxiao.orders.models import OrderLine

    # Distribution sales: what buyers paid for the goods (no shipping) on orders a
    # distributor is attributed, less refunds: the sales commission is paid on.
    lines = OrderLine.objects.filter(order__attribution__isnull=False, order__paid_at__isnull=False)
    paid = lines.aggregate(
        paid=Coalesce(Sum("paid_amount"), 0),
        refunded=Coalesce(Sum("refunded_amount"), 0),
        recent_paid=Coalesce(Sum("paid_amount", filter=Q(order__paid_at__gte=since)), 0),
        recent_refunded=Coalesce(Sum("refunded_amount", filter=Q(order__paid_at__gte=since)), 0),
    )
    till = OfflineAttribution.objects.aggregate(
        net=Coalesce(Sum(F("total") - F("refunded")), 0),
        recent=Coalesce(Sum(F("total") - F("refunded"), filter=Q(created_at__gte=since)), 0),
    )
    sales = paid["paid"] - paid["refunded"] + till["net"]
    recent_sales = paid["recent_paid"] - paid["recent_refunded"] + till["recent"]
    all_bp, recent_bp = ratio_bp(c["net"], sales), ratio_bp(c["recent_net"], recent_sales)
    cap = cfg.max_commission_bp
    default_sum = sum(cfg.level_bp(level) for level in range(1, cfg.levels + 1))
    over = [bp for bp in (all_bp, recent_bp) if bp is not None and bp > cap]
    figures = [
        Figure(
            _("近 %(days)s 天分销净销售额") % {"days": RECENT_DAYS},
            amount=recent_sales,
            note=_("有分销归属的商品实付减退款，含门店收银"),
        ),
        Figure(_("近 %(days)s 天佣金（净额）") % {"days": RECENT_DAYS}, amount=c["recent_net"]),
        Figure(
            _("近 %(days)s 天佣金占分销净销售额") % {"days": RECENT_DAYS},
            rate=recent_bp,
            text=no_sales(recent_bp),
        ),
        Figure(_("累计分销净销售额"), amount=sales),
        Figure(_("累计佣金（净额）"), amount=c["net"]),
        Figure(_("累计佣金占分销净销售额"), rate=all_bp, text=no_sales(all_bp), alert=bool(over)),
        Figure(_("单商品佣金上限（设置）"), rate=cap, note=_("每个商品行各级佣金合计不超过该行实付的此比例")),
        Figure(
            _("默认各级佣金比例合计（设置）"),
            rate=default_sum,
            note=_("按当前 %(levels)s 级计") % {"levels": cfg.levels},
        ),
        Figure(_("因上限被削减的佣金"), count=c["capped_n"], amount=c["capped"]),
    ]
    ok = not over
    if ok:
        explanation = _(
            "佣金总额占净销售额的比例不超过单商品佣金上限；每个商品行的佣金在计算时即被上限约束。"
        )
    else:
        explanation = _(
            "佣金占净销售额的比例高于当前单商品佣金上限（可能是上限曾被调低，或退款尚未冲减），请核查。"
        )
    notes = [
        _(
            "分销净销售额 = 有分销归属的已付款订单的商品实付（不含运费）减已退款，加有分销归属的门店收银"
            "销售额减门店退货：即计佣的销售额；近 30 天按付款时间统计订单、按产生时间统计佣金。"
        ),
        _("没有分销商参与的销售不计入，否则比例会被稀释。"),
    ]
    return Section("ratios", _("四、佣金占销售额比例"), ok, explanation, figures, notes)
