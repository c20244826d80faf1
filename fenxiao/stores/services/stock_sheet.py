"""A store's stock as a spreadsheet (门店库存表): every sellable SKU with its online stock and
the store's level, downloaded as Excel or CSV, counted or filled in, and uploaded back to
set many levels at once (a stocktake, or stocking a new store).

The file is the shop's (headers in Chinese, as every export). On upload only the 门店库存
column is read, by SKU 编码: an empty cell leaves the SKU as it is, a number sets it. The
whole file is refused, naming each bad row, rather than half applied."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from fenxiao.catalog.models import Sku
from fenxiao.core.numbers import whole_number
from fenxiao.core.tabular import FORMULA_STARTS, read_csv, read_xlsx

from ..errors import StockSheetInvalid
from ..models import StoreStock
from . import stock

CODE, PRODUCT, SPEC, ONLINE, LEVEL = "SKU 编码", "商品", "规格", "线上库存", "门店库存"
HEADERS = [CODE, PRODUCT, SPEC, ONLINE, LEVEL]
WIDTHS = dict(enumerate([18, 30, 20, 10, 10]))
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_ERRORS_SHOWN = 10
WRITE_BATCH = 500


@dataclass
class Outcome:
    changed: int = 0  # levels written
    same: int = 0  # rows whose level was already the store's
    moved: list[str] = field(default_factory=list)  # SKUs an order moved while writing


def sellable_skus():
    return Sku.objects.filter(is_active=True, product__isnull=False).select_related("product")


def rows(store):
    """The sheet's rows: every sellable SKU, with the store's level (empty: 未铺货)."""
    levels = dict(StoreStock.objects.filter(store=store).values_list("sku_id", "stock"))
    for sku in sellable_skus().order_by("product_id", "pk").iterator(chunk_size=1000):
        yield [sku.code, sku.product.name, sku.spec_text, sku.stock, levels.get(sku.pk, "")]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps every number as a float: 12 comes back as 12.0
    text = str(value).strip()
    # Our exports write text a spreadsheet would run as a formula behind an apostrophe.
    if text[:1] == "'" and text[1:2] and text[1:2] in FORMULA_STARTS:
        text = text[1:]
    return text


def read(data: bytes, filename: str) -> list[tuple[int, str, str]]:
    """(row number as the spreadsheet shows it, SKU 编码, 门店库存 cell) of each filled row."""
    if len(data) > MAX_FILE_BYTES:
        raise StockSheetInvalid(_("文件不能超过 %(size)sMB") % {"size": MAX_FILE_BYTES // (1024 * 1024)})
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        table = read_xlsx(
            data,
            StockSheetInvalid,
            unreadable=_("Excel 文件无法打开，请另存为 .xlsx 后重新上传"),
            limit=MAX_ROWS + 2,
        )
    elif lower.endswith(".csv"):
        table = read_csv(data, StockSheetInvalid)
    else:
        raise StockSheetInvalid(_("只支持 .xlsx 或 .csv 文件（先导出门店库存表，填好后上传）"))
    headers = ["".join(_text(h).split()) for h in (table[0] if table else [])]
    wanted = {"".join(CODE.split()): None, LEVEL: None}
    for index, header in enumerate(headers):
        if header in wanted and wanted[header] is None:
            wanted[header] = index
    code_at, level_at = wanted.values()
    if code_at is None or level_at is None:
        raise StockSheetInvalid(
            _("表头须有“%(code)s”和“%(level)s”两列（请先导出门店库存表，在其中填写）")
            % {"code": CODE, "level": LEVEL}
        )
    found = []
    for number, values in enumerate(table[1:], start=2):
        cells = [_text(v) for v in values]
        code = cells[code_at] if code_at < len(cells) else ""
        level = cells[level_at] if level_at < len(cells) else ""
        if code or level:
            found.append((number, code, level))
    if len(found) > MAX_ROWS:
        raise StockSheetInvalid(_("一次最多导入 %(rows)s 行，请拆分文件") % {"rows": f"{MAX_ROWS:,}"})
    return found


def _refuse(problems: list[str]):
    shown = _("；").join(problems[:MAX_ERRORS_SHOWN])
    if len(problems) > MAX_ERRORS_SHOWN:
        shown += _("……共 %(count)s 处") % {"count": len(problems)}
    raise StockSheetInvalid(_("门店库存表未导入，请改正后重新上传：%(problems)s") % {"problems": shown})


def apply(store, data: bytes, filename: str) -> Outcome:
    """Set the store's levels the sheet gives; nothing is written when a row is wrong.
    A level is the store's count (as the POS API's `stock`): it replaces the level, except
    where an order took or gave back units between reading and writing (reported, kept)."""
    found = read(data, filename)
    codes = {code for _number, code, _level in found if code}
    skus = {sku.code: sku for sku in sellable_skus().filter(code__in=codes)}
    levels, seen, problems = {}, {}, []
    for number, code, raw in found:
        where = _("第 %(row)s 行") % {"row": number}
        sku = skus.get(code)
        if not code:
            problems.append(_("%(where)s 缺少 SKU 编码") % {"where": where})
        elif sku is None:
            problems.append(_("%(where)s SKU 编码 %(code)s 不存在或已下架") % {"where": where, "code": code})
        elif code in seen:
            problems.append(
                _("%(where)s SKU 编码 %(code)s 与第 %(first)s 行重复")
                % {"where": where, "code": code, "first": seen[code]}
            )
        elif raw:
            level = whole_number(raw)
            if level is None or level > stock.MAX_LEVEL:
                problems.append(
                    _("%(where)s 门店库存须为 0~%(max)s 的整数（现为 %(raw)s）")
                    % {"where": where, "max": f"{stock.MAX_LEVEL:,}", "raw": raw[:20]}
                )
            else:
                levels[sku.pk] = level
        if code and code not in seen:
            seen[code] = number
    if problems:
        _refuse(problems)
    if not levels:
        raise StockSheetInvalid(_("门店库存表中没有填写任何门店库存"))
    now = stock.stock_of(store.pk, list(levels))
    changed = {sku: level for sku, level in levels.items() if now.get(sku) != level}
    moved, pending = [], sorted(changed)
    # A few hundred SKUs a statement (one CASE arm each), each batch its own short
    # transaction: a whole range in one would hold checkouts' rows for its whole length.
    for start in range(0, len(pending), WRITE_BATCH):
        batch = {sku: changed[sku] for sku in pending[start : start + WRITE_BATCH]}
        moved += stock.set_stock_if_unchanged(store.pk, batch, {sku: now.get(sku) for sku in batch})
    by_pk = {sku.pk: sku for sku in skus.values()}
    return Outcome(
        changed=len(changed) - len(moved),
        same=len(levels) - len(changed),
        moved=[f"{by_pk[pk].product.name} {by_pk[pk].spec_text}".strip() for pk in sorted(moved)],
    )
