"""A distributor's account page in the backend: the ledger with a running balance, and their
latest commissions, withdrawals and direct team."""

from django.core.paginator import Paginator
from django.db.models import F, Sum, Window
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen

from ..models import Commission, Distributor, LedgerEntry, Withdrawal
from ..services import dashboard
from .common import change_url, changelist_url, full_phones, user_text

LEDGER_PAGE_SIZE = 50
RELATED_ROWS = 20


def ledger_page(model_admin, request, distributor: Distributor):
    """Every ledger entry with the balance after it, newest first; the balance is the sum
    of the entries and nothing else. Also the distributor's latest commissions,
    withdrawals and direct team. `distributor` is the admin's row: it carries whether the
    page shows whole phones (`with_phone_flag`)."""
    full = full_phones(distributor)
    entries = (
        LedgerEntry.objects.filter(distributor=distributor)
        .select_related("commission__order", "withdrawal")
        .annotate(running=Window(Sum("amount"), order_by=F("id").asc()))
        .order_by("-id")
    )
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("p"))
    balance = LedgerEntry.objects.filter(distributor=distributor).aggregate(total=Sum("amount"))["total"] or 0
    commissions = list(dashboard.commissions(distributor)[:RELATED_ROWS])
    withdrawals = list(Withdrawal.objects.filter(distributor=distributor).order_by("-id")[:RELATED_ROWS])
    team = list(dashboard.team(distributor)[:RELATED_ROWS])
    request.current_app = model_admin.admin_site.name
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Distributor._meta,
        "original": distributor,
        "title": _("账户流水：%(user)s") % {"user": user_text(distributor.user, full)},
        "distributor": distributor,
        "figures": dashboard.figures(distributor),
        "balance": balance,
        "page": page,
        "entries": [
            {
                "entry": e,
                "amount": format_fen(e.amount),
                "running": format_fen(e.running),
                "withdrawal_url": change_url(e.withdrawal) if e.withdrawal_id else "",
                "commission_url": change_url(e.commission) if e.commission_id else "",
            }
            for e in page.object_list
        ],
        "commissions": [{"c": c, "url": change_url(c), "net": format_fen(c.net_amount)} for c in commissions],
        "withdrawals": [{"w": w, "url": change_url(w), "amount": format_fen(w.amount)} for w in withdrawals],
        "team": [{"d": d, "url": change_url(d), "name": user_text(d.user, full)} for d in team],
        "all_commissions_url": changelist_url(Commission, distributor=distributor.referral_code),
        "all_withdrawals_url": changelist_url(Withdrawal, distributor=distributor.referral_code),
        "all_team_url": changelist_url(Distributor, parent=distributor.referral_code),
        "back_url": change_url(distributor),
        "balance_text": format_fen(balance),
    }
    return TemplateResponse(request, "admin/distribution/distributor/ledger.html", context)
