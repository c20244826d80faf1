"""The message center: writing messages, and a buyer reading their own.

The invariant: a notice is written in the transaction that makes its fact true, once per
fact and recipient, and reaches each configured external channel at least once after
that transaction commits.

- `notify` and `notify_many` run inside the caller's transaction: a rolled-back shipment
  leaves no "已发货" message behind, and no SMS goes out for it.
- Every message carries a `source_key` naming its fact and recipient; its unique index
  turns a repeated call into nothing (`ON CONFLICT DO NOTHING`), never a second message.
- `notify_many` writes in chunks, a fixed number of statements per chunk whatever the
  chunk holds: the messages, their ids read back, and one outbox row per message and
  external channel (`channels_for`). The rows are handed to a task after commit, one task
  per chunk; the sweeper (`delivery.sweep`) re-drives whatever that loses.
- Staff's targeted push is `notify_many(Kind.PUSH, …)` fed with a segment's member ids
  in id order, keyed `push:<push id>:<user id>`, with the push as subject and on the
  channels the push chose: a job restarted midway writes each recipient once, and the
  push's report reads sent / read / clicked off `created_at`, `read_at`, `clicked_at` of
  its messages and the outbox rows' status per channel.
- A buyer only ever reads or changes their own messages: every read here filters on the
  user first, so another buyer's id is simply not found.
"""

import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from fenxiao.core.http import is_site_path

from ..channels import channels_for
from ..errors import MessageNotFound
from ..models import Delivery, Message
from .delivery import QUEUE_GRACE, schedule

CHUNK = 1000
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Draft:
    """One message to write: who gets it, what it says, and the key of its fact."""

    user_id: int
    title: str
    body: str
    source_key: str
    link: str = ""
    subject_type: str = ""
    subject_id: int | None = None
    data: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def templated(
        cls, user_id: int, title: str, template: str, args: dict, source_key: str, *rest
    ) -> "Draft":
        """A message whose body is `template` (a catalog's Chinese text) with `args`: stored
        in Chinese and kept with both, so `Message.body_text` shows it in the reader's
        language. An argument given as {"text": …} is translated when a catalog has it."""
        plain = {name: value["text"] if isinstance(value, dict) else value for name, value in args.items()}
        data = {Message.TEMPLATE: template, Message.ARGS: args}
        return cls(user_id, title, template % plain, source_key, *rest, data=data)


def notify(
    user,
    kind: str,
    title: str,
    body: str,
    link: str = "",
    *,
    source_key: str,
    subject_type: str = "",
    subject_id: int | None = None,
    args: dict | None = None,
) -> None:
    """One message to one user (a user or a user id), inside the caller's transaction. With
    `args`, `body` is a template (`Draft.templated`)."""
    user_id = getattr(user, "pk", user)
    rest = (link, subject_type, subject_id)
    if args is None:
        draft = Draft(user_id, title, body, source_key, *rest)
    else:
        draft = Draft.templated(user_id, title, body, args, source_key, *rest)
    notify_many(kind, [draft])


def notify_many(kind: str, drafts: Iterable[Draft], *, channels: list[tuple[str, str]] | None = None) -> int:
    """Write `drafts` (any iterable, consumed once, `CHUNK` at a time) as messages of `kind`
    with their outbox rows, on `channels` (default: `channels_for(kind)`). Returns how many
    drafts were handled (already-written ones included)."""
    if channels is None:
        channels = channels_for(kind)
    handled = 0
    drafts = iter(drafts)
    while group := list(islice(drafts, CHUNK)):
        handled += len(group)
        if connection.vendor == "postgresql":
            _write_postgresql(kind, group, channels)
            continue
        Message.objects.bulk_create([_message(kind, draft) for draft in group], ignore_conflicts=True)
        if channels:
            _queue(group, channels)
    return handled


# On PostgreSQL a chunk is one statement (three when some of it was written before) fed
# with one array per column: the ORM's multi-row insert costs more to build than the rows
# cost to write (a settlement run notifies every distributor it paid; a push, every member
# of its segment). The columns a statement does not feed take what the model would write
# (`_constant_columns`).
_MESSAGES_SQL = """
INSERT INTO {message}
    (user_id, kind, title, body, link, subject_type, subject_id, source_key, data{columns})
SELECT d.user_id, %s, d.title, d.body, d.link, d.subject_type, d.subject_id, d.source_key,
    d.data::jsonb{values}
FROM unnest(
    %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[]
) AS d(user_id, title, body, link, subject_type, subject_id, source_key, data)
ON CONFLICT (source_key) DO NOTHING
RETURNING id
"""
_DELIVERIES_SQL = """
INSERT INTO {delivery} (message_id, channel, adapter, next_attempt_at{columns})
SELECT m.id, c.channel, c.adapter, %s{values}
FROM unnest(%s::bigint[]) AS m(id) CROSS JOIN unnest(%s::text[], %s::text[]) AS c(channel, adapter)
ON CONFLICT (message_id, channel) DO NOTHING
"""
# With external channels, the messages and their outbox rows go in one statement (a
# payment's "有新的佣金" notice is one round trip, not two): the outbox insert reads the
# ids the message insert returns. The messages' unique key is checked as they are
# written, so only new messages reach the outbox here; ids already written (a repeated
# call) are queued after, as `_DELIVERIES_SQL` alone.
_MESSAGES_AND_DELIVERIES_SQL = """
WITH m AS ({messages}), q AS (
    INSERT INTO {delivery} (message_id, channel, adapter, next_attempt_at{columns})
    SELECT m.id, c.channel, c.adapter, %s{values}
    FROM m CROSS JOIN unnest(%s::text[], %s::text[]) AS c(channel, adapter)
    ON CONFLICT (message_id, channel) DO NOTHING
)
SELECT id FROM m
"""


def _constant_columns(model, fed: set[str], now) -> tuple[str, str, list]:
    """The columns of `model` a statement does not feed, with the value the ORM would
    write for each: its default, the time for `auto_now_add`, NULL where it may be empty."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in fed:
            continue
        if getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default() or (field.empty_strings_allowed and not field.null):
            value = field.get_default()
        elif field.null:
            continue
        else:
            raise ValueError(f"{model.__name__}.{field.column} has no default: the insert must feed it")
        columns.append(", " + connection.ops.quote_name(field.column))
        values.append(", %s")
        params.append(field.get_db_prep_save(value, connection))
    return "".join(columns), "".join(values), params


def _write_postgresql(kind: str, group: list[Draft], channels: list[tuple[str, str]]) -> None:
    now = timezone.now()
    quote = connection.ops.quote_name
    fed = {
        "id",
        "user_id",
        "kind",
        "title",
        "body",
        "link",
        "subject_type",
        "subject_id",
        "source_key",
        "data",
    }
    columns, values, constants = _constant_columns(Message, fed, now)
    messages = _MESSAGES_SQL.format(message=quote(Message._meta.db_table), columns=columns, values=values)
    params = [
        kind,
        *constants,
        [d.user_id for d in group],
        [d.title[:60] for d in group],
        [d.body[:500] for d in group],
        [d.link if is_site_path(d.link) else "" for d in group],
        [d.subject_type for d in group],
        [d.subject_id for d in group],
        [d.source_key for d in group],
        [json.dumps(d.data, ensure_ascii=False) for d in group],
    ]
    with connection.cursor() as cursor:
        if not channels:
            cursor.execute(messages, params)
            return
        fed = {"id", "message_id", "channel", "adapter", "next_attempt_at"}
        columns, values, constants = _constant_columns(Delivery, fed, now)
        outbox = [now + QUEUE_GRACE, *constants]
        channel_arrays = [[channel for channel, _ in channels], [adapter for _, adapter in channels]]
        cursor.execute(
            _MESSAGES_AND_DELIVERIES_SQL.format(
                messages=messages.strip(),
                delivery=quote(Delivery._meta.db_table),
                columns=columns,
                values=values,
            ),
            [*params, *outbox, *channel_arrays],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        if len(ids) < len(group):
            # Some were written before (a repeated call): their outbox rows are queued too,
            # as they would have been then, and the conflict below keeps any already there.
            ids = list(
                Message.objects.filter(source_key__in=[d.source_key for d in group]).values_list(
                    "pk", flat=True
                )
            )
            deliveries = _DELIVERIES_SQL.format(
                delivery=quote(Delivery._meta.db_table), columns=columns, values=values
            )
            cursor.execute(deliveries, [*outbox, ids, *channel_arrays])
    schedule(ids)


def _message(kind: str, draft: Draft) -> Message:
    return Message(
        user_id=draft.user_id,
        kind=kind,
        title=draft.title[:60],
        body=draft.body[:500],
        link=draft.link if is_site_path(draft.link) else "",
        subject_type=draft.subject_type,
        subject_id=draft.subject_id,
        source_key=draft.source_key,
        data=draft.data,
    )


def _queue(group: list[Draft], channels: list[tuple[str, str]]) -> None:
    # The ids are read back by key: an insert that skipped conflicts returns none.
    keys = [d.source_key for d in group]
    ids = list(Message.objects.filter(source_key__in=keys).order_by().values_list("pk", flat=True))
    due = timezone.now() + QUEUE_GRACE
    Delivery.objects.bulk_create(
        [
            Delivery(message_id=pk, channel=channel, adapter=adapter, next_attempt_at=due)
            for pk in ids
            for channel, adapter in channels
        ],
        ignore_conflicts=True,  # a message already queued on this channel keeps its row
    )
    schedule(ids)


# --- A buyer's own messages -------------------------------------------------------------


def mine(user, *, unread: bool = False):
    """The user's messages, newest first (the list's index order)."""
    messages = Message.objects.filter(user=user)
    if unread:
        messages = messages.filter(read_at__isnull=True)
    return messages.order_by("-id")


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Message.objects.filter(user=user, read_at__isnull=True).count()


def get_own(user, message_id) -> Message:
    # An id no database can hold is simply not found (instead of an overflow error).
    valid = isinstance(message_id, int) and 0 < message_id <= MAX_ID
    message = Message.objects.filter(user=user, pk=message_id).first() if valid else None
    if message is None:
        raise MessageNotFound()
    return message


def mark_read(user, message_id) -> Message:
    """Opening a message reads it; reading it again changes nothing."""
    message = get_own(user, message_id)
    if message.read_at is None:
        now = timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
        message.read_at = now
    return message


def mark_all_read(user) -> int:
    return Message.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())


def click(user, message_id) -> str:
    """Follow a message's link: records the (first) click, reads the message, and returns
    the in-site path to go to; a message without one leads to itself."""
    message = get_own(user, message_id)
    now = timezone.now()
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, clicked_at__isnull=True).update(clicked_at=now)
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=now)
    if message.link and is_site_path(message.link):
        return message.link
    return f"/me/messages/{message.pk}/"
