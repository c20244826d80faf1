"""Reasons the system writes into orders, after-sales and refunds in Chinese (a default
cancel reason, 拼团失败，全额退款 …), shown in the reader's language; a person's own words
are in no catalog and read as typed."""

from django.utils.translation import gettext, pgettext_lazy

# A reason that is also the name of a button (取消订单) has an entry of its own, so it reads
# as what happened ("Order cancelled"), not as the button ("Cancel order").
_AS_REASON = {"取消订单": pgettext_lazy("reason", "取消订单")}


def reason_text(stored: str) -> str:
    if not stored:
        return ""
    if stored in _AS_REASON:
        return str(_AS_REASON[stored])
    return gettext(stored)
