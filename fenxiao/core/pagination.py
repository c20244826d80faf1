"""One page-number pagination for every API list.

A page number is bounded so the offset it becomes always fits the database's integer
(a page past 2**62 used to overflow SQLite and PostgreSQL with a 500); anything beyond is
refused as bad input (422 `INVALID_INPUT`) before a query runs.
"""

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100


class Pagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)


def page_number(value, default: int = 1) -> int:
    """An H5 page number from a query string: anything unusable or out of range is page 1."""
    try:
        page = int(value)
    except (TypeError, ValueError):
        return default
    return page if 1 <= page <= MAX_PAGE else default
