"""The product spreadsheet: one row per SKU, in this column order. THE single definition of
the format, read by the import (`product_import.py`), the downloadable template and the
product export (write rows with `export_row`, so an exported file imports unchanged).

Rules a merchant reads in the template's 填写说明 sheet (`NOTES`):

- One row per SKU. Rows with the same 商品名称 are one product (the first row's
  product-level cells count; later rows may repeat them or leave them empty, but may not
  contradict them). A row whose SKU编码 already exists updates that SKU and its product.
- SKU编码 is the key: required, unique in the file; re-importing a file updates, never
  duplicates. SKUs of a product that the file does not name are left as they are.
- Specs: up to MAX_SPECS pairs 规格1名/规格1值 … (e.g. 颜色 / 白色, 尺码 / M). Every SKU of
  one product uses the same spec names in the same order; a product with one SKU may leave
  them empty.
- Money in yuan with at most two decimals ("59", "59.9", "59.90"); stored as integer fen.
- Product-level optional cells (卖点, 上架, 图片, 详情) left empty keep what an existing
  product has (new products: empty / not listed / no pictures). SKU cells are always what
  the row says (划线价 empty or 0 = none, 重量 empty = 0, SKU可售 empty = 是).
- 运费模板: the name of a fee template (运费模板), or 默认运费 for the shop's flat fee
  (订单设置); empty keeps what an existing product has (new products: 默认运费).
- 图片: several separated by |. Each is an http(s) URL (downloaded through the safe
  fetcher) or a file name inside the uploaded .zip. A URL of a picture the product already
  has (as an export writes it) keeps that picture without downloading it again. The list
  replaces the product's pictures, in that order (the first is the cover).
- 规格图 (a SKU cell): one of the product's 图片, written as it is there; with 图片 left
  empty on an existing product, the URL of one of its pictures (as an export writes it).
  Empty: the SKU shows the cover. A file without the column leaves every 规格图 as it is.
"""

import re
from dataclasses import dataclass

from fenxiao.core.money import fen_to_yuan

MAX_SPECS = 3
MAX_IMAGES = 15
# What separates the levels of a 分类 path in a file ("服饰/女装/T恤", also ／ and >).
CATEGORY_PATH_SEPARATORS = re.compile(r"[/／>]")
IMAGE_SEPARATOR = "|"
YES, NO = "是", "否"
DEFAULT_SHIPPING = "默认运费"


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    product_level: bool = False
    note: str = ""
    example: str = ""
    width: int = 14


def _spec_columns() -> list[Column]:
    columns = []
    for i in range(1, MAX_SPECS + 1):
        columns += [
            Column(
                f"spec{i}_name",
                f"规格{i}名",
                note=f"第{i}个规格的名称，如 颜色、尺码",
                example="颜色" if i == 1 else "",
            ),
            Column(
                f"spec{i}_value",
                f"规格{i}值",
                note=f"第{i}个规格的值，如 白色、M",
                example="白色" if i == 1 else "",
            ),
        ]
    return columns


COLUMNS: list[Column] = [
    Column(
        "name",
        "商品名称",
        required=True,
        product_level=True,
        note="最多80字；同名的行属于同一个商品",
        example="纯棉圆领T恤",
        width=24,
    ),
    Column("subtitle", "卖点", product_level=True, note="最多120字", example="透气亲肤，不易变形", width=24),
    Column(
        "category",
        "分类",
        required=True,
        product_level=True,
        note="分类路径，用 / 分隔，如 服饰/女装/T恤；末级分类名唯一时也可只写末级名；分类需先在后台创建",
        example="服饰/女装/T恤",
        width=20,
    ),
    *_spec_columns(),
    Column(
        "code",
        "SKU编码",
        required=True,
        note="必填，文件内不能重复，最多40字；已存在的编码会更新该SKU",
        example="TS-WHITE-M",
        width=18,
    ),
    Column("price", "售价(元)", required=True, note="大于0，最多两位小数，如 59.90", example="59.90"),
    Column("list_price", "划线价(元)", note="不低于售价；留空或0表示不显示划线价", example="89.00"),
    Column("stock", "库存", required=True, note="不小于0的整数；导入后的库存数", example="100"),
    Column("weight", "重量(克)", note="整数，留空为0", example="200"),
    Column(
        "listed", "上架", product_level=True, note="是 或 否；新商品留空为否，已有商品留空不修改", example=YES
    ),
    Column("active", "SKU可售", note="是 或 否，留空为是", example=YES),
    Column(
        "shipping_template",
        "运费模板",
        product_level=True,
        note=(
            f"后台“运费模板”中的模板名称，或填 {DEFAULT_SHIPPING} 使用订单设置中的运费；"
            f"留空：新商品为{DEFAULT_SHIPPING}，已有商品不修改"
        ),
        example="",
        width=16,
    ),
    Column(
        "images",
        "图片",
        product_level=True,
        note=(
            f"多张用 {IMAGE_SEPARATOR} 分隔，第一张为封面，最多{MAX_IMAGES}张；"
            "填 http(s) 图片链接，或同时上传的 zip 压缩包中的文件名；留空不修改已有商品的图片"
        ),
        example="https://example.com/tshirt-white.jpg",
        width=40,
    ),
    Column(
        "sku_image",
        "规格图",
        note="买家选中这个规格时看到的图片：填本商品“图片”中的一张，写法与图片列相同；留空则显示封面",
        example="https://example.com/tshirt-white.jpg",
        width=40,
    ),
    Column(
        "description",
        "详情",
        product_level=True,
        note="商品详情 HTML，会清除不安全的标签和脚本；留空不修改已有商品的详情",
        example="<p>100%纯棉</p>",
        width=40,
    ),
]
HEADERS = [c.header for c in COLUMNS]
BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED = [c for c in COLUMNS if c.required]
PRODUCT_LEVEL = [c.key for c in COLUMNS if c.product_level]

NOTES = [
    "每行一个 SKU（规格）；商品名称相同的行属于同一个商品，商品级的列（卖点、"
    "分类、上架、图片、详情）只需在第一行填写，其余行可重复填写相同内容或留空。",
    "SKU编码是唯一标识：必填、文件内不能重复。再次导入同一文件会更新已有的商品和SKU，"
    "不会重复创建；文件中没有的SKU保持不变。",
    f"规格：最多 {MAX_SPECS} 组“规格名 + 规格值”，如 规格1名=颜色、规格1值=白色、"
    "规格2名=尺码、规格2值=M。同一商品的各个SKU规格名称和顺序要一致；只有一个SKU的商品可以不填规格。",
    f"运费模板：填后台“运费模板”中的模板名称，或填“{DEFAULT_SHIPPING}”使用订单设置中的运费；留空不修改已有商品的运费模板。",
    "价格以元为单位，最多两位小数（如 59.90）；划线价不能低于售价。库存、重量为整数。",
    f"图片：多张用 {IMAGE_SEPARATOR} 分隔，可填 http/https 图片链接（JPG、PNG、WebP、"
    "GIF，单张不超过 5MB），或上传 zip 压缩包后填写压缩包内的文件名（如 tshirt-1.jpg）。",
    "规格图：每个SKU可填本商品“图片”中的一张（写法与图片列相同），买家选中该规格时显示；"
    "已有商品的图片列留空时，可填它现有图片的链接（导出文件中的写法）；留空显示封面。",
    "导入前会先检查整个文件，列出每一处错误（行号、列、原因）；只要有一处错误，整个文件都不会导入。",
    "带 * 的列为必填。CSV 文件请使用 UTF-8 编码（Excel 另存为“CSV UTF-8”），GBK 编码也可识别。",
]


def header_text(column: Column) -> str:
    return f"{column.header}*" if column.required else column.header


def normalize_header(text) -> str:
    """What a header cell means, tolerating *, spaces and full-width parentheses."""
    value = str(text or "").strip().rstrip("*＊").strip()
    return value.replace("（", "(").replace("）", ")").replace(" ", "")


HEADER_KEYS = {normalize_header(c.header): c.key for c in COLUMNS}


def yes_no(value: bool) -> str:
    return YES if value else NO


def yuan(fen: int) -> str:
    return fen_to_yuan(fen)


def spec_cells(specs: dict) -> list[str]:
    cells: list[str] = []
    pairs = list((specs or {}).items())[:MAX_SPECS]
    for i in range(MAX_SPECS):
        name, value = pairs[i] if i < len(pairs) else ("", "")
        cells += [str(name), str(value)]
    return cells


def export_row(sku, *, category_path: str, image_urls: list[str], sku_image_url: str = "") -> list:
    """One SKU as a row of `HEADERS` (sku.product and its shipping template loaded).
    `category_path` as `category_paths()` gives it; `image_urls` absolute URLs of the
    product's pictures in order, `sku_image_url` the one that is the SKU's 规格图. Money as
    yuan text with two decimals, so a round trip is exact."""
    product = sku.product
    return [
        product.name,
        product.subtitle,
        category_path,
        *spec_cells(sku.specs),
        sku.code,
        yuan(sku.price),
        yuan(sku.list_price) if sku.list_price else "",
        sku.stock,
        sku.weight_grams,
        yes_no(product.is_listed),
        yes_no(sku.is_active),
        product.shipping_template.name if product.shipping_template_id else DEFAULT_SHIPPING,
        IMAGE_SEPARATOR.join(image_urls),
        sku_image_url,
        product.description,
    ]


def category_paths(rows=None) -> dict[int, str]:
    """{category id: "服饰/女装/T恤"} from one query: the paths the import reads back.
    `rows` are the categories' (id, parent id, name) when the caller has read them."""
    from ..models import Category

    if rows is None:
        rows = list(Category.objects.values_list("pk", "parent_id", "name"))
    parents = {pk: parent for pk, parent, _ in rows}
    names = {pk: name for pk, _, name in rows}
    paths: dict[int, str] = {}
    for pk in names:
        chain, node, seen = [], pk, set()
        while node is not None and node in names and node not in seen:
            seen.add(node)
            chain.append(names[node])
            node = parents[node]
        paths[pk] = "/".join(reversed(chain))
    return paths


# --- the template ----------------------------------------------------------------------------


def template_xlsx() -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "商品"
    sheet.append([header_text(c) for c in COLUMNS])
    for index, (cell, column) in enumerate(zip(sheet[1], COLUMNS, strict=True), start=1):
        cell.font = Font(bold=True, color="FFFFFF" if column.required else "000000")
        cell.fill = PatternFill("solid", fgColor="DC2626" if column.required else "E5E7EB")
        cell.comment = Comment(column.note, "模板")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    # Text cells: SKU codes like 0012 and prices like 59.90 keep their exact form.
    for index in range(1, len(COLUMNS) + 1):
        for row in range(2, 502):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"

    notes = book.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 16
    notes.column_dimensions["B"].width = 90
    notes.column_dimensions["C"].width = 30
    notes.append(["填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    for line in NOTES:
        notes.append(["", line])
    notes.append([])
    notes.append(["列名", "说明", "示例"])
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        notes.append(
            [header_text(column), ("必填。" if column.required else "") + column.note, column.example]
        )
    for row in notes.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    example = book.create_sheet("示例")
    example.append([header_text(c) for c in COLUMNS])
    for size, code in (("M", "TS-WHITE-M"), ("L", "TS-WHITE-L")):
        row = [c.example for c in COLUMNS]
        row[HEADERS.index("规格2名")] = "尺码"
        row[HEADERS.index("规格2值")] = size
        row[HEADERS.index("SKU编码")] = code
        example.append(row)
    for index, column in enumerate(COLUMNS, start=1):
        example.column_dimensions[get_column_letter(index)].width = column.width

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel reads UTF-8 with a BOM as UTF-8
    csv.writer(buffer).writerow([header_text(c) for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")
