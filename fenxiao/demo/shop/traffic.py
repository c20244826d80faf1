"""Demo traffic: the visitor days and browsing trails the H5 pages would have recorded
while the demo's orders were placed, so the dashboard and the traffic report have a history.

Made after the orders, from them: every buyer who placed an order on a day visited that
day (and looked at what they bought), so the funnel's order and paid steps are the demo's
real orders. Anonymous visitors, who never order, fill the top of the funnel: they arrive
directly, from search, or through a demo distributor's link, QR code or poster. Written
with two bulk inserts.
"""

from collections import defaultdict
from datetime import datetime, time, timedelta
from random import Random

from django.utils import timezone

from fenxiao.analytics.models import ProductView, VisitorDay, VisitSource
from fenxiao.catalog.models import Product
from fenxiao.customers.models import User
from fenxiao.distribution.models import CustomerBinding
from fenxiao.orders.models import Order, OrderLine

# Traffic starts a few days before the first order: the shop opened, then sold.
LEAD_DAYS = 5
# Anonymous visitors per day on a weekday; weekends get more.
DAILY_VISITORS = (14, 30)
# source, weight, whether a distributor brought the visit
ANONYMOUS_SOURCES = [
    (VisitSource.DIRECT, 34, False),
    (VisitSource.SEARCH, 22, False),
    (VisitSource.LINK, 22, True),
    (VisitSource.QR, 12, True),
    (VisitSource.POSTER, 8, True),
    (VisitSource.COUPON, 4, True),
]


def _visitor_id(rng: Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _moment(rng: Random, day, tz, hours=(8, 23)) -> datetime:
    start = datetime.combine(day, time(hours[0]), tzinfo=tz)
    return start + timedelta(seconds=rng.uniform(0, (hours[1] - hours[0]) * 3600))


def _anonymous(rng: Random, day, tz, distributors: list, visitor: str) -> VisitorDay:
    source, _, via = rng.choices(ANONYMOUS_SOURCES, weights=[w for _, w, _ in ANONYMOUS_SOURCES])[0]
    seen = _moment(rng, day, tz)
    product_views = rng.choice([0, 0, 1, 1, 2, 3, 5])
    cart_adds = 1 if product_views and rng.random() < 0.25 else 0
    return VisitorDay(
        day=day,
        visitor=visitor,
        source=source,
        distributor=rng.choice(distributors) if via and distributors else None,
        page_views=1 + product_views + rng.randint(0, 3),
        product_views=product_views,
        cart_adds=cart_adds,
        first_seen_at=seen,
        last_seen_at=seen + timedelta(seconds=rng.uniform(20, 900)),
    )


def build_traffic(rng: Random, distributors: list, browsers=()) -> None:
    """Visitor days from LEAD_DAYS before the first order to today, and the buyers'
    browsing trails. `browsers` are buyers who only looked (no orders)."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    orders = list(Order.objects.order_by("created_at").values("id", "buyer_id", "created_at"))
    first = (timezone.localtime(orders[0]["created_at"]).date() if orders else today) - timedelta(
        days=LEAD_DAYS
    )
    bought = defaultdict(set)  # order id -> product ids
    for order_id, product_id in OrderLine.objects.values_list("order_id", "sku__product_id"):
        bought[order_id].add(product_id)
    # (buyer, day) -> when they placed their first order that day, and what they ordered
    ordering = {}
    for order in orders:
        when = timezone.localtime(order["created_at"])
        key = (order["buyer_id"], when.date())
        at, products = ordering.get(key, (when, set()))
        ordering[key] = (min(at, when), products | bought[order["id"]])
    bindings = dict(CustomerBinding.objects.values_list("buyer_id", "distributor_id"))
    listed = list(Product.objects.filter(is_listed=True).order_by("id").values_list("id", flat=True))
    buyer_ids = sorted({buyer for buyer, _ in ordering} | {b.pk for b in browsers})
    joined = {
        pk: timezone.localdate(at)
        for pk, at in User.objects.filter(pk__in=buyer_ids).values_list("pk", "date_joined")
    }

    visits, trails, seen_before = [], [], []
    day = first
    while day <= today:
        count = rng.randint(*DAILY_VISITORS)
        if day.weekday() >= 5:
            count = count * 3 // 2
        if day == today:  # the day is not over yet
            count = count * max(timezone.localtime().hour, 1) // 24
        # About a third of the day's anonymous visitors were here before (same cookie).
        returning = rng.sample(seen_before, min(len(seen_before), count // 3))
        fresh = [_visitor_id(rng) for _ in range(count - len(returning))]
        seen_before.extend(fresh)
        visits.extend(_anonymous(rng, day, tz, distributors, visitor) for visitor in returning + fresh)
        for buyer in buyer_ids:
            order = ordering.get((buyer, day))
            if order is None and (day < joined[buyer] or rng.random() > 0.2):
                continue  # buyers come back now and then without buying
            if order:
                placed_at, products = order
                seen = placed_at - timedelta(seconds=rng.uniform(3 * 60, 25 * 60))
                if seen.date() != day:
                    seen = placed_at.replace(hour=0, minute=0, second=1)
            else:
                seen, products = _moment(rng, day, tz), set()
            if seen > timezone.now():
                continue
            looked = set(products) | set(rng.sample(listed, rng.randint(0 if products else 1, 3)))
            views = {product: rng.randint(1, 3) for product in sorted(looked)}
            via = bindings.get(buyer)
            source = (
                VisitSource.LINK
                if via and rng.random() < 0.5
                else rng.choice([VisitSource.DIRECT, VisitSource.DIRECT, VisitSource.SEARCH])
            )
            last = seen + timedelta(seconds=rng.uniform(60, 600))
            visits.append(
                VisitorDay(
                    day=day,
                    visitor=_visitor_id(rng),
                    buyer_id=buyer,
                    source=source,
                    distributor_id=via if source == VisitSource.LINK else None,
                    page_views=sum(views.values()) + rng.randint(2, 6),
                    product_views=sum(views.values()),
                    cart_adds=len(products) or (1 if rng.random() < 0.3 else 0),
                    first_seen_at=seen,
                    last_seen_at=last,
                )
            )
            trails.extend(
                ProductView(
                    buyer_id=buyer,
                    product_id=product,
                    day=day,
                    views=n,
                    first_viewed_at=seen,
                    last_viewed_at=min(last, seen + timedelta(seconds=30 * n)),
                )
                for product, n in views.items()
            )
        day += timedelta(days=1)
    VisitorDay.objects.bulk_create(visits, batch_size=500)
    ProductView.objects.bulk_create(trails, batch_size=500)
