"""One page-number pagination for every API list.

A page number is bounded so the offset it becomes always fits the database's integer
(a page past 2**62 used to overflow SQLite and PostgreSQL with a 500); anything beyond is
refused as bad input (422 `INVALID_INPUT` in the API, 400 `INVALID_PAGE` on H5 pages)
before a query runs.
"""

from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

from .errors import InvalidInput

MAX_PAGE = 100_000
MAX_PAGE_SIZE = 100


class Pagination(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)


def page_number(value) -> int:
    """An H5 page number from a query string. Missing, unreadable or below 1 is page 1; a
    number past MAX_PAGE is refused (400 `INVALID_PAGE`) rather than turned into an offset
    no database can hold."""
    try:
        page = int(value)
    except (TypeError, ValueError):
        return 1
    if page > MAX_PAGE:
        raise InvalidInput(_("页码超出范围"), code="INVALID_PAGE")
    return max(page, 1)
