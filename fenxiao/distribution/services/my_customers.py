"""我的客户: the buyers a distributor has bound (bindings in force), newest first, each with
what they bought through this distributor. A distributor reads their customers by their
display name (a nickname, else a masked phone), never a full phone number."""

from django.db.models import Count, Max, Sum

from ..models import CustomerBinding, Distributor, OrderAttribution


def customers(distributor: Distributor):
    """The distributor's bound buyers, newest binding first (page it by key: `page_before`)."""
    return (
        CustomerBinding.objects.in_force()
        .filter(distributor=distributor)
        .select_related("buyer")
        .only("id", "source", "bound_at", "expires_at", "buyer__nickname", "buyer__phone", "buyer__username")
    )


def purchases(distributor: Distributor, buyer_ids) -> dict[int, dict]:
    """For a page of buyers: their paid orders this distributor earned on at level 1, the
    amount those orders kept (paid less refunded) and the last payment. One grouped read
    over the attributions' (level1, order) index, whatever the page's size."""
    ids = list(buyer_ids)
    found = {pk: {"orders": 0, "spent": 0, "last_paid_at": None} for pk in ids}
    paid = OrderAttribution.objects.filter(level1=distributor, order__paid_at__isnull=False)
    rows = (
        paid.filter(order__buyer_id__in=ids)
        .values("order__buyer_id")
        .annotate(
            orders=Count("pk"),
            paid=Sum("order__paid_amount"),
            refunded=Sum("order__refunded_amount"),
            last_paid_at=Max("order__paid_at"),
        )
    )
    for row in rows:
        found[row["order__buyer_id"]] = {
            "orders": row["orders"],
            "spent": (row["paid"] or 0) - (row["refunded"] or 0),
            "last_paid_at": row["last_paid_at"],
        }
    return found


def page(distributor: Distributor, rows) -> list[dict]:
    """A page of bindings as a distributor reads them."""
    stats = purchases(distributor, (binding.buyer_id for binding in rows))
    return [
        {
            "id": binding.pk,
            "name": binding.buyer.display_name,
            "source": binding.source,
            "source_display": binding.get_source_display(),
            "bound_at": binding.bound_at,
            "expires_at": binding.expires_at,
            **stats[binding.buyer_id],
        }
        for binding in rows
    ]
