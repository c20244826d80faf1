"""The order page's discounts: every OrderDiscount row, per line (which promotion or coupon,
how much), as checkout stored them. Flash and group rows say how far below its original
price a line was sold; the others make up the line's 分摊优惠."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen

from ..models import OrderDiscount


def render_discounts(order) -> str:
    rows = list(OrderDiscount.objects.filter(order=order).select_related("line").order_by("line_id", "id"))
    if not rows:
        return _("无优惠")
    body = format_html_join(
        "",
        "<tr><td class='pr-4'>{}</td><td class='pr-4'>{}</td><td class='pr-4'>{}</td><td>{}</td></tr>",
        (
            (
                f"{d.line.product_name} {d.line.spec_text}".strip() if d.line_id else _("运费"),
                d.get_kind_display(),
                d.name,
                format_fen(d.amount),
            )
            for d in rows
        ),
    )
    return format_html(
        "<table><thead><tr><th class='pr-4 text-left'>{}</th><th class='pr-4 text-left'>{}</th>"
        "<th class='pr-4 text-left'>{}</th><th class='text-left'>{}</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        _("商品"),
        _("类型"),
        _("活动/优惠券"),
        _("金额"),
        body,
    )
