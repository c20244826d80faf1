"""Times a till sends (`sold_at`, `refunded_at`): refused, writing nothing, when they are in
the future or before 2000-01-01 shop time (a till whose clock was reset, or a year no
database date holds once turned into UTC), never a 500 nor a member first paid in year 1."""

import pytest
from django.utils import timezone

from fenxiao.customers.models import CustomerFigures
from fenxiao.stores.models import OfflineRefund, OfflineSale, PosIdempotency
from fenxiao.testing import make_buyer

from .pos_till import Till, make_store, sale
from .test_pos_refunds import open_shop, refund

pytestmark = pytest.mark.django_db

TOO_EARLY = [
    "0001-01-01T00:00:00",  # shop time: year 0 in UTC
    "0001-01-01T05:00:00+14:00",
    "0001-01-01T00:00:00+00:00",
    "1970-01-01T00:00:00Z",
    "1999-12-31T23:59:59",  # a second before the floor, shop time
    "1999-12-31T15:59:59+00:00",
]
TOO_LATE = ["9999-12-31T23:59:59", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("sold_at", TOO_EARLY + TOO_LATE)
def test_a_sale_at_an_impossible_time_is_refused_and_counts_nothing(sold_at):
    till = Till(make_store())
    buyer = make_buyer()
    body = sale("S-1", buyer.phone, 5000) | {"sold_at": sold_at}
    reply = till.call("POST", "/sales", body)
    assert reply.status_code == 400, reply.content
    assert reply.json()["code"] == "POS_SOLD_AT_INVALID"
    assert not OfflineSale.objects.exists()
    assert not PosIdempotency.objects.exists()
    assert not CustomerFigures.objects.filter(user=buyer, paid_orders__gt=0).exists()


@pytest.mark.parametrize("sold_at", ["2000-01-01T00:00:00", "1999-12-31T16:00:00+00:00"])
def test_a_sale_at_the_floor_is_recorded(sold_at):
    till = Till(make_store())
    reply = till.call("POST", "/sales", sale("S-1", None, 5000) | {"sold_at": sold_at})
    assert reply.status_code == 200, reply.content
    assert timezone.localtime(OfflineSale.objects.get().sold_at).year == 2000


@pytest.mark.parametrize("refunded_at", TOO_EARLY + TOO_LATE)
def test_a_return_at_an_impossible_time_is_refused_and_writes_nothing(refunded_at):
    shop = open_shop()
    body = {
        "refund_id": "R-1",
        "lines": [{"sku_code": shop["code"], "quantity": 1, "amount": 3333}],
        "total": 3333,
        "refunded_at": refunded_at,
    }
    reply = shop["till"].call("POST", "/sales/S-1/refunds", body, idempotency="refund:S-1:R-1")
    assert reply.status_code == 400, reply.content
    assert reply.json()["code"] == "POS_REFUNDED_AT_INVALID"
    assert not OfflineRefund.objects.exists()


def test_a_return_just_after_its_sale_is_still_recorded():
    shop = open_shop()
    assert refund(shop).status_code == 200
