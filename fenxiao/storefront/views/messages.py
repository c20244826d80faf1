"""我的 → 消息: the buyer's message list (全部 / 未读), a message, its link, 全部已读."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from fenxiao.distribution.paging import page_before
from fenxiao.notices.errors import MessageNotFound
from fenxiao.notices.services import inbox

from .common import int_or_none

TABS = [("", gettext_lazy("全部")), ("unread", gettext_lazy("未读"))]
PAGE_SIZE = 20


@login_required
def message_list(request):
    unread = request.GET.get("tab") == "unread"
    # Keyset paging ("older than this id") on the (user, id) index: every page costs the same.
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(
        inbox.mine(request.user, unread=unread), before if before and before > 0 else None, PAGE_SIZE
    )
    return render(
        request,
        "storefront/messages/list.html",
        {"rows": rows, "next": cursor, "tabs": TABS, "current": "unread" if unread else "", "tab": "me"},
    )


def _own(request, message_id: int, action):
    try:
        return action(request.user, int_or_none(message_id))
    except MessageNotFound:
        raise Http404("消息不存在") from None


@login_required
def message_detail(request, message_id: int):
    message = _own(request, message_id, inbox.mark_read)
    return render(request, "storefront/messages/detail.html", {"message": message, "tab": "me"})


@login_required
def message_go(request, message_id: int):
    """The message's link, through here so the click is counted; only paths on this site."""
    return redirect(_own(request, message_id, inbox.click))


@login_required
@require_POST
def read_all(request):
    marked = inbox.mark_all_read(request.user)
    if marked:
        text = ngettext("已将 %(n)s 条消息标为已读", "已将 %(n)s 条消息标为已读", marked) % {"n": marked}
    else:
        text = gettext("没有未读消息")
    flash.success(request, text)
    return redirect("/me/messages/")
