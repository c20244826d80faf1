"""Recording traffic: page views, product views and cart adds per visitor and day.

The visitor is a random first-party id (32 hex) kept in a cookie; no IP address or user
agent is stored. What one request adds is gathered in this process's buffer
(`fenxiao/core/batching.py`) and written at most `TRAFFIC_FLUSH_SECONDS` later with one
INSERT … ON CONFLICT DO UPDATE per table adding the counters, so a page view costs no
query on the hot path. A day's source and referring distributor are the first ones seen
that day: the buffer keeps its first row's, and the upsert never overwrites them.

Views note what they showed (`fenxiao/core/traffic.py`); the middleware
(`analytics/middleware.py`) decides whether the request counts and calls `record`.
"""

import secrets
from urllib.parse import urlsplit

from django.utils import timezone
from django.utils.crypto import salted_hmac

from fenxiao.core.batching import Batch, upsert
from fenxiao.customers.services import devices

from ..models import ProductView, VisitorDay, VisitSource

# The visitor id is also how the abuse guards know a device (customers.services.devices).
VISITOR_COOKIE = devices.COOKIE
VISITOR_COOKIE_AGE = devices.COOKIE_AGE
VISITOR_HEADER = devices.HEADER
REFERRAL_SOURCES = frozenset(
    {VisitSource.LINK, VisitSource.QR, VisitSource.POSTER, VisitSource.STORE, VisitSource.COUPON}
)

# Hosts whose referer means "came from a search engine" (the host or any subdomain of it).
SEARCH_ENGINES = (
    "baidu.com",
    "sogou.com",
    "so.com",
    "sm.cn",
    "bing.com",
    "google.com",
    "google.cn",
    "toutiao.com",
    "yandex.ru",
    "duckduckgo.com",
)


# --- The visitor ---------------------------------------------------------------------------
valid_visitor = devices.valid


def new_visitor() -> str:
    return secrets.token_hex(16)


def buyer_visitor(buyer_id: int) -> str:
    """A signed-in API caller without a visitor id (a token, no cookie) counts as one
    visitor per buyer: a keyed hash, so the id does not reveal the account."""
    return salted_hmac("fenxiao.traffic-visitor", str(buyer_id)).hexdigest()[:32]


# --- The day's source ----------------------------------------------------------------------
def referral_source(src: str | None) -> str:
    """The source a referral landing `/r/<code>?src=` gives (link when missing or unknown)."""
    return src if src in REFERRAL_SOURCES else VisitSource.LINK


def is_search_engine(referer: str | None) -> bool:
    if not referer:
        return False
    try:
        host = (urlsplit(referer).hostname or "").lower()
    except ValueError:
        return False
    return any(host == engine or host.endswith("." + engine) for engine in SEARCH_ENGINES)


def page_source(*, search_page: bool, referer: str | None) -> str:
    """A page's source when no referral brought the visitor: the in-site search page or a
    search engine's referer is search, anything else direct."""
    return VisitSource.SEARCH if search_page or is_search_engine(referer) else VisitSource.DIRECT


# --- Recording -----------------------------------------------------------------------------
def record(
    visitor: str,
    *,
    source: str,
    distributor_id: int | None = None,
    buyer_id: int | None = None,
    page_views: int = 0,
    product_id: int | None = None,
    cart_adds: int = 0,
) -> None:
    """Count one request of `visitor`: into its day's row, and into the buyer's browsing
    trail when a signed-in buyer viewed a product. Gathered in memory, written in batches."""
    now = timezone.now()
    day = timezone.localdate(now)
    entries = [
        (
            ("v", day, visitor),
            {
                "day": day,
                "visitor": visitor,
                "buyer_id": buyer_id,
                "source": source,
                "distributor_id": distributor_id,
                "page_views": page_views,
                "product_views": 1 if product_id else 0,
                "cart_adds": cart_adds,
                "first_seen_at": now,
                "last_seen_at": now,
            },
            _merge_day,
        )
    ]
    if product_id and buyer_id:
        entries.append(
            (
                ("p", buyer_id, product_id, day),
                {
                    "buyer_id": buyer_id,
                    "product_id": product_id,
                    "day": day,
                    "views": 1,
                    "first_viewed_at": now,
                    "last_viewed_at": now,
                },
                _merge_view,
            )
        )
    batch.add_all(entries)


def _merge_day(row: dict, again: dict) -> None:
    # The first row's source and distributor stay: the day's first source wins.
    row["page_views"] += again["page_views"]
    row["product_views"] += again["product_views"]
    row["cart_adds"] += again["cart_adds"]
    row["last_seen_at"] = again["last_seen_at"]
    if row["buyer_id"] is None:
        row["buyer_id"] = again["buyer_id"]


def _merge_view(row: dict, again: dict) -> None:
    row["views"] += again["views"]
    row["last_viewed_at"] = again["last_viewed_at"]


def flush() -> int:
    """Write what this process gathered now (before reading the trail, and in tests)."""
    return batch.flush()


def _write(rows: list[dict]) -> None:
    """Two statements at most, whatever the number of rows. Sorted by key so two processes
    flushing at once lock rows in the same order (no deadlock on PostgreSQL)."""
    days = sorted((r for r in rows if "visitor" in r), key=lambda r: (r["day"], r["visitor"]))
    views = sorted(
        (r for r in rows if "views" in r), key=lambda r: (r["buyer_id"], r["product_id"], r["day"])
    )
    upsert(
        VisitorDay,
        days,
        conflict=("day", "visitor"),
        add=("page_views", "product_views", "cart_adds"),
        replace=("last_seen_at",),
        fill=("buyer",),
    )
    upsert(
        ProductView,
        views,
        conflict=("buyer", "product", "day"),
        add=("views",),
        replace=("last_viewed_at",),
    )


batch = Batch("traffic counts", _write, interval_setting="TRAFFIC_FLUSH_SECONDS")
