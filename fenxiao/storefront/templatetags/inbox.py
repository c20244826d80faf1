"""The unread-message badge (我的 tab, 我的 → 消息): one count query per request, however many
places on the page show it."""

from django import template

from fenxiao.notices.services import inbox

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_messages(context) -> int:
    request = context.get("request")
    if request is None:
        return 0
    if not hasattr(request, "_unread_messages"):
        request._unread_messages = inbox.unread_count(request.user)
    return request._unread_messages


@register.filter
def badge_text(count) -> str:
    """99+ past 99: the badge stays one small circle."""
    return "99+" if count > 99 else str(count)
