"""Distribution lists as files: distributors (one row per distributor, with the figures
the list shows), commissions (one row per commission, with its rule and reversals), the
payout file finance sends to the bank (one row per withdrawal) and the daily reconciliations
finance files (one row per reconciled day).

Amounts are yuan with two decimals, exact to the fen; times in the mall's zone. Text typed
by distributors (names, account numbers) never runs as a formula: the writing is
`core/tabular.py`'s. Distributors' phones are masked unless the staff member may see
phones (`customers.view_customer_phone`). A fixed number of queries per chunk of rows.
"""

from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.money import bp_to_percent
from fenxiao.core.tabular import money_cell, time_cell
from fenxiao.customers.phones import mask_phone

from ..models import Commission, Distributor, RuleKind, Withdrawal
from . import dashboard, reconciliation

PHONE_PERMISSION = "customers.view_customer_phone"


def _phone(user, phone: str | None) -> str:
    if not phone:
        return ""
    return phone if user is None or user.has_perm(PHONE_PERMISSION) else mask_phone(phone)


def _name(distributor) -> str:
    return distributor.real_name or distributor.user.nickname or ""


# --- distributors -----------------------------------------------------------------------------

DISTRIBUTOR_HEADERS = [
    "分销商",
    "手机号",
    "推广码",
    "状态",
    "等级",
    "上级",
    "上级推广码",
    "来源",
    "绑定客户",
    "直属团队",
    "间接团队",
    "推广订单",
    "推广销售额（元）",
    "预估佣金（元）",
    "可提现（元）",
    "已提现（元）",
    "累计佣金（元）",
    "申请时间",
    "成为分销商时间",
]
DISTRIBUTOR_WIDTHS = {0: 16, 1: 14, 2: 12, 5: 16, 6: 12, 17: 20, 18: 20}


def distributor_rows(queryset, user):
    """One row per distributor with the list's figures; six queries per chunk."""
    for ids in id_chunks(queryset):
        found = Distributor.objects.filter(pk__in=ids).select_related("user", "grade", "parent__user")
        figures = dashboard.figures_for_page(ids)
        for d in in_order(found, ids):
            f = figures[d.pk]
            parent = d.parent
            yield [
                _name(d),
                _phone(user, d.user.phone),
                d.referral_code,
                d.get_status_display(),
                d.grade.name if d.grade_id else "",
                _name(parent) if parent else "",
                parent.referral_code if parent else "",
                d.get_source_display(),
                f["bound_buyers"],
                f["team_direct"],
                f["team_indirect"],
                f["orders"],
                money_cell(f["sales"]),
                money_cell(f["commission_estimated"]),
                money_cell(f["commission_available"]),
                money_cell(f["commission_withdrawn"]),
                money_cell(f["commission_total"]),
                time_cell(d.created_at),
                time_cell(d.activated_at),
            ]


DISTRIBUTORS = Export(
    title="分销商",
    name="distributors",
    headers=DISTRIBUTOR_HEADERS,
    rows=distributor_rows,
    widths=DISTRIBUTOR_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


# --- commissions ------------------------------------------------------------------------------

COMMISSION_HEADERS = [
    "佣金ID",
    "订单号",
    "商品名称",
    "规格",
    "分销商",
    "分销商手机号",
    "推广码",
    "层级",
    "状态",
    "计佣金额（元）",
    "数量",
    "计算方式",
    "比例（%）",
    "固定金额（元/件）",
    "阶梯奖励（%）",
    "团队佣金（%）",
    "封顶扣减（元）",
    "佣金（元）",
    "已冲减（元）",
    "实得佣金（元）",
    "规则来源",
    "规则名称",
    "规则版本",
    "当时等级",
    "产生时间",
    "解冻时间",
    "结算时间",
    "结算批次",
]
COMMISSION_WIDTHS = {1: 22, 2: 24, 3: 16, 4: 14, 5: 14, 24: 20, 25: 20, 26: 20}


def commission_rows(queryset, user):
    """One row per commission; two queries per chunk."""
    for ids in id_chunks(queryset):
        found = Commission.objects.filter(pk__in=ids).select_related(
            "order", "order_line", "distributor__user"
        )
        for c in in_order(found, ids):
            line = c.order_line
            rate = c.rule_kind == RuleKind.RATE
            yield [
                c.pk,
                # A till sale's commission: the sale for the order, its product snapshot.
                c.offline_label if line is None else c.order.number,
                c.item_name if line is None else line.product_name,
                "" if line is None else line.spec_text,
                _name(c.distributor),
                _phone(user, c.distributor.user.phone),
                c.distributor.referral_code,
                c.level,
                c.get_status_display(),
                money_cell(c.base),
                c.quantity,
                c.get_rule_kind_display(),
                bp_to_percent(c.rate_bp) if rate else "",
                money_cell(c.fixed_per_unit) if c.rule_kind == RuleKind.FIXED else money_cell(None),
                bp_to_percent(c.bonus_bp) if c.bonus_bp else "",
                bp_to_percent(c.team_bp) if c.team_bp else "",
                money_cell(c.capped),
                money_cell(c.amount),
                money_cell(c.reversed_amount),
                money_cell(c.net_amount),
                c.get_rule_source_display(),
                c.rule_name,
                c.rule_version or "",
                c.grade_name,
                time_cell(c.created_at),
                time_cell(c.frozen_until),
                time_cell(c.settled_at),
                c.batch_id or "",
            ]


COMMISSIONS = Export(
    title="佣金记录",
    name="commissions",
    headers=COMMISSION_HEADERS,
    rows=commission_rows,
    widths=COMMISSION_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


# --- payouts (withdrawals) --------------------------------------------------------------------

PAYOUT_HEADERS = [
    "提现单号",
    "分销商",
    "手机号",
    "推广码",
    "提现方式",
    "收款人",
    "开户银行",
    "收款账号",
    "提现金额（元）",
    "手续费（元）",
    "实际到账（元）",
    "状态",
    "打款凭证号",
    "申请时间",
    "打款时间",
]
PAYOUT_WIDTHS = dict(enumerate([22, 12, 14, 10, 16, 12, 16, 24, 14, 12, 14, 14, 22, 20, 20]))


def payout_rows(queryset, user=None):
    """One row per withdrawal; two queries per chunk. Finance pays with this file, so the
    payee's account is written in full; the phone is masked like everywhere else."""
    # Oldest first: finance pays in the order the requests came.
    for ids in id_chunks(queryset, newest_first=False):
        found = Withdrawal.objects.filter(pk__in=ids).select_related("distributor__user")
        for w in in_order(found, ids):
            user_of = w.distributor.user
            account = w.account or {}
            yield [
                w.number,
                w.distributor.real_name or user_of.nickname or "",
                _phone(user, user_of.phone),
                w.distributor.referral_code,
                w.get_method_display(),
                account.get("name", ""),
                account.get("bank", ""),
                account.get("account") or account.get("openid", ""),
                money_cell(w.amount),
                money_cell(w.fee),
                money_cell(w.payout),
                w.get_status_display(),
                w.payout_reference,
                time_cell(w.created_at),
                time_cell(w.paid_at),
            ]


PAYOUTS = Export(
    title="提现打款",
    name="payouts",
    headers=PAYOUT_HEADERS,
    rows=payout_rows,
    widths=PAYOUT_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


# --- daily reconciliations ----------------------------------------------------------------------

RECONCILIATION_HEADERS = [
    "对账日期",
    "结果",
    "不一致项",
    # reconciliation.FIGURES in order, as the file's (untranslated) headers are written.
    "付款订单数",
    "付款金额（元）",
    "新增佣金（元）",
    "结算入账（元）",
    "退款追回（元）",
    "提现申请（元）",
    "提现退回（元）",
    "提现打款（元）",
    "分销商余额合计（日终）（元）",
    "对账时间",
    "发起人",
]
RECONCILIATION_WIDTHS = {0: 12, len(RECONCILIATION_HEADERS) - 2: 20, len(RECONCILIATION_HEADERS) - 1: 16}


def reconciliation_rows(queryset, user=None):
    """One row per reconciliation in calendar order (a day reconciled again follows its
    earlier run), with the day's figures as the page shows them; one streamed query."""
    rows = queryset.select_related("ran_by").order_by("day", "pk")
    for r in rows.iterator(chunk_size=500):
        figures = [
            money_cell(r.figures.get(key, 0)) if money else int(r.figures.get(key, 0))
            for key, _label, money in reconciliation.FIGURES
        ]
        ran_by = (r.ran_by.nickname or r.ran_by.username) if r.ran_by_id else "系统（每日自动）"
        yield [
            r.day.isoformat(),
            "全部一致" if r.ok else "有不一致",
            r.problem_count,
            *figures,
            time_cell(r.ran_at),
            ran_by,
        ]


RECONCILIATIONS = Export(
    title="每日对账",
    name="reconciliations",
    headers=RECONCILIATION_HEADERS,
    rows=reconciliation_rows,
    widths=RECONCILIATION_WIDTHS,
)
