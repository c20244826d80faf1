"""门店会员 and 门店销售 narrowed the way a chain asks: the members a store counts now (当前归属,
which the 门店报表's 会员数 counts, not everyone who ever scanned it), those who joined in a
date range, those a 导购 brought (searched by the guide's name or phone); the till sales of a
date range, to reconcile with the till's own report."""

from datetime import datetime

import pytest
from django.utils import timezone

from fenxiao.stores.models import MemberSource, OfflineSale, StoreMember, StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

URL = "/backend/stores/storemember/"


def moment(day: str):
    return timezone.make_aware(datetime.fromisoformat(f"{day} 12:00"))


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


@pytest.fixture
def members():
    lake, hill = make_store("湖滨店"), make_store("灵隐店")
    guide = StoreStaff.objects.create(
        store=lake, user=make_buyer("13900000009", nickname="小林"), role="guide"
    )
    names = {}
    for name, store, current, day, staff in [
        ("阿甲", lake, True, "2026-11-03", guide),
        ("阿乙", lake, False, "2026-11-20", None),  # counts for 灵隐店 now
        ("阿丙", lake, True, "2026-10-05", None),
    ]:
        buyer = make_buyer(nickname=name)
        row = StoreMember.objects.create(
            store=store, buyer=buyer, source=MemberSource.STORE_QR, staff=staff, is_current=current
        )
        StoreMember.objects.filter(pk=row.pk).update(joined_at=moment(day))
        names[name] = row
    return lake, hill, names


def shown(client, query: str) -> set[str]:
    page = client.get(URL + query)
    assert page.status_code == 200
    body = page.content.decode()
    return {name for name in ("阿甲", "阿乙", "阿丙") if name in body}


def test_members_narrow_to_those_the_store_counts_now(boss, members):
    lake = members[0]
    assert "is_current__exact=1" in boss.get(URL).content.decode()  # offered as a filter
    assert shown(boss, f"?store__id__exact={lake.pk}") == {"阿甲", "阿乙", "阿丙"}
    assert shown(boss, f"?store__id__exact={lake.pk}&is_current__exact=1") == {"阿甲", "阿丙"}


def test_members_narrow_to_a_date_range(boss, members):
    assert shown(boss, "?joined_at_from=2026-11-01&joined_at_to=2026-11-30") == {"阿甲", "阿乙"}


def test_members_a_guide_brought_are_found_by_the_guides_name_or_phone(boss, members):
    assert shown(boss, "?q=小林") == {"阿甲"}
    assert shown(boss, "?q=13900000009") == {"阿甲"}


def test_till_sales_narrow_to_a_date_range(boss):
    store = make_store("湖滨店")
    for number, day in (("S-OCT", "2026-10-31"), ("S-NOV", "2026-11-15"), ("S-DEC", "2026-12-01")):
        OfflineSale.objects.create(store=store, sale_no=number, total=100, sold_at=moment(day))
    page = boss.get("/backend/stores/offlinesale/?sold_at_from=2026-11-01&sold_at_to=2026-11-30")
    body = page.content.decode()
    assert "S-NOV" in body and "S-OCT" not in body and "S-DEC" not in body


def test_the_staff_list_counts_the_members_each_guide_brought_and_opens_them(boss, members):
    """门店员工 showed no sign of what a guide had brought; 会员数 counts the members they
    brought who count for the store now, and opens exactly those."""
    guide = StoreStaff.objects.get(user__nickname="小林")
    StoreMember.objects.create(
        store=members[1], buyer=make_buyer(nickname="阿丁"), source=MemberSource.STAFF_QR, staff=guide
    )
    page = boss.get("/backend/stores/storestaff/").content.decode()
    link = f"/backend/stores/storemember/?staff__id__exact={guide.pk}&amp;is_current__exact=1"
    assert f'href="{link}">2</a>' in page
    listed = boss.get(link.replace("&amp;", "&")).content.decode()
    assert "阿甲" in listed and "阿丁" in listed and "阿乙" not in listed and "阿丙" not in listed
    # Who may not open 门店会员 reads the number alone.
    clerk = login(make_staff("clerk", perms=["stores.view_storestaff"]))
    assert "staff__id__exact" not in clerk.get("/backend/stores/storestaff/").content.decode()


def test_the_staff_list_reads_a_fixed_number_of_queries(boss, django_assert_max_num_queries):
    for i in range(6):
        store = make_store(f"店{i}")
        staff = StoreStaff.objects.create(store=store, user=make_buyer(nickname=f"导购{i}"), role="guide")
        for _ in range(i):
            StoreMember.objects.create(
                store=store, buyer=make_buyer(), source=MemberSource.STAFF_QR, staff=staff
            )
    with django_assert_max_num_queries(12):
        page = boss.get("/backend/stores/storestaff/")
    assert page.status_code == 200 and "导购5" in page.content.decode()


def test_a_membership_is_not_deleted_from_the_backend(boss, members):
    _lake, _hill, names = members
    row = names["阿甲"]
    assert boss.post(f"{URL}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    listed = boss.get(URL).content.decode()
    assert 'value="delete_selected"' not in listed
    boss.post(URL, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"})
    assert StoreMember.objects.filter(pk=row.pk).exists()
