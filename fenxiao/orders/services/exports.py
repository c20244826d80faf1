"""The order and after-sale lists as files, for merchants' spreadsheets.

Orders: one row per order line with the order's fields repeated on each line (as Youzan's
"商品维度" order report does), so a sheet can be filtered by product and the line amounts
summed; the order-level amounts are repeated too and say so in their headers. Each line
carries who earned on the order (the attribution frozen at checkout) and what that line's
commission is at each level, net of reversals.

After-sales: one row per after-sale with its goods in one cell.

Phones (the buyer's and the recipient's) are masked unless the staff member may see them
(`customers.view_customer_phone`), as on the pages. Amounts are yuan with two decimals,
exact to the fen. Reading is a fixed number of queries per chunk of rows.
"""

from collections import defaultdict

from django.utils import translation

from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.tabular import money_cell, time_cell
from fenxiao.customers.phones import mask_phone
from fenxiao.distribution.models import Commission
from fenxiao.shipping.carriers import carrier_record_name

from ..models import AfterSale, AfterSaleLine, Order

PHONE_PERMISSION = "customers.view_customer_phone"
LEVELS = (1, 2, 3)
LEVEL_NAMES = {1: "一级", 2: "二级", 3: "三级"}


def _zh(display) -> str:
    """A choice's label in Chinese, like the headers, whatever language the page asking is in."""
    with translation.override("zh-hans"):
        return str(display())


def phone_for(user, phone: str | None) -> str:
    if not phone:
        return ""
    return phone if user.has_perm(PHONE_PERMISSION) else mask_phone(phone)


def distributor_name(distributor) -> str:
    if distributor is None:
        return ""
    name = distributor.real_name or distributor.user.nickname or ""
    return f"{name}（{distributor.referral_code}）" if name else distributor.referral_code


# --- orders -----------------------------------------------------------------------------------

ORDER_HEADERS = [
    "订单号",
    "订单状态",
    "下单时间",
    "付款时间",
    "发货时间",
    "完成时间",
    "买家ID",
    "买家昵称",
    "买家手机号",
    "收货人",
    "收货人手机号",
    "省",
    "市",
    "区/县",
    "详细地址",
    "买家留言",
    "商家备注",
    "商品名称",
    "规格",
    "SKU编码",
    "单价（元）",
    "数量",
    "商品小计（元）",
    "商品分摊优惠（元）",
    "商品实付（元）",
    "商品已退款（元）",
    "商品已退数量",
    "订单商品金额（元）",
    "订单优惠/改价（元）",
    "订单运费（元）",
    "订单应付（元）",
    "订单实付（元）",
    "订单余额支付（元）",
    "订单已退款（元）",
    "配送方式",
    "物流公司",
    "运单号",
    "自提时间",
    "自购",
]
for _level in LEVELS:
    ORDER_HEADERS += [f"{LEVEL_NAMES[_level]}分销商", f"{LEVEL_NAMES[_level]}佣金（元）"]
ORDER_WIDTHS = {0: 22, 2: 20, 3: 20, 4: 20, 5: 20, 8: 14, 10: 14, 14: 30, 15: 20, 16: 20, 17: 24, 18: 16}


def _attribution(order):
    try:
        return order.attribution
    except Order.attribution.RelatedObjectDoesNotExist:
        return None


def _line_commissions(order_ids) -> dict:
    """{(line id, level): (distributor id, net fen)} for the chunk, in one query."""
    found = {}
    for c in Commission.objects.filter(order_id__in=order_ids).values(
        "order_line_id", "level", "distributor_id", "amount", "reversed_amount"
    ):
        key = (c["order_line_id"], c["level"])
        previous = found.get(key, (c["distributor_id"], 0))[1]
        found[key] = (c["distributor_id"], previous + c["amount"] - c["reversed_amount"])
    return found


def order_rows(queryset, user):
    """One row per order line; four queries per chunk of orders whatever their lines."""
    for ids in id_chunks(queryset):
        orders = (
            Order.objects.filter(pk__in=ids)
            .select_related(
                "buyer",
                "attribution__level1__user",
                "attribution__level2__user",
                "attribution__level3__user",
            )
            .prefetch_related("lines")
        )
        commissions = _line_commissions(ids)
        for order in in_order(orders, ids):
            attribution = _attribution(order)
            head = [
                order.number,
                _zh(order.get_status_display),
                time_cell(order.created_at),
                time_cell(order.paid_at),
                time_cell(order.shipped_at),
                time_cell(order.completed_at),
                order.buyer_id,
                order.buyer.nickname or "",
                phone_for(user, order.buyer.phone),
                order.recipient,
                phone_for(user, order.recipient_phone),
                order.province,
                order.city,
                order.district,
                order.address_detail,
                order.note,
                order.merchant_note,
            ]
            tail = [
                money_cell(order.goods_amount),
                money_cell(order.discount_amount),
                money_cell(order.shipping_fee),
                money_cell(order.total),
                money_cell(order.paid_amount),
                money_cell(order.wallet_amount),
                money_cell(order.refunded_amount),
                _zh(order.get_fulfilment_display),
                carrier_record_name(order.carrier),
                order.tracking_number,
                time_cell(order.picked_up_at),
                "是" if attribution and attribution.self_purchase else "",
            ]
            for line in order.lines.all():
                earned = []
                for level in LEVELS:
                    beneficiary = getattr(attribution, f"level{level}", None) if attribution else None
                    commission = commissions.get((line.pk, level))
                    earned += [
                        distributor_name(beneficiary),
                        money_cell(commission[1]) if commission else money_cell(None),
                    ]
                yield [
                    *head,
                    line.product_name,
                    line.spec_text,
                    line.sku_code,
                    money_cell(line.unit_price),
                    line.quantity,
                    money_cell(line.subtotal),
                    money_cell(line.discount_share),
                    money_cell(line.paid_amount),
                    money_cell(line.refunded_amount),
                    line.refunded_quantity,
                    *tail,
                    *earned,
                ]


ORDERS = Export(
    title="订单",
    name="orders",
    headers=ORDER_HEADERS,
    rows=order_rows,
    widths=ORDER_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)


# --- after-sales ------------------------------------------------------------------------------

AFTER_SALE_HEADERS = [
    "售后单号",
    "订单号",
    "售后类型",
    "售后状态",
    "退款金额（元）",
    "其中退运费（元）",
    "售后商品",
    "退款原因",
    "问题描述",
    "退货物流",
    "退货运单号",
    "买家寄回时间",
    "商家收货时间",
    "退回库存",
    "发起方",
    "买家昵称",
    "买家手机号",
    "申请时间",
    "处理人",
    "处理时间",
    "拒绝原因",
    "退款时间",
]
AFTER_SALE_WIDTHS = {
    0: 22,
    1: 22,
    6: 40,
    7: 30,
    8: 40,
    10: 20,
    11: 20,
    12: 20,
    16: 14,
    17: 20,
    19: 20,
    21: 20,
}


def _goods_text(lines) -> str:
    return "；".join(
        f"{line.order_line.product_name} {line.order_line.spec_text}".strip() + f" ×{line.quantity}"
        for line in lines
    )


def after_sale_rows(queryset, user):
    """One row per after-sale; three queries per chunk."""
    for ids in id_chunks(queryset):
        found = AfterSale.objects.filter(pk__in=ids).select_related("order__buyer", "decided_by")
        lines = defaultdict(list)
        for line in (
            AfterSaleLine.objects.filter(after_sale_id__in=ids).select_related("order_line").order_by("pk")
        ):
            lines[line.after_sale_id].append(line)
        for a in in_order(found, ids):
            buyer = a.order.buyer
            decider = a.decided_by
            yield [
                a.number,
                a.order.number,
                _zh(a.get_kind_display),
                _zh(a.get_status_display),
                money_cell(a.amount),
                money_cell(a.shipping_amount),
                _goods_text(lines[a.pk]),
                a.reason,
                a.description,
                carrier_record_name(a.return_carrier),
                a.return_tracking_number,
                time_cell(a.return_shipped_at),
                time_cell(a.received_at),
                "是" if a.restock else "否",
                _zh(a.get_requested_by_display),
                buyer.nickname or "",
                phone_for(user, buyer.phone),
                time_cell(a.created_at),
                (decider.get_full_name() or decider.username) if decider else "",
                time_cell(a.decided_at),
                a.reject_reason,
                time_cell(a.refunded_at),
            ]


AFTER_SALES = Export(
    title="售后",
    name="after-sales",
    headers=AFTER_SALE_HEADERS,
    rows=after_sale_rows,
    widths=AFTER_SALE_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)
