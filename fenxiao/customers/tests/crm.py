"""What the customer-console tests share: buyers with paid orders built through checkout
and the sandbox cashier, and staff in the built-in roles."""

from django.contrib.auth.models import Group

from fenxiao.customers.models import CustomerFigures, Tag, TagRule
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.customers.services.tags import ensure_rule_tags
from fenxiao.distribution.tests.helpers import buy, full_refund, sku
from fenxiao.testing import login, make_buyer, make_product, make_staff


def role_client(role: str):
    ensure_staff_groups()
    user = make_staff(role)
    user.groups.add(Group.objects.get(name=role))
    return login(user)


def operations():
    return role_client(OPERATIONS)


def finance():
    return role_client(FINANCE)


def rule_tag(rule: str, **thresholds) -> Tag:
    ensure_rule_tags()
    tag = Tag.objects.get(rule=rule)
    for key, value in thresholds.items():
        setattr(tag, key, value)
    tag.save()
    return tag


def paid(buyer=None, price=10000, count=1):
    """`count` paid orders of one item at `price` fen each; returns (buyer, last order)."""
    buyer = buyer or make_buyer()
    product = make_product(price=price, stock=100)
    order = None
    for _ in range(count):
        order = buy(buyer, (sku(product), 1))
    return buyer, order


def figures(buyer) -> CustomerFigures:
    return CustomerFigures.objects.get(user=buyer)


def tag_names(buyer) -> set[str]:
    return set(buyer.customer_tags.values_list("tag__name", flat=True))


__all__ = ["full_refund", "TagRule"]
