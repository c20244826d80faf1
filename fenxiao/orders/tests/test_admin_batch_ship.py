"""批量发货 by file and the print page of packing slips, as 运营 use them: download the
template (already listing the orders to ship), upload it filled in as Excel or CSV (UTF-8 or
the GBK Excel writes on Chinese Windows), see each bad row with its row number, column and
reason, confirm, and the ready orders ship — each on its own."""

import io
import re

import barcode
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from fenxiao.customers.services.staff import FINANCE, ensure_staff_groups
from fenxiao.orders.models import Order, OrderEvent
from fenxiao.orders.services import after_sales, batch_shipping
from fenxiao.testing import make_address, make_buyer, make_product, make_staff

from .backend import make_order, pay

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:orders_order_batch_ship")
LIST = reverse("admin:orders_order_changelist")
HEADER = ["订单号", "物流公司", "运单号"]


def xlsx(rows, header=HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8", header=HEADER) -> bytes:
    text = "\r\n".join(",".join(str(v) for v in row) for row in [header, *rows]) + "\r\n"
    return text.encode(encoding)


def upload(client, name, data):
    return client.post(PAGE, {"file": SimpleUploadedFile(name, data), "_preview": "1"})


def payload_of(body: str) -> str:
    return re.search(r'name="payload" value="([^"]+)"', body).group(1)


def confirm(client, body: str):
    return client.post(PAGE, {"payload": payload_of(body), "_ship": "1"})


def error_rows(body: str) -> list[tuple[str, str, str]]:
    """(row, column, message) of each line of the 有问题的行 table."""
    table = body.split('id="batch-ship-errors"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<tr data-row[^>]*>(.*?)</tr>", table, re.S)
    rows = []
    for cell in cells:
        values = [re.sub(r"<[^>]+>", "", v).strip() for v in re.findall(r"<td[^>]*>(.*?)</td>", cell, re.S)]
        rows.append((values[0], values[2], values[3]))
    return rows


@pytest.fixture
def orders():
    ready = [pay(make_order()) for _ in range(3)]
    unpaid = make_order()
    group = pay(make_order())
    Order.objects.filter(pk=group.pk).update(awaiting_group=True)  # as a group-buy order not yet full
    disputed = pay(make_order())
    after_sales.request_after_sale(
        disputed,
        disputed.buyer,
        kind="refund_only",
        reason="不想要了",
        lines=[{"line_id": disputed.lines.get().pk}],
    )
    return {"ready": ready, "unpaid": unpaid, "group": group, "disputed": disputed}


def status(order) -> str:
    order.refresh_from_db()
    return order.status


def test_a_good_excel_file_previews_then_ships_every_order(boss, orders):
    a, b, c = orders["ready"]
    data = xlsx(
        [
            [a.number, "顺丰", "SF1234567890"],
            [b.number, "zto", 778899001122],
            [c.number, "韵达快递", "YD-0001"],
        ]
    )
    preview = upload(boss, "发货.xlsx", data)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "可发货 3 单" in body and "确认发货 3 单" in body and "逐单发货" in body
    assert "顺丰速运" in body and "中通快递" in body and "778899001122" in body
    assert status(a) == "pending_shipment"  # the preview writes nothing

    done = confirm(boss, body)
    assert done.status_code == 200
    assert "已发货 3 单" in done.content.decode()
    for order, carrier, tracking in (
        (a, "shunfeng", "SF1234567890"),
        (b, "zhongtong", "778899001122"),
        (c, "yunda", "YD-0001"),
    ):
        order.refresh_from_db()
        assert (order.status, order.carrier, order.tracking_number) == ("shipped", carrier, tracking)
        assert OrderEvent.objects.filter(order=order, kind="shipped").count() == 1

    # The same confirmation again ships nothing twice and says why.
    again = confirm(boss, body).content.decode()
    assert "未发货 3 单" in again and "不是待发货" in again
    assert OrderEvent.objects.filter(order=a, kind="shipped").count() == 1


def test_each_bad_row_is_reported_with_row_column_and_reason(boss, orders):
    a, b, c = orders["ready"]
    data = xlsx(
        [
            [a.number, "顺丰", "SF1234567890"],  # row 2: fine
            ["20990101000000123456", "中通", "ZT1234567"],  # 3: unknown order
            [orders["unpaid"].number, "中通", "ZT1234568"],  # 4: not paid
            [orders["group"].number, "中通", "ZT1234569"],  # 5: group not full
            [a.number, "圆通", "YT1234567"],  # 6: same order again
            [b.number, "火星快递", "HX1234567"],  # 7: unknown carrier
            [c.number, "顺丰", None],  # 8: no tracking number
            [orders["disputed"].number, "顺丰", "SF 12#"],  # 9: after-sale open, bad tracking
            [None, None, None],  # blank rows are skipped
            [2.0261201123456789e19, "顺丰", "SF1234599"],  # 11: an order number Excel rounded
        ]
    )
    body = upload(boss, "发货.xlsx", data).content.decode()
    assert error_rows(body) == [
        ("第 3 行", "订单号", "订单不存在"),
        ("第 4 行", "订单号", "订单状态为“待付款”，不是待发货"),
        ("第 5 行", "订单号", "拼团尚未成功，订单暂不能发货"),
        ("第 6 行", "订单号", "订单号在文件中重复（与第2行相同）"),
        ("第 7 行", "物流公司", error_rows(body)[4][2]),
        ("第 8 行", "运单号", "请填写运单号"),
        ("第 9 行", "订单号", "订单有处理中的售后申请，请先处理售后"),
        ("第 9 行", "运单号", "运单号格式有误：应为 6-40 位字母、数字或短横线"),
        ("第 11 行", "订单号", error_rows(body)[8][2]),
    ]
    assert error_rows(body)[4][2].startswith("无法识别的物流公司“火星快递”")
    assert "科学计数法" in error_rows(body)[8][2]
    assert "可发货 1 单" in body and "有问题 8 行（不会发货）" in body

    done = confirm(boss, body).content.decode()
    assert "已发货 1 单" in done
    assert status(a) == "shipped"
    assert [status(o) for o in (b, c, orders["unpaid"], orders["group"], orders["disputed"])] == [
        "pending_shipment",
        "pending_shipment",
        "pending_payment",
        "pending_shipment",
        "pending_shipment",
    ]


def test_a_row_refused_at_confirmation_leaves_the_others_shipped(boss, orders):
    a, b, _ = orders["ready"]
    body = upload(
        boss, "f.csv", csv_bytes([[a.number, "顺丰", "SF1000000001"], [b.number, "顺丰", "SF1000000002"]])
    )
    body = body.content.decode()
    # Between preview and confirmation the buyer of `b` asks for a refund.
    after_sales.request_after_sale(
        b, b.buyer, kind="refund_only", reason="拍错了", lines=[{"line_id": b.lines.get().pk}]
    )
    done = confirm(boss, body).content.decode()
    assert "已发货 1 单" in done and "未发货 1 单" in done and "售后" in done
    assert (status(a), status(b)) == ("shipped", "pending_shipment")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_files_in_every_encoding_excel_writes(boss, orders, encoding):
    a = orders["ready"][0]
    data = csv_bytes([[a.number, "中通快递", "ZT9988776655"]], encoding=encoding)
    body = upload(boss, "发货.csv", data).content.decode()
    assert "可发货 1 单" in body and "中通快递" in body
    confirm(boss, body)
    a.refresh_from_db()
    assert (a.status, a.carrier, a.tracking_number) == ("shipped", "zhongtong", "ZT9988776655")


def test_the_header_may_be_written_in_english(boss, orders):
    a = orders["ready"][0]
    data = csv_bytes(
        [[a.number, "中通快递", "ZT9988776655"]], header=["Order number", "CARRIER", "Tracking number"]
    )
    body = upload(boss, "ship.csv", data).content.decode()
    assert "可发货 1 单" in body


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("发货.txt", b"abc", "只支持 CSV 或 Excel（.xlsx）文件"),
        ("发货.xlsx", b"not a zip", "无法读取 Excel 文件"),
        ("发货.csv", "单号,公司\r\n1,2\r\n".encode(), "缺少列：订单号、物流公司、运单号"),
        ("发货.csv", csv_bytes([]), "文件中只有表头"),
        ("发货.csv", b"\r\n\r\n", "文件中没有内容"),
        ("发货.csv", b"x" * (batch_shipping.MAX_FILE_BYTES + 1), "文件不能超过 2MB"),
        ("发货.csv", b"\xff\xfe\xff", "无法识别文件编码，请另存为 UTF-8 编码的 CSV"),
        ("发货.csv", '"{}"'.format("x" * 200_000).encode(), "CSV 文件格式有误，请用模板重新填写"),
    ],
)
def test_bad_files_are_refused_with_the_reason(boss, orders, name, data, message):
    reply = upload(boss, name, data)
    assert reply.status_code == 200
    assert message in reply.content.decode()
    assert 'id="batch-ship-ready"' not in reply.content.decode()


def test_too_many_rows_are_refused(boss, orders, monkeypatch):
    monkeypatch.setattr(batch_shipping, "MAX_ROWS", 2)
    rows = [[o.number, "顺丰", f"SF12345678{i}"] for i, o in enumerate(orders["ready"])]
    assert "一次最多发货 2 单" in upload(boss, "f.xlsx", xlsx(rows)).content.decode()


def test_blank_formatted_rows_do_not_count_as_orders(boss, orders, monkeypatch):
    # A sheet keeps rows that were only formatted; they are not orders, so they neither
    # count against the limit nor end the reading before the rows after them.
    monkeypatch.setattr(batch_shipping, "MAX_ROWS", 2)
    a, b, _c = orders["ready"]
    rows = [[a.number, "顺丰", "SF1234567801"], *[[" ", None, " "]] * 20, [b.number, "顺丰", "SF1234567802"]]
    body = upload(boss, "f.xlsx", xlsx(rows)).content.decode()
    assert "可发货 2 单" in body


def test_a_forged_or_missing_preview_ships_nothing(boss, orders):
    reply = boss.post(PAGE, {"payload": "forged", "_ship": "1"}, follow=True)
    assert reply.status_code == 200 and "预览已过期或无效" in reply.content.decode()
    assert all(status(o) == "pending_shipment" for o in orders["ready"])
    assert "请选择要上传的发货文件" in boss.post(PAGE, {"_preview": "1"}).content.decode()


def test_the_template_lists_the_orders_waiting_to_ship(boss, orders):
    from openpyxl import load_workbook

    reply = boss.get(reverse("admin:orders_order_batch_ship_template", args=["xlsx"]))
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:3]) == HEADER
    listed = {r[0] for r in rows[1:]}
    assert listed == {o.number for o in orders["ready"]}  # not unpaid, group or disputed ones
    assert rows[1][3] == "张三" and "文三路" in rows[1][5]

    reply = boss.get(reverse("admin:orders_order_batch_ship_template", args=["csv"]))
    text = reply.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("订单号,物流公司,运单号")
    assert orders["ready"][0].number in text
    assert boss.get(reverse("admin:orders_order_batch_ship_template", args=["pdf"])).status_code == 404


def test_the_page_and_its_button_are_for_staff_who_ship(boss, orders):
    page = boss.get(PAGE).content.decode()
    assert "下载 Excel 模板" in page and "逐单发货" in page and "上传并核对" in page
    assert PAGE in boss.get(LIST).content.decode()  # the 批量发货 button on the order list
    ensure_staff_groups()
    finance = make_staff("finance")
    finance.groups.add(Group.objects.get(name=FINANCE))
    client = Client()
    client.force_login(finance)
    assert client.get(PAGE).status_code == 403
    assert client.get(reverse("admin:orders_order_batch_ship_template", args=["csv"])).status_code == 403


# --- packing slips -------------------------------------------------------------------------


def test_the_packing_list_prints_each_order_and_the_picking_totals(boss):
    tee = make_product("纯棉T恤", specs_list=[{"颜色": "白色", "尺码": "M"}], price=5900)
    cup = make_product("马克杯", price=3900)
    buyer = make_buyer()
    address = make_address(buyer, recipient="王五", phone="13711112222", detail="南京路 1 号")
    from fenxiao.orders.services.checkout import place_order

    first = pay(
        place_order(
            buyer, [(tee.skus.get().pk, 2), (cup.skus.get().pk, 1)], address_id=address.pk, note="请用纸箱"
        )
    )
    second = pay(place_order(buyer, [(tee.skus.get().pk, 1)], address_id=address.pk))
    reply = boss.post(
        LIST, {"action": "print_packing_list", "_selected_action": [first.pk, second.pk]}, follow=False
    )
    assert reply.status_code == 302
    page = boss.get(reply["Location"])
    body = page.content.decode()
    assert page.status_code == 200
    assert "拣货单" in body and body.count('class="sheet packing-slip"') == 2
    assert first.number in body and second.number in body
    assert "王五" in body and "13711112222" in body and "南京路 1 号" in body
    assert "请用纸箱" in body and "@media print" in body
    assert tee.skus.get().code in body and "白色" in body
    summary = body.split('id="picking-summary"', 1)[1].split("</section>", 1)[0]
    tee_row = re.search(rf"<td>{tee.skus.get().code}</td>.*?</tr>", summary, re.S).group(0)
    assert '<td class="qty">3</td>' in tee_row  # 2 + 1 over the two orders
    assert "合计 4 件" in summary
    # Each slip carries its order number as a Code 128 barcode; a scanner types the number
    # into the order list's search, which finds the order.
    for order in (first, second):
        slip = body.split(f'data-order="{order.number}"', 1)[1].split("</section>", 1)[0]
        svg = slip.split('<div class="barcode">', 1)[1].split("</svg>", 1)[0]
        assert f'aria-label="条码 {order.number}"' in svg
        assert bars(svg) == barcode.get("code128", order.number).build()[0]
        found = boss.get(LIST, {"q": order.number}).content.decode()
        assert order.number in found and (second if order == first else first).number not in found


def bars(svg: str) -> str:
    """The module pattern an SVG's black bars draw (0.3 mm modules after a 3 mm quiet zone)."""
    modules: list[str] = []
    for x, width in re.findall(r'x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"[^>]*fill:black', svg):
        start, count = round((float(x) - 3) / 0.3), round(float(width) / 0.3)
        modules += ["0"] * (start - len(modules)) + ["1"] * count
    return "".join(modules)


def test_the_order_page_has_a_print_button_and_the_page_has_a_fixed_query_count(
    boss, django_assert_max_num_queries
):
    order = pay(make_order(prices=(1000, 2000)))
    change = reverse("admin:orders_order_change", args=[order.pk])
    button = f"{LIST}{order.pk}/packing/"
    assert button in boss.get(change).content.decode()
    target = boss.get(button)["Location"]
    assert order.number in boss.get(target).content.decode()

    few = [pay(make_order(prices=(1000, 2000))) for _ in range(2)]
    url = f"{reverse('admin:orders_order_packing_list')}?ids={','.join(str(o.pk) for o in few)}"
    boss.get(url)
    with django_assert_max_num_queries(8) as small:
        boss.get(url)
    # Read now: the capture is a view on the connection's log, which the next request clears.
    budget = len(small.captured_queries)
    many = few + [pay(make_order(prices=(1000, 2000, 3000))) for _ in range(6)]
    url = f"{reverse('admin:orders_order_packing_list')}?ids={','.join(str(o.pk) for o in many)},abc,999999"
    assert budget > 2
    with django_assert_max_num_queries(budget):
        body = boss.get(url).content.decode()
    assert body.count('class="sheet packing-slip"') == 8 and "1 单不存在" in body


def test_the_preview_reads_the_orders_in_a_fixed_number_of_queries(boss, django_assert_max_num_queries):
    ready = [pay(make_order()) for _ in range(12)]

    def rows(orders):
        return xlsx([[o.number, "顺丰", f"SF{9000000 + i}"] for i, o in enumerate(orders)])

    upload(boss, "f.xlsx", rows(ready[:2]))
    with django_assert_max_num_queries(12) as few:
        assert "可发货 2 单" in upload(boss, "f.xlsx", rows(ready[:2])).content.decode()
    budget = len(few.captured_queries)  # read now: the next request clears the log
    with django_assert_max_num_queries(budget):
        assert "可发货 12 单" in upload(boss, "f.xlsx", rows(ready)).content.decode()
