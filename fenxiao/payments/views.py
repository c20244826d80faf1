"""The sandbox gateway's pay page: stands in for the WeChat Pay / Alipay cashier."""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from fenxiao.core.http import is_site_path
from fenxiao.core.money import format_fen

from .gateways import enabled_gateways
from .gateways.sandbox import SandboxGateway
from .models import SandboxTrade


@require_http_methods(["GET", "POST"])
def sandbox_pay(request, out_trade_no: str):
    # Outside demo mode the page does not exist: nobody may "pay" here without money.
    if SandboxGateway.name not in enabled_gateways():
        raise Http404
    trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
    if trade is None:
        raise Http404
    if request.method == "POST":
        if request.POST.get("action") == "pay":
            trade = SandboxGateway().complete_trade(out_trade_no, trade=trade)
        if is_site_path(trade.return_url):
            return HttpResponseRedirect(trade.return_url)
    return render(
        request,
        "payments/sandbox_pay.html",
        {
            "trade": trade,
            "amount_display": format_fen(trade.amount),
        },
    )
