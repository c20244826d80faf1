"""Which rule sets a line's commission, per level:
promotion > SKU > product > category > grade > default.

Everything needed for an order is read in a fixed number of queries and resolved in memory.
A 不计佣金 rule decides a line like any other rule, and what it decides is "nothing at all".

The promotion's rates are not read from the promotion: the line carries the snapshot taken
at checkout (`OrderLine.commission_override`), so editing or ending a promotion never
changes what its orders pay, and distribution never imports promotions.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Category, Product
from fenxiao.core.money import format_bp, format_fen

from ..models import CommissionRule, DistributionSettings, DistributorGrade, RuleKind, RuleSource


@dataclass(frozen=True)
class Resolved:
    kind: str
    value: int  # basis points for RATE, fen per unit for FIXED
    source: str
    rule: CommissionRule | None = None
    name: str = ""  # the rule's or the promotion's name, as the commission records it

    @property
    def excluded(self) -> bool:
        return self.kind == RuleKind.EXCLUDE


class RuleBook:
    def __init__(self, lines, cfg: DistributionSettings, rules=None):
        """`rules`, when given, replaces the active rules read for `lines` (the guard
        resolves every rule target at once, including a rule not saved yet)."""
        self.cfg = cfg
        sku_ids = {line.sku_id for line in lines}
        product_ids = {line.product_id for line in lines}
        if rules is None:
            rules = CommissionRule.objects.filter(is_active=True).filter(
                Q(sku_id__in=sku_ids) | Q(product_id__in=product_ids) | Q(category__isnull=False)
            )
        self.by_sku, self.by_product, self.by_category = {}, {}, {}
        for rule in sorted(rules, key=lambda r: r.pk):
            if rule.sku_id:
                self.by_sku.setdefault(rule.sku_id, []).append(rule)
            elif rule.product_id:
                self.by_product.setdefault(rule.product_id, []).append(rule)
            else:
                self.by_category.setdefault(rule.category_id, []).append(rule)
        # The category tree and the products' categories only matter to a category rule:
        # without one (the rules read above include every active one) the walk in
        # `resolve_at` finds nothing, so a payment need not read the whole tree.
        self.parents, self.category_of = {}, {}
        if self.by_category:
            self.parents = dict(Category.objects.values_list("pk", "parent_id"))
            self.category_of = dict(
                Product.objects.filter(pk__in=product_ids).values_list("pk", "category_id")
            )

    @staticmethod
    def _pick(rules, grade: DistributorGrade | None, level: int) -> CommissionRule | None:
        """A rule for the beneficiary's grade wins over a rule for every grade."""
        candidates = [r for r in rules if r.excludes or r.value(level) is not None]
        for rule in candidates:
            if grade is not None and rule.grade_id == grade.pk:
                return rule
        for rule in candidates:
            if rule.grade_id is None:
                return rule
        return None

    def resolve(self, line, level: int, grade: DistributorGrade | None) -> Resolved:
        promoted = by_promotion(getattr(line, "commission_override", None), level)
        if promoted is not None:
            return promoted
        return self.resolve_at(
            line.sku_id, line.product_id, self.category_of.get(line.product_id), level, grade
        )

    def resolve_at(self, sku_id, product_id, category_id, level: int, grade) -> Resolved:
        """The rule for a line of `sku_id` / `product_id` in `category_id` (any may be None)."""

        def found(rule, source):
            return Resolved(rule.kind, rule.value(level) or 0, source, rule, rule.name)

        rule = self._pick(self.by_sku.get(sku_id, []), grade, level)
        if rule:
            return found(rule, RuleSource.SKU)
        rule = self._pick(self.by_product.get(product_id, []), grade, level)
        if rule:
            return found(rule, RuleSource.PRODUCT)
        category = category_id
        seen = set()
        while category is not None and category not in seen:
            seen.add(category)
            rule = self._pick(self.by_category.get(category, []), grade, level)
            if rule:
                return found(rule, RuleSource.CATEGORY)
            category = self.parents.get(category)
        if grade is not None and grade.level_bp(level) is not None:
            return Resolved(RuleKind.RATE, grade.level_bp(level), RuleSource.GRADE)
        return Resolved(RuleKind.RATE, self.cfg.level_bp(level), RuleSource.DEFAULT)


def values_text(rule) -> str:
    """一/二/三级 of a rule or of one of its versions, as staff read them."""
    if rule.kind == RuleKind.EXCLUDE:
        return _("不计佣金")

    def one(value):
        if value is None:
            return "-"
        return (
            format_bp(value)
            if rule.kind == RuleKind.RATE
            else _("%(amount)s/件") % {"amount": format_fen(value)}
        )

    return " / ".join(one(rule.value(level)) for level in (1, 2, 3))


PROMOTION_KINDS = {"rate": RuleKind.RATE, "fixed": RuleKind.FIXED, "exclude": RuleKind.EXCLUDE}


def by_promotion(snapshot: dict | None, level: int) -> Resolved | None:
    """The promotion's decision for `level`, or None to let the normal rules decide.

    Excluding decides every level (as a 不计佣金 rule does); a rate or fixed amount decides
    only the levels the promotion filled in, so one may set level 1 and leave the rest."""
    if not snapshot:
        return None
    kind = PROMOTION_KINDS.get(snapshot.get("mode"))
    if kind is None:
        return None
    name = snapshot.get("name") or ""
    if kind == RuleKind.EXCLUDE:
        return Resolved(kind, 0, RuleSource.PROMOTION, name=name)
    value = snapshot.get(f"level{level}")
    if value is None:
        return None
    return Resolved(kind, value, RuleSource.PROMOTION, name=name)
