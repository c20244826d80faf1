"""门店员工, 门店会员 and 门店销售 export as their lists show them (filtered by store, searched), CSV or
Excel: a store's members with the 导购 they joined through, and the tills' sales with what was
refunded, the staff with their 导购码 and the members they brought; phones masked for staff who
may not see them, as on the pages, and the files read in a fixed number of queries whatever
their size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.stores.models import MemberSource, OfflineSale, OfflineSaleLine, Store, StoreMember, StoreStaff
from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_buyer, make_product, make_staff

from .test_admin_phone_masking_pos import PAGES_PERMS

pytestmark = pytest.mark.django_db

MEMBERS = reverse("admin:stores_storemember_export", args=["csv"])
SALES = reverse("admin:stores_offlinesale_export", args=["csv"])
STORES = reverse("admin:stores_store_export", args=["csv"])
STAFF = reverse("admin:stores_storestaff_export", args=["csv"])


def csv_lines(reply) -> list[str]:
    assert reply.status_code == 200, reply.status_code
    return reply.content.decode("utf-8-sig").strip().splitlines()


def member_of(store, phone, guide=None, nickname=""):
    buyer = make_buyer(phone, nickname=nickname)
    source = MemberSource.STAFF_QR if guide else MemberSource.STORE_QR
    return StoreMember.objects.create(store=store, buyer=buyer, source=source, staff=guide)


def till_sale(store, number, buyer=None, *, total=1200, refunded=0, pieces=(1,)):
    sale = OfflineSale.objects.create(
        store=store,
        sale_no=number,
        total=total,
        refunded_amount=refunded,
        sold_at=timezone.now(),
        buyer=buyer,
        buyer_phone=buyer.phone if buyer else "",
    )
    for n, quantity in enumerate(pieces):
        OfflineSaleLine.objects.create(
            sale=sale, sku_code=f"C{n}", quantity=quantity, amount=total // len(pieces)
        )
    return sale


@pytest.fixture
def chain():
    lake, river = make_store("湖滨店"), make_store("滨江店")
    guide = StoreStaff.objects.create(
        store=lake, user=make_buyer("13900000003", nickname="小林"), role="guide"
    )
    member_of(lake, "13800000001", guide, nickname="=阿梅")
    member_of(river, "13800000002")
    till_sale(
        lake, "S-1", StoreMember.objects.get(store=lake).buyer, total=5000, refunded=1234, pieces=(2, 1)
    )
    till_sale(river, "S-2", total=800)
    return {"lake": lake, "river": river}


def test_the_member_list_exports_a_stores_members_with_their_guide(chain):
    boss = login(make_staff("boss", superuser=True))
    page = boss.get("/backend/stores/storemember/").content.decode()
    assert 'id="list-export"' in page
    lines = csv_lines(boss.get(MEMBERS, {"store__id__exact": chain["lake"].pk}))
    assert lines[0] == "门店,会员ID,会员昵称,手机号,入会方式,导购,加入时间,当前所属门店"
    assert len(lines) == 2
    # A nickname that reads as a formula is written as text.
    assert lines[1].startswith("湖滨店,") and ",'=阿梅,13800000001,导购码,小林," in lines[1]
    assert lines[1].endswith(",是")
    xlsx = boss.get(reverse("admin:stores_storemember_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_the_sales_list_exports_what_the_tills_reported_in_yuan(chain):
    boss = login(make_staff("boss", superuser=True))
    lines = csv_lines(boss.get(SALES))
    assert (
        lines[0]
        == "门店,收银单号,会员,会员手机号,金额（元）,已退款（元）,实收（元）,商品件数,销售时间,接收时间"
    )
    rows = {line.split(",")[1]: line for line in lines[1:]}
    assert set(rows) == {"S-1", "S-2"}
    assert rows["S-1"].startswith("湖滨店,S-1,'=阿梅,13800000001,50.00,12.34,37.66,3,")
    assert rows["S-2"].startswith("滨江店,S-2,,,8.00,0.00,8.00,1,")
    only_lake = csv_lines(boss.get(SALES, {"store__id__exact": chain["lake"].pk}))
    assert len(only_lake) == 2 and ",S-1," in only_lake[1]


def test_the_files_mask_phones_for_staff_who_may_not_see_them(chain):
    clerk = login(make_staff("clerk", perms=PAGES_PERMS))
    members = "\n".join(csv_lines(clerk.get(MEMBERS)))
    sales = "\n".join(csv_lines(clerk.get(SALES)))
    for text in (members, sales):
        assert "13800000001" not in text and "138****0001" in text
    assert "138****0002" in members


def test_the_files_cost_the_same_queries_for_any_number_of_rows(chain):
    boss = login(make_staff("boss", superuser=True))

    def cost(url):
        with CaptureQueriesContext(connection) as queries:
            csv_lines(boss.get(url))
        return len(queries)

    before = (cost(MEMBERS), cost(SALES), cost(STORES), cost(STAFF))
    guide = StoreStaff.objects.get()
    for n in range(8):
        member = member_of(chain["lake"], f"1350000{n:04d}", guide)
        till_sale(chain["lake"], f"S-{n + 10}", member.buyer, pieces=(1, 2))
        store = make_store(f"新店{n}", manager=make_buyer(f"1360000{n:04d}"))
        StoreStaff.objects.create(store=store, user=make_buyer(f"1370000{n:04d}"), role="guide")
    assert StoreStaff.objects.count() == 9
    assert (cost(MEMBERS), cost(SALES), cost(STORES), cost(STAFF)) == before


def test_the_stock_list_exports_every_stores_levels_as_filtered():
    cup = make_product("茶杯", stock=9).skus.get()
    lake = make_store("湖滨店", stock={cup.pk: 3})
    make_store("灵隐店", stock={cup.pk: 0})
    boss = login(make_staff("boss", superuser=True))
    url = reverse("admin:stores_storestock_export", args=["csv"])
    lines = csv_lines(boss.get(url))
    assert lines[0] == "门店,SKU 编码,商品,规格,门店库存,线上库存,更新时间"
    assert {line.split(",")[0] for line in lines[1:]} == {"湖滨店", "灵隐店"}
    only_lake = csv_lines(boss.get(f"{url}?store__id__exact={lake.pk}"))
    assert len(only_lake) == 2 and only_lake[1].startswith(f"湖滨店,{cup.code},茶杯,,3,9,")


def test_the_store_list_exports_each_stores_place_people_and_members(chain):
    lake, river = chain["lake"], chain["river"]
    Store.objects.filter(pk=river.pk).update(is_open=False, pickup_enabled=False)
    StoreStaff.objects.create(store=river, user=make_buyer("13900000004"), role="guide", is_active=False)
    boss = login(make_staff("boss", superuser=True))

    lines = csv_lines(boss.get(STORES))

    assert lines[0].split(",") == [
        "门店", "门店码", "省", "市", "区/县", "详细地址", "营业时间", "联系电话", "店长",
        "营业中", "支持到店自提", "在职员工", "当前会员",
    ]  # fmt: skip
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert set(rows) == {"湖滨店", "滨江店"}
    assert rows["湖滨店"][1] == lake.code and rows["湖滨店"][2:4] == ["浙江省", "杭州市"]
    assert rows["湖滨店"][9:] == ["是", "是", "1", "1"]
    assert rows["滨江店"][9:] == ["否", "否", "0", "1"]  # who left is not counted

    filtered = csv_lines(boss.get(STORES, {"q": "滨江"}))
    assert [line.split(",")[0] for line in filtered[1:]] == ["滨江店"]


def test_the_staff_list_exports_each_person_with_the_members_they_brought(chain):
    lake, river = chain["lake"], chain["river"]
    guide = StoreStaff.objects.get()
    member_of(lake, "13800000005", guide)
    # A member who moved to another store no longer counts for this one, as on the list.
    moved = member_of(lake, "13800000006", guide)
    StoreMember.objects.filter(pk=moved.pk).update(is_current=False)
    StoreStaff.objects.create(store=river, user=make_buyer("13900000004"), role="manager", is_active=False)
    boss = login(make_staff("boss", superuser=True))
    page = boss.get("/backend/stores/storestaff/").content.decode()
    assert 'id="list-export"' in page

    lines = csv_lines(boss.get(STAFF))

    assert lines[0] == "门店,姓名/昵称,手机号,角色/职务,导购码,在职,加入时间,会员数"
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert set(rows) == {"湖滨店", "滨江店"}
    assert rows["湖滨店"][:6] == ["湖滨店", "小林", "13900000003", "导购", guide.code, "是"]
    assert rows["湖滨店"][6][:4] == str(timezone.localdate().year) and rows["湖滨店"][7] == "2"
    assert rows["滨江店"][1:4] == ["", "13900000004", "店长"]
    assert rows["滨江店"][5] == "否" and rows["滨江店"][7] == "0"
    # The file is the list as filtered or searched.
    for query in ({"store__id__exact": river.pk}, {"is_active__exact": 0}, {"q": "13900000004"}):
        only = csv_lines(boss.get(STAFF, query))
        assert [line.split(",")[0] for line in only[1:]] == ["滨江店"], query
    xlsx = boss.get(reverse("admin:stores_storestaff_export", args=["xlsx"]))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_the_staff_file_masks_phones_as_the_list_and_needs_the_lists_permission(chain):
    office = make_staff("office")
    office.phone = "13700000009"
    office.save(update_fields=["phone"])
    StoreStaff.objects.create(store=chain["river"], user=office, role="manager")
    clerk = login(make_staff("clerk", perms=["stores.view_storestaff"]))
    reply = clerk.get("/backend/stores/storestaff/")
    actions = {name for name, _label in reply.context["action_form"].fields["action"].choices}
    assert {"export_selected_csv", "export_selected_xlsx"} <= actions
    page = reply.content.decode()
    text = "\n".join(csv_lines(clerk.get(STAFF)))
    for shown in (page, text):
        # A guide's account is a buyer's; a backend account's phone is shown whole.
        assert "13900000003" not in shown and "139****0003" in shown
        assert "13700000009" in shown
    outsider = login(make_staff("outsider", perms=["stores.view_store", "stores.view_storemember"]))
    assert outsider.get(STAFF).status_code == 403
    assert outsider.get(reverse("admin:stores_storestaff_export", args=["xlsx"])).status_code == 403
