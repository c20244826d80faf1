"""分销报表: sales through distributors, commission flows, rankings, per grade and level.

Commission figures are flows of the period: accrued on the day a commission was created,
reduced (refund before settlement, ban) and clawed back (refund after settlement) on the
day of the adjustment, settled on the day it was credited, paid on the day a withdrawal was
paid out. "Held" (pending / frozen) is what is still held now of the commission accrued in
the period. Grade and level are the commission's own snapshots.

The shop's distribution share (orders and paid amount through distributors, against GMV) is
of online orders, as GMV is; each distributor's row in the rankings also counts the till
sales that earned them commission (门店收银计佣), and the period's refunds of their sales, so
that over all days their net sales are their dashboard's."""

from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import ratio_bp
from fenxiao.distribution.models import Distributor

from ..models import CommissionDay, DailySales, DistributionDay, DistributorDay
from . import readers
from .periods import Period
from .shapes import BP, FEN, Chart, Column, Dataset, Metric, Report, Table

FLOWS = ["accrued_count", "accrued", "reduced", "settled", "clawed_back", "held_pending", "held_frozen"]
NOTE = gettext_lazy(
    "佣金按发生日统计：产生于下单付款日，扣减/追回于冲减日，结算于入账日，打款于提现打款日；"
    "待结算、冻结中为本期产生的佣金目前仍未结算的部分。"
    "分销订单数、分销实付金额及占比只计线上订单，佣金含门店收银计佣。"
)


def _overview(period: Period) -> Report:
    prev = period.previous()
    sales = readers.spans(
        period,
        readers.daily_sums(
            DailySales, prev.start, period.end, ["gmv", "distributor_gmv", "distributor_orders"]
        ),
        ["gmv", "distributor_gmv", "distributor_orders"],
    )
    flows = readers.spans(period, readers.daily_sums(CommissionDay, prev.start, period.end, FLOWS), FLOWS)
    dist_fields = ["new_distributors", "withdrawals_paid", "withdrawn_amount"]
    dist = readers.spans(
        period, readers.daily_sums(DistributionDay, prev.start, period.end, dist_fields), dist_fields
    )
    (s, s_old, s_per), (c, c_old, c_per), (d, d_old, d_per) = sales, flows, dist
    share, share_old = (
        ratio_bp(s["distributor_gmv"], s["gmv"]),
        ratio_bp(s_old["distributor_gmv"], s_old["gmv"]),
    )
    metrics = [
        Metric("distributor_orders", _("分销订单数"), s["distributor_orders"], s_old["distributor_orders"]),
        Metric("distributor_sales", _("分销实付金额"), s["distributor_gmv"], s_old["distributor_gmv"], FEN),
        Metric("distributor_share_bp", _("分销销售占比"), share, share_old, BP),
        Metric("commission_accrued", _("产生佣金"), c["accrued"], c_old["accrued"], FEN),
        # What is still held now of the period's commission, not a flow: the period before has
        # had longer to settle, so it always compares lower. Shown as it stands, not compared.
        Metric("commission_pending", _("待结算"), c["held_pending"], None, FEN),
        Metric("commission_frozen", _("冻结中"), c["held_frozen"], None, FEN),
        Metric("commission_settled", _("已结算"), c["settled"], c_old["settled"], FEN),
        Metric("commission_paid", _("已打款"), d["withdrawn_amount"], d_old["withdrawn_amount"], FEN),
        Metric("commission_reduced", _("结算前扣减"), c["reduced"], c_old["reduced"], FEN),
        Metric("commission_clawed_back", _("已追回"), c["clawed_back"], c_old["clawed_back"], FEN),
        Metric("new_distributors", _("新增分销商"), d["new_distributors"], d_old["new_distributors"]),
    ]
    rows = []
    for (label, first, _last), a, b, e in zip(period.buckets(), s_per, c_per, d_per, strict=True):
        rows.append(
            {
                "bucket": label,
                "start": first.isoformat(),
                "distributor_orders": a["distributor_orders"],
                "distributor_sales": a["distributor_gmv"],
                "distributor_share_bp": ratio_bp(a["distributor_gmv"], a["gmv"]),
                "commission_accrued": b["accrued"],
                "commission_reduced": b["reduced"],
                "commission_settled": b["settled"],
                "commission_clawed_back": b["clawed_back"],
                "commission_paid": e["withdrawn_amount"],
                "new_distributors": e["new_distributors"],
            }
        )
    totals = {"bucket": _("合计"), **{m.key: m.value for m in metrics}}
    columns = [
        Column("bucket", _("时间"), text=True),
        Column("distributor_orders", _("分销订单数")),
        Column("distributor_sales", _("分销实付金额"), FEN),
        Column("distributor_share_bp", _("分销占比"), BP),
        Column("commission_accrued", _("产生佣金"), FEN),
        Column("commission_reduced", _("结算前扣减"), FEN),
        Column("commission_settled", _("已结算"), FEN),
        Column("commission_clawed_back", _("已追回"), FEN),
        Column("commission_paid", _("已打款"), FEN),
        Column("new_distributors", _("新增分销商")),
    ]
    chart = Chart(
        [r["bucket"] for r in rows],
        [
            Dataset(_("分销实付金额"), [r["distributor_sales"] for r in rows], FEN),
            Dataset(_("产生佣金"), [r["commission_accrued"] for r in rows], FEN),
            Dataset(_("已结算"), [r["commission_settled"] for r in rows], FEN),
        ],
    )
    return Report(
        "distribution-by-period", _("分销概况"), period, metrics, chart, Table(columns, rows, totals), NOTE
    )


RANK_FIELDS = [
    "orders",
    "sales",
    "refunds",
    "commission_accrued",
    "commission_settled",
    "commission_clawed_back",
]
# Refunds are of the period, whatever day their sales were made (as the sales report's).
RANK_DERIVED = {"net_sales": F("t_sales") - F("t_refunds")}


def rank_columns() -> list[Column]:
    return [
        Column("rank", _("排名")),
        Column("name", _("分销商"), text=True, link="url", link_permission="distribution.view_distributor"),
        Column("orders", _("一级推广订单数")),
        Column("sales", _("一级推广实付金额"), FEN),
        Column("refunds", _("退款金额"), FEN),
        Column("net_sales", _("净销售额"), FEN),
        Column("commission_accrued", _("产生佣金"), FEN),
        Column("commission_settled", _("已结算佣金"), FEN),
        Column("commission_clawed_back", _("追回佣金"), FEN),
    ]


# A ranking's chart draws at most this many bars (its table has every row).
CHART_ROWS = 200


def _ranking(period: Period, order: str, key: str, title: str, limit: int | None) -> Report:
    rows = readers.grouped(
        DistributorDay,
        period,
        ["distributor_id"],
        RANK_FIELDS,
        order=order,
        limit=limit,
        derived=RANK_DERIVED,
    )
    people = Distributor.objects.select_related("user").filter(pk__in=[r["distributor_id"] for r in rows])
    names = {
        d.pk: _("%(name)s（%(code)s）") % {"name": d.user.display_name, "code": d.referral_code}
        for d in people
    }
    for n, row in enumerate(rows, 1):
        pk = row["distributor_id"]
        row["rank"] = n
        row["name"] = names.get(pk, _("分销商#%(id)s") % {"id": pk})
        # The distributor's page (their team, commission and withdrawals a click on), as a
        # product's row opens the product.
        row["url"] = reverse("admin:distribution_distributor_change", args=[pk]) if pk in names else ""
    drawn = rows[:CHART_ROWS]
    # The bars are named by the figure they draw (净销售额, 产生佣金), as the table's column,
    # so the legend and a bar's tooltip say what the amount is.
    figure = next(str(c.label) for c in rank_columns() if c.key == order)
    chart = Chart([r["name"] for r in drawn], [Dataset(figure, [r[order] for r in drawn], FEN)], kind="bar")
    if limit:
        note = _(
            "前 %(limit)s 名；推广订单与金额按一级归属、付款日统计，门店收银计佣的销售按门店上报日计入；"
            "退款按退款日（售后同意日、门店退货上报日）计入，净销售额 = 实付金额 − 退款金额；佣金含各层级。"
        ) % {"limit": limit}
    else:
        note = _(
            "全部分销商；推广订单与金额按一级归属、付款日统计，门店收银计佣的销售按门店上报日计入；"
            "退款按退款日（售后同意日、门店退货上报日）计入，净销售额 = 实付金额 − 退款金额；佣金含各层级。"
        )
    return Report(key, title, period, chart=chart, table=Table(rank_columns(), rows), note=note)


def _by(period: Period, field: str, key: str, title: str, first: Column) -> Report:
    rows = readers.grouped(CommissionDay, period, [field], FLOWS)
    for row in rows:
        row["held"] = row["held_pending"] + row["held_frozen"]
        if field == "level":
            row["level_label"] = _("%(level)s级") % {"level": row["level"]}
        elif not row["grade_name"]:
            row["grade_name"] = _("无等级")
    columns = [
        first,
        Column("accrued_count", _("佣金笔数")),
        Column("accrued", _("产生佣金"), FEN),
        Column("reduced", _("结算前扣减"), FEN),
        Column("settled", _("已结算"), FEN),
        Column("clawed_back", _("已追回"), FEN),
        Column("held_pending", _("待结算"), FEN),
        Column("held_frozen", _("冻结中"), FEN),
    ]
    totals = {first.key: _("合计"), **{f: sum(r[f] for r in rows) for f in FLOWS}}
    return Report(
        key, title, period, table=Table(columns, rows, totals), note=_("等级、层级取佣金产生时的快照。")
    )


def build(period: Period, options: dict) -> list[Report]:
    limit = options["limit"]
    return [
        _overview(period),
        _ranking(period, "net_sales", "distributor-sales-ranking", _("分销商销售排行"), limit),
        _ranking(period, "commission_accrued", "distributor-commission-ranking", _("分销商佣金排行"), limit),
        _by(
            period,
            "grade_name",
            "commission-by-grade",
            _("按等级"),
            Column("grade_name", _("等级"), text=True),
        ),
        _by(period, "level", "commission-by-level", _("按层级"), Column("level_label", _("层级"), text=True)),
    ]
