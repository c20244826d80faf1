"""发货单 / 拣货单: a print page for the orders staff pick — one packing slip per printed page
(recipient, address, lines with spec and SKU code, buyer note, the order number large enough
to read across a table and as a Code 128 barcode a scanner reads into the order list's
search) and a picking summary first (each SKU's total over the orders).

Read in two queries whatever the number of orders: the orders, then their lines.
"""

import io
from collections import OrderedDict

import barcode
from barcode.writer import SVGWriter
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from fenxiao.core.numbers import whole_number

from ..models import Order, OrderLine

MAX_ORDERS = 200


def url(model_admin, ids) -> str:
    base = reverse(f"{model_admin.admin_site.name}:orders_order_packing_list")
    return f"{base}?ids={','.join(str(i) for i in ids)}"


def redirect_for(model_admin, request, queryset):
    """From the list's bulk action: the print page of the selected orders."""
    ids = list(queryset.order_by("id").values_list("pk", flat=True)[: MAX_ORDERS + 1])
    if len(ids) > MAX_ORDERS:
        messages.error(request, _("一次最多打印 %(count)s 单，请分批选择") % {"count": MAX_ORDERS})
        return None
    return HttpResponseRedirect(url(model_admin, ids))


def barcode_svg(text: str) -> str:
    """`text` as a Code 128 barcode, an inline SVG (bars only: the number is printed beside)."""
    symbol = barcode.get("code128", text, writer=SVGWriter())
    out = io.BytesIO()
    options = {"module_width": 0.3, "module_height": 12, "quiet_zone": 3, "write_text": False}
    symbol.write(out, options=options)
    svg = out.getvalue().decode()
    # The XML declaration and doctype are not for inline use, nor the group's id (one a slip).
    svg = svg[svg.index("<svg") :].replace(' id="barcode_group"', "")
    # Only bars of our own order number: nothing in it comes from a visitor.
    aria = escape(_("条码 %(code)s") % {"code": text})
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{aria}" ', 1))  # noqa: S308


def _ids(request) -> list[int]:
    ids = []
    for part in request.GET.get("ids", "").split(",")[:MAX_ORDERS]:
        pk = whole_number(part.strip(), max_digits=11)
        if pk is not None:
            ids.append(pk)
    return ids


def page(model_admin, request):
    ids = _ids(request)
    orders = list(
        Order.objects.filter(pk__in=ids)
        .order_by("id")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
    )
    slips = []
    picking: OrderedDict[str, dict] = OrderedDict()
    for order in orders:
        lines = []
        for line in order.lines.all():
            to_pack = line.quantity - line.refunded_quantity
            lines.append({"line": line, "to_pack": to_pack})
            if to_pack <= 0:
                continue
            key = line.sku_code or f"{line.product_name} {line.spec_text}"
            item = picking.setdefault(
                key,
                {
                    "sku_code": line.sku_code,
                    "name": line.product_name,
                    "spec": line.spec_text,
                    "qty": 0,
                    "orders": 0,
                },
            )
            item["qty"] += to_pack
            item["orders"] += 1
        slips.append(
            {
                "order": order,
                "lines": lines,
                "pieces": sum(x["to_pack"] for x in lines if x["to_pack"] > 0),
                "barcode": barcode_svg(order.number),
            }
        )
    context = {
        "slips": slips,
        "picking": sorted(picking.values(), key=lambda item: (item["sku_code"], item["name"])),
        "total_pieces": sum(item["qty"] for item in picking.values()),
        "printed_at": timezone.localtime(),
        "back_url": reverse(f"{model_admin.admin_site.name}:orders_order_changelist"),
        "missing": len(ids) - len(orders),
    }
    return render(request, "admin/orders/packing_list.html", context)
