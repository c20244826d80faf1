"""门店销售 and 门店会员 mask the buyer's phone (138****0001) for staff who may not see phones
(a role without `customers.view_customer_phone`, such as 财务 given these pages), as the order
and 客户 pages do: the member a sale names, the phone the till sent, and the member list and
page with the 导购 the member joined through (a guide's account is a buyer's). 运营 and a
superuser see the whole numbers; the lists cost the same queries for any number of rows."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fenxiao.customers.services.staff import FINANCE, OPERATIONS, ensure_staff_groups
from fenxiao.stores.models import MemberSource, OfflineSale, StoreMember, StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

MEMBER, WALK_IN, GUIDE = "13800000001", "13700000002", "13900000003"
MASKED = {MEMBER: "138****0001", WALK_IN: "137****0002", GUIDE: "139****0003"}
PAGES_PERMS = ["stores.view_offlinesale", "stores.view_offlinesaleline", "stores.view_storemember"]


def role(name: str, perms: list[str] | None = None):
    ensure_staff_groups()
    user = make_staff(name, perms=perms)
    user.groups.add(Group.objects.get(name=name))
    return login(user)


def sale(store, number: str, buyer=None, phone: str = "") -> OfflineSale:
    return OfflineSale.objects.create(
        store=store,
        sale_no=number,
        total=1200,
        sold_at=timezone.now(),
        buyer=buyer,
        buyer_phone=phone or (buyer.phone if buyer else ""),
    )


@pytest.fixture
def shop():
    """A member who joined through a guide and bought at the till (both without a nickname:
    named by phone), and a walk-in whose phone the till sent without an account."""
    store = make_store("湖滨店")
    member = make_buyer(MEMBER)
    guide = StoreStaff.objects.create(store=store, user=make_buyer(GUIDE), role="guide")
    StoreMember.objects.create(store=store, buyer=member, source=MemberSource.STAFF_QR, staff=guide)
    return {
        "store": store,
        "guide": guide,
        "member": StoreMember.objects.get(buyer=member),
        "bought": sale(store, "S-1", member),
        "walk_in": sale(store, "S-2", phone=WALK_IN),
    }


def pages(shop) -> dict[str, list[str]]:
    return {
        "/backend/stores/offlinesale/": [MEMBER],  # a walk-in is （非会员） there
        f"/backend/stores/offlinesale/{shop['bought'].pk}/change/": [MEMBER],
        f"/backend/stores/offlinesale/{shop['walk_in'].pk}/change/": [WALK_IN],
        "/backend/stores/storemember/": [MEMBER, GUIDE],
        f"/backend/stores/storemember/{shop['member'].pk}/change/": [MEMBER, GUIDE],
    }


def body(client, url) -> str:
    reply = client.get(url)
    assert reply.status_code == 200, url
    return reply.content.decode()


def test_finance_does_not_open_the_store_pages():
    """The ready-made 财务 role has no store pages at all; the masking below is for a role
    that has them without the phone permission."""
    finance = role(FINANCE)
    assert finance.get("/backend/stores/offlinesale/").status_code == 403
    assert finance.get("/backend/stores/storemember/").status_code == 403


def test_a_role_without_the_phone_permission_sees_masked_phones(shop):
    client = role(FINANCE, PAGES_PERMS)
    for url, phones in pages(shop).items():
        text = body(client, url)
        for phone in MASKED:
            assert phone not in text, (url, phone)
        for phone in phones:
            assert MASKED[phone] in text, (url, phone)


def test_the_member_page_shows_the_buyer_masked_in_its_fields(shop):
    client = role(FINANCE, PAGES_PERMS)
    reply = client.get(f"/backend/stores/storemember/{shop['member'].pk}/change/")
    fields = {
        field.field["name"]: str(field.contents())
        for fieldset in reply.context["adminform"]
        for line in fieldset
        for field in line
    }
    assert fields["buyer_display"] == MASKED[MEMBER]
    assert fields["staff_display"] == MASKED[GUIDE]
    assert "buyer" not in fields and "staff" not in fields


@pytest.mark.parametrize("who", [OPERATIONS, "superuser"])
def test_operations_and_a_superuser_see_whole_phones(shop, who):
    client = login(make_staff("boss", superuser=True)) if who == "superuser" else role(OPERATIONS)
    for url, phones in pages(shop).items():
        text = body(client, url)
        for phone in phones:
            assert phone in text, (url, phone)
            assert MASKED[phone] not in text, (url, phone)


def test_a_search_by_the_whole_phone_finds_the_row_masked(shop):
    client = role(FINANCE, PAGES_PERMS)
    for url in ("/backend/stores/offlinesale/", "/backend/stores/storemember/"):
        reply = client.get(url, {"q": MEMBER})
        assert reply.status_code == 200
        assert len(reply.context["cl"].result_list) == 1, url
        assert MASKED[MEMBER] in reply.content.decode(), url


@pytest.mark.parametrize("url", ["/backend/stores/offlinesale/", "/backend/stores/storemember/"])
def test_the_lists_cost_the_same_queries_for_more_rows(shop, url):
    client = role(FINANCE, PAGES_PERMS)
    client.get(url)  # warm the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    store = shop["store"]
    for n in range(12):
        buyer = make_buyer()
        guide = StoreStaff.objects.create(store=make_store(f"分店{n}"), user=make_buyer(), role="guide")
        StoreMember.objects.create(store=guide.store, buyer=buyer, source=MemberSource.STAFF_QR, staff=guide)
        sale(store, f"S-{n + 10}", buyer)
    with CaptureQueriesContext(connection) as many:
        reply = client.get(url)
    assert len(reply.context["cl"].result_list) >= 13
    assert len(many) <= len(few), [q["sql"] for q in many.captured_queries]
