"""分类销售: sales by category, with a 小计 row for each category that has categories
beneath it, laid out as the tree (a parent's 小计, its own products, then its children),
siblings by paid amount. The chart compares the top-level categories.

Units, amounts and refunds add up through the tree; orders do not (an order buying from two
children is one order of the parent), so a 小计 reads its orders from `CategoryDay.tree_orders`,
counted once per order when the day was aggregated."""

from django.utils.translation import gettext as _

from fenxiao.catalog.models import Category
from fenxiao.catalog.services.product_import_columns import category_paths

from ..models import CategoryDay, ProductDay
from . import readers
from .periods import Period
from .shapes import FEN, Chart, Column, Dataset, Report, Table

FIELDS = ["orders", "units", "sales", "refunded_units", "refunds"]
ADDED = ["units", "sales", "refunded_units", "refunds"]


def _own_rows(period: Period) -> tuple[dict[int, dict], dict[int, int]]:
    """({category: its own products' row}, {category: its 小计 orders})."""
    rows = readers.grouped(ProductDay, period, ["category_id"], FIELDS)
    # An order counts once in its category however many of the category's products it
    # bought (the products' own counts add it once per product).
    orders = {
        r["category_id"]: r
        for r in readers.grouped(CategoryDay, period, ["category_id"], ["orders", "tree_orders"])
    }
    for row in rows:
        row["orders"] = orders.get(row["category_id"], {}).get("orders", 0)
    return {row["category_id"]: row for row in rows}, {k: v["tree_orders"] for k, v in orders.items()}


class _Tree:
    """The category rows of a period placed in the tree as it stands."""

    def __init__(self, own: dict[int, dict], tree_orders: dict[int, int]):
        self.own, self.tree_orders = own, tree_orders
        categories = list(Category.objects.values_list("pk", "parent_id", "name"))
        parents = {pk: parent for pk, parent, _name in categories}
        self.children: dict[int | None, list[int]] = {}
        for pk, parent in parents.items():
            self.children.setdefault(parent if parent in parents else None, []).append(pk)
        self.paths = category_paths(categories)
        self.totals: dict[int, dict] = {}
        for root in self.children.get(None, []):
            self._total(root, set())

    def _total(self, pk: int, seen: set) -> dict:
        """The figures of `pk` and everything beneath it, and how many of those categories
        sold (`rows`); computed once per category."""
        if pk in self.totals or pk in seen:  # seen but not done: a loop in bad data
            return self.totals.get(pk, dict.fromkeys([*ADDED, "rows"], 0))
        seen.add(pk)
        total = {f: self.own.get(pk, {}).get(f, 0) for f in ADDED}
        total["rows"] = int(pk in self.own)
        for child in self.children.get(pk, []):
            for f, value in self._total(child, seen).items():
                total[f] += value
        self.totals[pk] = total
        return total

    def _by_sales(self, pks) -> list[int]:
        kept = [pk for pk in pks if self.totals.get(pk, {}).get("rows")]
        return sorted(kept, key=lambda pk: (-self.totals[pk]["sales"], pk))

    def _name(self, pk: int) -> str:
        return self.paths.get(pk) or _("未分类")

    def rows(self) -> list[dict]:
        out: list[dict] = []
        placed: set[int] = set()

        def place(pk: int) -> None:
            if pk in placed:
                return
            placed.add(pk)
            below = self._by_sales(self.children.get(pk, []))
            if below:  # a 小计 only where something beneath it sold
                total = self.totals[pk]
                out.append(
                    {
                        "category_id": pk,
                        "name": _("%(path)s 小计") % {"path": self._name(pk)},
                        "subtotal": True,
                        "orders": self.tree_orders.get(pk, 0),
                        **{f: total[f] for f in ADDED},
                    }
                )
            if pk in self.own:
                out.append({**self.own[pk], "name": self._name(pk), "subtotal": False})
            for child in below:
                place(child)

        for root in self._by_sales(self.children.get(None, [])):
            place(root)
        # Days aggregated under a category since removed, or products with none.
        for pk in sorted(set(self.own) - placed, key=lambda pk: -self.own[pk]["sales"]):
            out.append({**self.own[pk], "name": self._name(pk), "subtotal": False})
        for row in out:
            row["net_sales"] = row["sales"] - row["refunds"]
        return out

    def chart(self) -> Chart:
        roots = self._by_sales(self.children.get(None, []))
        leftover = sorted(set(self.own) - set(self.totals), key=lambda pk: -self.own[pk]["sales"])
        bars = [(self._name(pk), self.totals[pk]["sales"]) for pk in roots]
        bars += [(self._name(pk), self.own[pk]["sales"]) for pk in leftover]
        return Chart([n for n, _v in bars], [Dataset(_("实付金额"), [v for _n, v in bars], FEN)], kind="bar")


def by_category(period: Period, figure_columns: list[Column]) -> Report:
    tree = _Tree(*_own_rows(period))
    table = Table([Column("name", _("分类"), text=True), *figure_columns], tree.rows())
    return Report(
        "sales-by-category",
        _("分类销售"),
        period,
        chart=tree.chart(),
        table=table,
        note=_(
            "商品实付金额不含运费，因此各分类合计可能小于订单实付金额。"
            "小计含其下级分类，一笔订单在小计中只计一次；图表按一级分类对比。"
        ),
    )
