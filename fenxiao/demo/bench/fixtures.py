"""What the HTTP scenarios need on the bench database: buyers bound to one distributor (so
every paid order earns commission), each with an address, and products with deep stock."""

from django.db import transaction
from django.db.models import Sum

from fenxiao import testing

STOCK = 1_000_000
PASSWORD = "Bench#2026"
PRICE = 9900


def create(*, buyers: int, products: int) -> dict:
    from fenxiao.distribution.services import binding, distributors

    with transaction.atomic():
        staff = testing.make_staff("bench")
        distributor = distributors.designate(testing.make_buyer(password=PASSWORD), staff)
        category = testing.make_category("压测")
        items = [
            testing.make_product(f"压测商品{i}", category=category, stock=STOCK, price=PRICE)
            for i in range(products)
        ]
        people = []
        for _ in range(buyers):
            buyer = testing.make_buyer(password=PASSWORD)
            address = testing.make_address(buyer)
            binding.bind_by_code(buyer, distributor.referral_code)
            people.append({"phone": buyer.phone, "address_id": address.pk})
    return {
        "password": PASSWORD,
        "distributor_id": distributor.pk,
        "referral_code": distributor.referral_code,
        "buyers": people,
        "product_ids": [p.pk for p in items],
        "sku_ids": [p.skus.get().pk for p in items],
    }


def touch_hits(distributor_id: int) -> int:
    """Visits through the distributor's link, counted (anonymous repeats share a row)."""
    from fenxiao.distribution.models import Touch

    return Touch.objects.filter(distributor_id=distributor_id).aggregate(n=Sum("hits"))["n"] or 0


def check_orders(sku_ids: list[int]) -> dict:
    """After the buyers: every paid order has its commission, and no SKU sold more than its
    stock (what left the stock is exactly what live orders hold)."""
    from fenxiao.catalog.models import Sku
    from fenxiao.distribution.models import Commission
    from fenxiao.orders.models import Order, OrderLine, OrderStatus

    paid = Order.objects.filter(paid_at__isnull=False)
    without = paid.exclude(pk__in=Commission.objects.values("order_id"))
    held = dict(
        OrderLine.objects.filter(sku_id__in=sku_ids)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values_list("sku_id")
        .annotate(n=Sum("quantity"))
    )
    stock = dict(Sku.objects.filter(pk__in=sku_ids).values_list("pk", "stock"))
    mismatched = [pk for pk in sku_ids if STOCK - stock[pk] != held.get(pk, 0) or stock[pk] < 0]
    return {
        "orders": Order.objects.count(),
        "paid_orders": paid.count(),
        "paid_without_commission": without.count(),
        "commissions": Commission.objects.count(),
        "units_sold": sum(held.values()),
        "skus_oversold_or_mismatched": len(mismatched),
    }
