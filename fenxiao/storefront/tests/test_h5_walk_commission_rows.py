"""佣金明细: a cancelled commission reads as lost, not as a red +¥0.00 of earnings."""

import re

import pytest
from django.test import Client

from fenxiao.distribution.models import Commission, CommissionStatus
from fenxiao.distribution.tests.helpers import bound_buyer, buy, make_distributor
from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


def amounts(html: str) -> list[str]:
    return re.findall(r'<span class="([^"]*)"[^>]*data-testid="commission-amount">([^<]*)</span>', html)


def test_a_cancelled_commission_shows_its_amount_struck_through():
    distributor = make_distributor()
    buyer = bound_buyer(distributor)
    buy(buyer, (make_product(price=10000).skus.get(), 1))
    buy(buyer, (make_product(price=20000).skus.get(), 1))
    kept, lost = Commission.objects.filter(distributor=distributor).order_by("pk")
    # A refund before settlement: the whole amount taken back, the row cancelled.
    Commission.objects.filter(pk=lost.pk).update(
        status=CommissionStatus.CANCELLED, reversed_amount=lost.amount
    )
    client = Client()
    client.force_login(distributor.user)
    html = client.get("/d/commissions/").content.decode()
    shown = amounts(html)
    assert shown[0] == ("strike", f"¥{lost.amount / 100:.2f}"), shown
    assert shown[1] == ("price", f"+¥{kept.amount / 100:.2f}"), shown
    assert "+¥0.00" not in html
    tab = client.get("/d/commissions/?status=cancelled").content.decode()
    assert amounts(tab) == [("strike", f"¥{lost.amount / 100:.2f}")]
