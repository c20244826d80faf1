"""The order page's 分销归属 panel: who earns on the order and why (or why nobody does).

The explanation itself is the distribution app's; this module only lays it out.
"""

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen

from .common import change_url, full_phones, phone_text


def render_attribution(order) -> str:
    from fenxiao.distribution.services.explain import explain_order

    x = explain_order(order)
    full = full_phones(order)
    chain = [
        {
            "level": link.level,
            "url": change_url(link.distributor) if link.distributor else "",
            "name": _name(link.distributor, full) if link.distributor else "",
            "grade": link.distributor.grade.name if link.distributor and link.distributor.grade else "",
            "note": link.note,
        }
        for link in x.chain
    ]
    commissions = [
        {"c": c, "url": change_url(c), "name": _name(c.distributor, full), "net": format_fen(c.net_amount)}
        for c in x.commissions
    ]
    # An autoescaped template: the result is already safe HTML.
    context = {"x": x, "chain": chain, "commissions": commissions}
    return render_to_string("admin/orders/attribution.html", context)


def _name(distributor, full_phone: bool) -> str:
    user = distributor.user
    phone = phone_text(user.phone, full_phone) if user.phone else ""
    return _("%(name)s（%(referral_code)s）") % {
        "name": user.nickname or phone or user.username,
        "referral_code": distributor.referral_code,
    }
