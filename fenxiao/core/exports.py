"""Exports of backend lists: what each one writes, and how its rows are read.

An `Export` names a sheet (title, file name, Chinese headers) and how to turn a queryset
(the list's filtered queryset) into rows for `core/tabular.py`. Rows are read a chunk of
ids at a time, each chunk with a fixed number of queries (the related rows prefetched for
the whole chunk), so an export of 100,000 orders costs the same per row as one of ten and
holds one chunk in memory.

The domain modules (`orders/services/exports.py`, …) define their exports; the backend lists
offer them through `core/admin_exports.py`.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.utils import timezone

CHUNK = 1000
# What the background job counts its progress with: called with each chunk's size once the
# chunk's rows are written.
_tick: ContextVar[Callable[[int], None] | None] = ContextVar("export_tick", default=None)


@dataclass(frozen=True)
class Export:
    """One kind of export.

    `rows(queryset, user)` yields one list per sheet row, in the order of `headers`;
    `user` is the staff member who asked (phones are masked unless they may see them).
    `phone_permission`, when the file holds phones, is the permission that shows them in
    full: a background job's file goes to colleagues too, so it names who may read it.
    """

    title: str
    name: str
    headers: list[str]
    rows: Callable[..., Iterable[list]]
    widths: dict[int, int] = field(default_factory=dict)
    phone_permission: str = ""

    def filename(self, fmt: str) -> str:
        # Chinese, as merchants file them ("订单-20260102-030405.xlsx"); the download's
        # Content-Disposition carries it as UTF-8 with an ASCII fallback.
        return f"{self.title}-{timezone.localtime():%Y%m%d-%H%M%S}.{fmt}"


def id_chunks(queryset, size: int | None = None, *, newest_first: bool = True) -> Iterator[list[int]]:
    """The queryset's primary keys, newest first (or oldest first), `size` at a time.

    Keyset pages (`pk < last`) rather than OFFSET: each page is one query that starts where
    the last one ended, however deep into a large export it is. Works on a list's queryset
    as it is (filters, search joins, DISTINCT).
    """
    size = size or CHUNK
    ids = queryset.order_by("-pk" if newest_first else "pk").values_list("pk", flat=True)
    after = "pk__lt" if newest_first else "pk__gt"
    last = None
    while True:
        page = list((ids if last is None else ids.filter(**{after: last}))[:size])
        if not page:
            return
        yield page
        if tick := _tick.get():
            tick(len(page))
        if len(page) < size:
            return
        last = page[-1]


@contextmanager
def reporting(tick: Callable[[int], None]):
    """Within the block, every chunk read by `id_chunks` is reported to `tick`."""
    token = _tick.set(tick)
    try:
        yield
    finally:
        _tick.reset(token)


def in_order(objects, ids: list[int]) -> list:
    """`objects` (read with `pk__in=ids`) in the order of `ids`."""
    by_pk = {obj.pk: obj for obj in objects}
    return [by_pk[pk] for pk in ids if pk in by_pk]
