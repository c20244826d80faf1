"""佣金记录 (the list and a commission's page) and a settlement batch's commission table
mask the distributor's phone (139****0002) for staff who may not see phones (财务), as the
other distribution pages do; 运营 sees it whole."""

import pytest

from fenxiao.customers.services.staff import FINANCE, OPERATIONS
from fenxiao.distribution.models import Commission, SettlementBatch
from fenxiao.testing import login

from .backend import list_url, url
from .test_admin_phone_masking import PHONES, masked, member_of, page

pytestmark = pytest.mark.django_db


def commission_pages(world, user) -> list[tuple[str, list[str]]]:
    commission = Commission.objects.filter(distributor=world["b"]).first()
    assert commission is not None
    shown = [world["b"].user.phone]
    pages = [(list_url(Commission), shown), (url(commission), shown)]
    batch = SettlementBatch.objects.filter(commissions__distributor=world["b"]).first()
    if batch is not None and user.has_perm("distribution.view_settlementbatch"):
        pages.append((url(batch), shown))
    return pages


def test_finance_sees_the_distributors_phones_masked_on_the_commission_pages(world):
    finance = member_of(FINANCE)
    client = login(finance)
    pages = commission_pages(world, finance)
    assert len(pages) == 3  # 财务 opens the settlement batches too
    for address, phones in pages:
        body = page(client, address)
        for phone in PHONES:
            assert phone not in body, (address, phone)
        for phone in phones:
            assert masked(phone) in body, (address, phone)


def test_operations_sees_them_whole(world):
    operations = member_of(OPERATIONS)
    client = login(operations)
    for address, phones in commission_pages(world, operations):
        body = page(client, address)
        for phone in phones:
            assert phone in body, (address, phone)
