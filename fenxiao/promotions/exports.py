"""营销活动, 优惠券 and 发券记录 as CSV or Excel, the lists as filtered and searched
(`core.admin_exports`): a merchant's promotions with what each brought in, the coupons with
how many went out and were used, and the log of staff hand-outs.

Amounts are yuan with two decimals, exact to the fen; times in the mall's zone. The figures
are those the lists show (`services.figures`), read for a whole chunk of rows in one set of
grouped queries, so a file costs a fixed number of queries per chunk. The phones a
hand-out was pasted with are masked unless the staff member may see phones, as on the page.
"""

import re

from fenxiao.core.admin import user_text
from fenxiao.core.exports import Export, id_chunks, in_order
from fenxiao.core.tabular import money_cell, time_cell
from fenxiao.customers.backoffice.listing import PHONE_PERMISSION, may_see_phones
from fenxiao.customers.phones import mask_phone

from .models import Coupon, CouponIssue, CouponKind, Promotion
from .services.coupons import discount_words, summary
from .services.figures import coupon_figures, promotion_figures

# --- 营销活动 ---------------------------------------------------------------------------------

PROMOTION_HEADERS = [
    "活动名称",
    "类型",
    "状态",
    "开始时间",
    "结束时间",
    "提前结束时间",
    "订单数",
    "下单人数",
    "成交额（元）",
    "优惠成本（元）",
    "活动商品佣金（元）",
]
PROMOTION_WIDTHS = {0: 24, 3: 20, 4: 20, 5: 20}


def promotion_rows(queryset, user):
    """One row per promotion with the list's figures; five queries per chunk."""
    for ids in id_chunks(queryset):
        figures = promotion_figures(ids)
        for p in in_order(Promotion.objects.filter(pk__in=ids), ids):
            f = figures[p.pk]
            yield [
                p.name,
                p.get_kind_display(),
                p.state_label(),
                time_cell(p.starts_at),
                time_cell(p.ends_at),
                time_cell(p.ended_at),
                f.orders,
                f.buyers,
                money_cell(f.gmv),
                money_cell(f.discount),
                money_cell(f.commission),
            ]


PROMOTIONS = Export(
    title="营销活动",
    name="promotions",
    headers=PROMOTION_HEADERS,
    rows=promotion_rows,
    widths=PROMOTION_WIDTHS,
)

# --- 优惠券 -----------------------------------------------------------------------------------

COUPON_HEADERS = [
    "券名称",
    "类型",
    "优惠",
    "面额（元）",
    "折扣",
    "最多优惠（元）",
    "使用门槛（元）",
    "有效期开始",
    "有效期结束",
    "领取后有效天数",
    "启用",
    "领券中心展示",
    "发行量",
    "已发放",
    "已领取",
    "已使用",
    "优惠金额（元）",
    "创建时间",
]
COUPON_WIDTHS = {0: 20, 2: 28, 7: 20, 8: 20, 17: 20}


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def coupon_rows(queryset, user):
    """One row per coupon with the list's counts; four queries per chunk. The amounts a
    kind does not use (a 满减券's 折扣, a 折扣券's 面额) are left empty, as is a limit of 0
    (none): 优惠 says it in words, as the list does."""
    for ids in id_chunks(queryset):
        figures = coupon_figures(ids)
        for c in in_order(Coupon.objects.filter(pk__in=ids), ids):
            f = figures[c.pk]
            percent = c.kind == CouponKind.PERCENT
            yield [
                c.name,
                c.get_kind_display(),
                summary(c),
                money_cell(None if percent else c.amount),
                discount_words(c.discount_bp) if percent else "",
                money_cell(c.max_discount if percent and c.max_discount else None),
                money_cell(c.min_spend),
                time_cell(c.valid_from),
                time_cell(c.valid_until),
                c.valid_days or None,
                _yes(c.is_active),
                _yes(c.claimable),
                c.total_quantity or "不限",
                c.issued,
                f.claimed,
                f.used,
                money_cell(f.discount),
                time_cell(c.created_at),
            ]


COUPONS = Export(
    title="优惠券",
    name="coupons",
    headers=COUPON_HEADERS,
    rows=coupon_rows,
    widths=COUPON_WIDTHS,
)

# --- 发券记录 ---------------------------------------------------------------------------------

# A hand-out's audience names the phones it was pasted with (手动发放：3 个手机号（138…）).
BUYER_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def shown_audience(audience: str, full_phone: bool) -> str:
    """A hand-out's audience with its phones masked (138****1234) unless `full_phone`."""
    return audience if full_phone else BUYER_PHONE.sub(lambda m: mask_phone(m.group()), audience)


ISSUE_HEADERS = ["发放时间", "优惠券", "发放对象", "计划发放", "实际发放", "操作人", "备注"]
ISSUE_WIDTHS = {0: 20, 1: 20, 2: 40, 5: 20, 6: 24}


def issue_rows(queryset, user):
    """One row per hand-out; two queries per chunk."""
    full_phone = may_see_phones(user)
    for ids in id_chunks(queryset):
        chunk = CouponIssue.objects.filter(pk__in=ids).select_related("coupon", "staff")
        for issue in in_order(chunk, ids):
            yield [
                time_cell(issue.created_at),
                issue.coupon.name,
                shown_audience(issue.audience_text, full_phone),
                issue.requested,
                issue.issued,
                user_text(issue.staff) if issue.staff_id else "",
                issue.note_text,
            ]


COUPON_ISSUES = Export(
    title="发券记录",
    name="coupon_issues",
    headers=ISSUE_HEADERS,
    rows=issue_rows,
    widths=ISSUE_WIDTHS,
    phone_permission=PHONE_PERMISSION,
)
