"""Ship many orders from one file (批量发货): 订单号 → 物流公司 → 运单号, as CSV or Excel.

Two steps, and the invariant of each:

- `read_file` + `check` write nothing. Every row gets a verdict: ready to ship, or a list
  of errors, each with the row number (as the spreadsheet shows it), the column and a
  Chinese message. The orders are read in one query, whatever the file's length.
- `ship_rows` ships the ready rows through `shipments.ship_orders`: a chunk of orders per
  transaction, a fixed number of statements each, every order exactly as the one-click
  发货 ships it. Each row is a merchant's action on a different order, so one refusal
  (e.g. the buyer asked for a refund since the preview) leaves the others shipped and is
  reported. The rows are checked again against the database first (the preview may be
  old), and again under the chunk's lock.

Bad files (too large, not CSV/Excel, unreadable, missing columns, too many rows) are refused
with a `BatchShipFileInvalid` carrying the reason; nothing is half-read.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.errors import DomainError
from fenxiao.core.tabular import read_csv, read_xlsx
from fenxiao.shipping.carriers import Carrier, carrier_name, carrier_record_name, find_carrier

from ..errors import BatchShipFileInvalid
from ..models import OPEN_AFTER_SALE, AfterSale, Order, OrderStatus
from . import shipments

MAX_FILE_BYTES = 2 * 1024 * 1024
# Shipping runs in the confirming request, a chunk of orders per transaction: 600 orders
# ship in under a second on PostgreSQL (one at a time they took 12 s), so 2,000 — more
# than a week of a busy shop — stay well inside a request's time. If the request is cut
# off anyway, the chunks shipped stay shipped and a re-upload of the same file reports
# them as no longer 待发货: nothing ships twice.
MAX_ROWS = 2000
COLUMNS = ("订单号", "物流公司", "运单号")
NUMBER, CARRIER, TRACKING = COLUMNS
# Other header spellings merchants (and other systems' exports) use.
HEADER_ALIASES = {
    "订单编号": NUMBER,
    "快递公司": CARRIER,
    "物流公司编码": CARRIER,
    "快递单号": TRACKING,
    "物流单号": TRACKING,
    # The English the page names them by, any case.
    "order number": NUMBER,
    "carrier": CARRIER,
    "tracking number": TRACKING,
}
TRACKING_PATTERN = re.compile(r"^[A-Za-z0-9-]{6,40}$")
# What Excel makes of a long number typed into a General cell: 2.02612E+19.
SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE][+]?\d+$")
# The Chinese names: what a file may say, whatever language the page is in.
CARRIER_HINT = "、".join(carrier_record_name(c) for c in Carrier if c != Carrier.OTHER)


@dataclass
class Row:
    line: int  # the row number the spreadsheet shows (the header is row 1)
    number: str
    carrier_text: str
    tracking_number: str
    carrier: str = ""  # the carrier code, once recognised
    order: Order | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def carrier_label(self) -> str:
        return carrier_name(self.carrier) if self.carrier else self.carrier_text

    def refuse(self, column: str, message: str) -> None:
        self.errors.append((column, message))


@dataclass
class Preview:
    rows: list[Row]

    @property
    def ready(self) -> list[Row]:
        return [r for r in self.rows if r.ok]

    @property
    def refused(self) -> list[Row]:
        return [r for r in self.rows if not r.ok]


@dataclass
class Outcome:
    shipped: list[Row]
    failed: list[tuple[Row, str]]


# --- reading the file -----------------------------------------------------------------------


def read_file(name: str, data: bytes) -> list[Row]:
    """The file's data rows (blank rows skipped), or a refusal saying what is wrong with it."""
    if not data:
        raise BatchShipFileInvalid(_("文件是空的"))
    if len(data) > MAX_FILE_BYTES:
        raise BatchShipFileInvalid(
            _("文件不能超过 %(size)sMB，请分成多个文件上传") % {"size": MAX_FILE_BYTES // 1024 // 1024}
        )
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix == "csv":
        # Excel saves CSV in the system code page (GBK on Chinese Windows); WPS and others
        # in UTF-8, with or without a BOM: `read_csv` reads all three.
        table = read_csv(
            data,
            BatchShipFileInvalid,
            undecodable=_("无法识别文件编码，请另存为 UTF-8 编码的 CSV"),
            malformed=_("CSV 文件格式有误，请用模板重新填写"),
        )
    elif suffix == "xlsx":
        # Enough to refuse a file that is too long (the header and one row past MAX_ROWS)
        # without reading all of it; sheets often carry many formatted but empty rows, so
        # those are bounded too.
        table = read_xlsx(
            data,
            BatchShipFileInvalid,
            unreadable=_("无法读取 Excel 文件，请确认是 .xlsx 格式且未损坏"),
            limit=MAX_ROWS + 2,
            rows_read=50 * MAX_ROWS + 1,
        )
    else:
        raise BatchShipFileInvalid(_("只支持 CSV 或 Excel（.xlsx）文件；.xls 请在 Excel 中另存为 .xlsx"))
    return _rows(table)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # A number Excel kept exactly is written back whole; a long one (an order number
        # typed into a General cell) has lost digits and is shown as Excel does.
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.5E}" if abs(value) >= 1e15 else str(value)
    return str(value).strip()


def _rows(table: list[list]) -> list[Row]:
    # The header is the first non-blank row.
    start = next((i for i, values in enumerate(table) if any(_cell(v) for v in values)), None)
    if start is None:
        raise BatchShipFileInvalid(_("文件中没有内容，请按模板填写"))
    header = [_cell(v).replace("\ufeff", "").strip() for v in table[start]]
    header = [HEADER_ALIASES.get(h.lower(), h) for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise BatchShipFileInvalid(
            _("缺少列：%(names)s（第%(line)s行应为表头：订单号、物流公司、运单号）")
            % {"names": "、".join(missing), "line": start + 1}
        )
    where = {c: header.index(c) for c in COLUMNS}
    rows = []
    for index in range(start + 1, len(table)):
        values = [_cell(v) for v in table[index]]
        if not any(values):
            continue

        def get(column, values=values):
            i = where[column]
            return values[i] if i < len(values) else ""

        rows.append(
            Row(line=index + 1, number=get(NUMBER), carrier_text=get(CARRIER), tracking_number=get(TRACKING))
        )
        if len(rows) > MAX_ROWS:
            raise BatchShipFileInvalid(_("一次最多发货 %(rows)s 单，请分成多个文件上传") % {"rows": MAX_ROWS})
    if not rows:
        raise BatchShipFileInvalid(_("文件中只有表头，没有要发货的订单"))
    return rows


# --- checking the rows ----------------------------------------------------------------------


def check(rows: list[Row]) -> Preview:
    """Each row's verdict against the database now, in four queries for the whole file."""
    numbers = {r.number for r in rows if r.number}
    orders = {o.number: o for o in Order.objects.filter(number__in=numbers)}
    ids = [o.pk for o in orders.values()]
    disputed = shipments.disputed_orders(ids, shipments.remaining_by_order(ids))
    first_line: dict[str, int] = {}
    for row in rows:
        row.errors, row.order, row.carrier = [], None, ""
        _check_order(row, orders, disputed, first_line)
        _check_carrier(row)
        _check_tracking(row)
    return Preview(rows)


def _check_order(row: Row, orders, disputed, first_line) -> None:
    if not row.number:
        row.refuse(NUMBER, _("订单号不能为空"))
        return
    if SCIENTIFIC.match(row.number):
        row.refuse(NUMBER, _("订单号被 Excel 存成了科学计数法，位数已丢失；请把该列设为“文本”后重新填写"))
        return
    if row.number in first_line:
        row.refuse(NUMBER, _("订单号在文件中重复（与第%(line)s行相同）") % {"line": first_line[row.number]})
        return
    first_line[row.number] = row.line
    order = orders.get(row.number)
    if order is None:
        row.refuse(NUMBER, _("订单不存在"))
        return
    row.order = order
    if order.is_pickup:
        row.refuse(NUMBER, _("到店自提订单无需发货"))
    elif order.status != OrderStatus.PENDING_SHIPMENT:
        row.refuse(NUMBER, _("订单状态为“%(status)s”，不是待发货") % {"status": order.get_status_display()})
    elif order.awaiting_group:
        row.refuse(NUMBER, _("拼团尚未成功，订单暂不能发货"))
    elif order.pk in disputed:
        row.refuse(NUMBER, _("订单有处理中的售后申请，请先处理售后"))


def _check_carrier(row: Row) -> None:
    if not row.carrier_text:
        row.refuse(CARRIER, _("请填写物流公司"))
        return
    carrier = find_carrier(row.carrier_text)
    if carrier is None:
        row.refuse(
            CARRIER,
            _("无法识别的物流公司“%(carrier)s”，可填写：%(carriers)s（或其编码）")
            % {"carrier": row.carrier_text[:20], "carriers": CARRIER_HINT},
        )
        return
    row.carrier = carrier.value


def _check_tracking(row: Row) -> None:
    if not row.tracking_number:
        row.refuse(TRACKING, _("请填写运单号"))
    elif SCIENTIFIC.match(row.tracking_number):
        row.refuse(TRACKING, _("运单号被 Excel 存成了科学计数法，位数已丢失；请把该列设为“文本”后重新填写"))
    elif not TRACKING_PATTERN.match(row.tracking_number):
        row.refuse(TRACKING, _("运单号格式有误：应为 6-40 位字母、数字或短横线"))


# --- shipping -------------------------------------------------------------------------------


def as_data(rows: list[Row]) -> list[list]:
    """The ready rows as plain data, to carry from the preview to the confirmation."""
    return [[r.line, r.number, r.carrier, r.tracking_number] for r in rows if r.ok]


def from_data(data: list[list]) -> list[Row]:
    return [
        Row(line=int(line), number=str(number), carrier_text=str(carrier), tracking_number=str(tracking))
        for line, number, carrier, tracking in data
    ]


def ship_rows(rows: list[Row], staff) -> Outcome:
    """Ship every row that is still ready (see the module docstring); the outcome lists the
    rows in file order."""
    preview = check(rows)
    why_not: dict[int, str] = {}  # by row number
    waybills = []
    for row in preview.rows:
        if not row.ok:
            why_not[row.line] = _("；").join(message for _column, message in row.errors)
            continue
        try:
            carrier, tracking_number = shipments.clean_waybill(row.carrier, row.tracking_number)
        except DomainError as exc:
            why_not[row.line] = exc.message
            continue
        waybills.append(shipments.Waybill(row.order.pk, carrier, tracking_number))
    refused = shipments.ship_orders(waybills, staff)
    for row in preview.rows:
        if row.line not in why_not and row.order.pk in refused:
            why_not[row.line] = refused[row.order.pk]
    return Outcome(
        shipped=[row for row in preview.rows if row.line not in why_not],
        failed=[(row, why_not[row.line]) for row in preview.rows if row.line in why_not],
    )


# --- the template ---------------------------------------------------------------------------

TEMPLATE_NOTES = (
    gettext_lazy("每行一个订单：订单号、物流公司、运单号三列必填，其余列不读取。"),
    gettext_lazy("物流公司可填名称、简称或编码，例如：顺丰 / 顺丰速运 / shunfeng。"),
    gettext_lazy("订单号和运单号请保持为“文本”格式，否则 Excel 会把长数字改成科学计数法。"),
    lazy(
        lambda: (
            _("一次最多 %(rows)s 单，文件不超过 %(size)sMB；支持 .xlsx 和 CSV（UTF-8 或 GBK 编码）。")
            % {"rows": MAX_ROWS, "size": MAX_FILE_BYTES // 1024 // 1024}
        ),
        str,
    )(),
)


def pending_rows(limit: int = MAX_ROWS) -> list[list[str]]:
    """The orders waiting to ship, for a template filled in with them: number, blank carrier
    and tracking number, then who and what (not read back), oldest first."""
    orders = (
        Order.objects.filter(status=OrderStatus.PENDING_SHIPMENT, awaiting_group=False)
        .exclude(Exists(AfterSale.objects.filter(order=OuterRef("pk"), status__in=OPEN_AFTER_SALE)))
        .order_by("paid_at", "id")
        .prefetch_related("lines")[:limit]
    )
    return [
        [
            o.number,
            "",
            "",
            o.recipient,
            o.recipient_phone,
            o.address_text,
            "；".join(
                f"{line.product_name} {line.spec_text} ×{line.quantity}".replace("  ", " ")
                for line in o.lines.all()
            ),
        ]
        for o in orders
    ]


TEMPLATE_EXTRA = ("收货人", "联系电话", "收货地址", "商品")
