"""Reading what a person was told."""

from fenxiao.notices.models import Delivery, Message


def notices_of(user, kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, title, body) of every message `user` got, oldest first."""
    rows = Message.objects.filter(user=user).order_by("pk")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("kind", "title", "body"))


def deliveries_of(user) -> list[tuple[str, str, str]]:
    """(kind, channel, status) of every outbox row for `user`'s messages."""
    rows = Delivery.objects.filter(message__user=user).order_by("message_id", "channel")
    return list(rows.values_list("message__kind", "channel", "status"))
