"""门店库存表: a store's stock page downloads every sellable SKU with the store's level as
Excel or CSV, and takes the file back to set many levels at once (a stocktake across a
chain's range, or stocking a new store). An empty cell changes nothing; a wrong row refuses
the whole file and names the row. Downloading takes the page's view rights, uploading its
change rights."""

import io

import pytest
from openpyxl import load_workbook

from fenxiao.stores.models import StoreStock
from fenxiao.stores.testing import make_store, store_stock
from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db

VIEW_BOTH = ["stores.view_store", "stores.view_storestock"]


@pytest.fixture
def shop():
    tea = make_product("龙井", stock=30).skus.get()
    cup = make_product("茶杯", stock=5).skus.get()
    pot = make_product("茶壶", stock=2).skus.get()
    store = make_store("湖滨店", stock={tea.pk: 4})
    return {"store": store, "tea": tea, "cup": cup, "pot": pot}


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


def upload(client, store, text: str, name="门店库存.csv"):
    sheet = io.BytesIO(text.encode())
    sheet.name = name
    return client.post(f"/backend/stores/store/{store.pk}/stock/import/", {"sheet": sheet}, follow=True)


def test_the_sheet_lists_every_sellable_sku_with_the_stores_level(shop, boss):
    store, tea, cup = shop["store"], shop["tea"], shop["cup"]
    reply = boss.get(f"/backend/stores/store/{store.pk}/stock/sheet/")
    assert reply.status_code == 200
    rows = list(load_workbook(io.BytesIO(reply.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0] == ("SKU 编码", "商品", "规格", "线上库存", "门店库存")
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code[tea.code][1] == "龙井" and by_code[tea.code][3:] == (30, 4)
    assert by_code[cup.code][3:] == (5, None)  # 未铺货 is an empty cell
    csv = boss.get(f"/backend/stores/store/{store.pk}/stock/sheet/?format=csv").content.decode("utf-8-sig")
    assert f"{tea.code},龙井,,30,4" in csv.splitlines()


def test_the_stock_page_offers_the_sheet(shop, boss):
    page = boss.get(f"/backend/stores/store/{shop['store'].pk}/stock/").content.decode()
    assert f"/backend/stores/store/{shop['store'].pk}/stock/sheet/" in page
    assert f"/backend/stores/store/{shop['store'].pk}/stock/import/" in page


def test_an_uploaded_sheet_sets_the_levels_it_gives(shop, boss):
    store, tea, cup, pot = shop["store"], shop["tea"], shop["cup"], shop["pot"]
    reply = upload(
        boss, store, f"SKU 编码,商品,门店库存\n{tea.code},龙井,4\n{cup.code},茶杯,12\n{pot.code},茶壶,\n"
    )
    assert "门店库存表已导入：更新 1 个规格，1 个规格与原库存相同" in reply.content.decode()
    assert (store_stock(store, tea), store_stock(store, cup)) == (4, 12)
    assert not StoreStock.objects.filter(store=store, sku=pot).exists()  # left empty: not stocked


def test_an_excel_sheet_downloaded_and_filled_in_comes_back(shop, boss):
    store, cup = shop["store"], shop["cup"]
    book = load_workbook(io.BytesIO(boss.get(f"/backend/stores/store/{store.pk}/stock/sheet/").content))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == cup.code:
            row[4].value = 7
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "filled.xlsx"
    boss.post(f"/backend/stores/store/{store.pk}/stock/import/", {"sheet": out})
    assert store_stock(store, cup) == 7


def test_a_wrong_row_refuses_the_whole_sheet_naming_it(shop, boss):
    store, tea, cup = shop["store"], shop["tea"], shop["cup"]
    reply = upload(boss, store, f"SKU 编码,门店库存\n{cup.code},9\n{tea.code},-3\nNOPE,2\n{cup.code},1\n")
    page = reply.content.decode()
    assert "门店库存表未导入" in page
    assert "第 3 行 门店库存须为 0~10,000,000 的整数（现为 -3）" in page
    assert "第 4 行 SKU 编码 NOPE 不存在或已下架" in page
    assert f"第 5 行 SKU 编码 {cup.code} 与第 2 行重复" in page
    assert store_stock(store, tea) == 4 and not StoreStock.objects.filter(store=store, sku=cup).exists()


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("stock.txt", "x", "只支持 .xlsx 或 .csv 文件"),
        ("stock.xlsx", "not a workbook", "Excel 文件无法打开"),
        ("stock.csv", "编码,数量\nA,1\n", "表头须有“SKU 编码”和“门店库存”两列"),
        ("stock.csv", "SKU 编码,门店库存\n", "门店库存表中没有填写任何门店库存"),
    ],
)
def test_a_file_that_is_no_stock_sheet_is_refused_with_a_reason(shop, boss, name, data, says):
    reply = upload(boss, shop["store"], data, name)
    assert reply.status_code == 200 and says in reply.content.decode()


def test_viewing_staff_download_the_sheet_but_may_not_upload_it(shop):
    store, tea = shop["store"], shop["tea"]
    client = login(make_staff(perms=VIEW_BOTH))
    assert client.get(f"/backend/stores/store/{store.pk}/stock/sheet/").status_code == 200
    assert "/stock/import/" not in client.get(f"/backend/stores/store/{store.pk}/stock/").content.decode()
    assert upload(client, store, f"SKU 编码,门店库存\n{tea.code},9\n").status_code == 403
    assert store_stock(store, tea) == 4
    assert (
        login(make_staff("nobody")).get(f"/backend/stores/store/{store.pk}/stock/sheet/").status_code == 403
    )


def test_a_long_sheet_is_written_a_batch_at_a_time(shop, boss, monkeypatch):
    """Each batch is its own short write: a whole range in one statement held checkouts'
    rows for its whole length (and its CASE grew with the square of the rows)."""
    from fenxiao.stores.services import stock, stock_sheet

    batches, write = [], stock.set_stock_if_unchanged

    def spy(store_id, levels, shown):
        batches.append(len(levels))
        return write(store_id, levels, shown)

    monkeypatch.setattr(stock_sheet, "WRITE_BATCH", 2)
    monkeypatch.setattr(stock, "set_stock_if_unchanged", spy)
    store, tea, cup, pot = shop["store"], shop["tea"], shop["cup"], shop["pot"]
    reply = upload(boss, store, f"SKU 编码,门店库存\n{tea.code},1\n{cup.code},2\n{pot.code},3\n")
    assert "更新 3 个规格" in reply.content.decode()
    assert batches == [2, 1]
    assert [store_stock(store, sku) for sku in (tea, cup, pot)] == [1, 2, 3]
