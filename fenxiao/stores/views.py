"""The store QR landing: /s/<store code>/ and /s/<store code>/<staff code>/.

Like the referral link it is a redirect, counted by the traffic middleware under the day's
source 门店. A signed-in buyer joins the store and is bound now; a visitor signs in or
registers first and comes back here (`next`), so the decision is always made on the server
against the buyer's account.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext as _

from fenxiao.core import traffic
from fenxiao.core.errors import DomainError
from fenxiao.distribution.models import TouchDecision, TouchSource

from .errors import StoreClosed
from .services import membership


def store_qr(request, store_code: str, staff_code: str | None = None):
    try:
        store, staff = membership.resolve_codes(store_code, staff_code)
    except StoreClosed as closed:
        # A closed store's poster still hangs somewhere: say so, and let them shop online.
        messages.info(request, _("%(closed)s，欢迎在线选购") % {"closed": closed.message})
        return HttpResponseRedirect("/")
    except DomainError:
        raise Http404 from None
    # The counted distributor, without making the store's account on an anonymous visit.
    counted = store.distributor_id
    if staff is not None:
        own = membership.staff_distributor(staff)
        counted = own.pk if own is not None else counted
    traffic.note_referral(request, counted, TouchSource.STORE)
    if not request.user.is_authenticated:
        return HttpResponseRedirect("/login/?" + urlencode({"next": request.path}))
    result = membership.scan(request.user, store, staff, target="/")
    text = _("欢迎光临%(store)s") % {"store": store.name}
    if result.joined:
        text = _("您已成为%(store)s会员") % {"store": store.name}
    if result.touch is not None and result.touch.decision in (TouchDecision.BOUND, TouchDecision.REBOUND):
        text = _("%(text)s，专属导购将为您服务") % {"text": text} if staff is not None else text
    if result.became_distributor is not None:
        messages.success(request, _("%(text)s。您已成为分销商，分享商品即可赚取佣金") % {"text": text})
        return HttpResponseRedirect("/d/")
    messages.success(request, text)
    return HttpResponseRedirect("/")
