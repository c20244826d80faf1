"""Keyset ("before this id") paging for a distributor's long, newest-first lists.

A page number becomes COUNT(*) plus OFFSET, both of which read every row before the page:
page 2,000 of a busy distributor's commissions took 200 ms. A page here is "the next
`page_size` rows with an id below `before`", read straight from the (distributor, id)
order, so every page costs the same. Rows inserted meanwhile have higher ids and never
shift a page: walking the `next` cursors covers every row that existed at the first page
exactly once.
"""

from typing import Any

from django.db.models import QuerySet
from ninja import Field, Schema
from ninja.pagination import PaginationBase

from fenxiao.core.pagination import MAX_PAGE_SIZE

# The largest id either database can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def page_before(queryset: QuerySet, before: int | None, size: int) -> tuple[list, int | None]:
    """(rows, next cursor): up to `size` rows with id below `before`, newest first; the
    cursor is the last row's id when more rows follow, else None. One query."""
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    rows = list(queryset.order_by("-pk")[: size + 1])
    if len(rows) > size:
        return rows[:size], rows[size - 1].pk
    return rows, None


class KeysetPagination(PaginationBase):
    class Input(Schema):
        before: int | None = Field(
            None, ge=1, le=MAX_ID, description="上一页返回的 next：只返回 ID 小于它的记录（首页不传）"
        )
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)
        # Page numbers are gone: a client still asking for page 2 is refused (422) rather
        # than handed page 1 again and again.
        page: int | None = Field(None, ge=1, le=1, description="已停用：请用 before 翻页")

    class Output(Schema):
        items: list[Any]
        next: int | None = Field(None, description="下一页的 before 参数；为空表示没有更多记录")

    def __init__(self, *, page_size: int = 20, **kwargs: Any) -> None:
        self.page_size = page_size
        super().__init__(**kwargs)

    def paginate_queryset(self, queryset: QuerySet, pagination: Input, request, **params: Any) -> dict:
        items, cursor = page_before(queryset, pagination.before, pagination.page_size or self.page_size)
        return {"items": items, "next": cursor}
