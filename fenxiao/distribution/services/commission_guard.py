"""The guard (单商品佣金上限): no line may pay more commission than `max_commission_bp` of
what was paid for it.

It holds for the worst line the shop could sell: level 1 and level 2 go to different people,
who may have different grades, so every save of the settings, a grade, a tier or a rule
checks the highest rate each level could pay across grades, plus the largest tier bonus and
team commission, against `max_commission_bp`. A store's own 导购 rate (`store_rules`)
replaces level 1 for whoever sells for that store, so the highest one is one more level-1
candidate in the same check.
"""

from django.db.models import Min, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import apply_bp, format_fen

from ..errors import RuleExceedsGuard, RuleInvalid
from ..models import CommissionRule, DistributionSettings, DistributorGrade, RuleKind, SalesTier
from . import config


def recheck_rules(cfg: DistributionSettings, saved: CommissionRule | None = None) -> None:
    """Every active rule against the guard: a rule's empty levels fall back to grades,
    categories and defaults, so changing one of those can push another rule over."""
    others = CommissionRule.objects.filter(is_active=True)
    if saved is not None and saved.pk:
        others = others.exclude(pk=saved.pk)
    for rule in others:
        try:
            check_rule(rule, cfg)
        except RuleExceedsGuard as exc:
            raise RuleExceedsGuard(
                _("保存后规则“%(name)s”会超过单商品佣金上限：%(why)s")
                % {"name": rule.name, "why": exc.message}
            ) from exc


def max_grade_extra(levels: int) -> int:
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    team = DistributorGrade.objects.order_by("-team_bp").values_list("team_bp", flat=True).first()
    return bonus + ((team or 0) if levels >= 2 else 0)


def check_rule(rule: CommissionRule, cfg: DistributionSettings | None = None) -> None:
    """Refuse a rule that could pay more than the guard on a line.

    A rate rule is checked with the largest tier bonus and team commission it could be
    combined with. A fixed per-unit rule is checked against the cheapest price it could
    apply to (the SKU's, the product's cheapest SKU, or, for a category, its cheapest SKU).
    """
    cfg = cfg or config.current()
    if rule.excludes:
        return  # pays nothing on the lines it decides
    values = [rule.value(level) for level in range(1, cfg.levels + 1)]
    if all(v is None for v in values):
        raise RuleInvalid(_("请至少填写一个层级的佣金"))
    # A level the rule leaves empty is still paid, at the rate it falls back to.
    fallback = sum(fallback_bp(rule, level, cfg) for level, v in enumerate(values, start=1) if v is None)
    if rule.kind == RuleKind.RATE:
        total = sum(v or 0 for v in values) + fallback + max_grade_extra(cfg.levels)
        if total > cfg.max_commission_bp:
            raise RuleExceedsGuard(
                _("该规则各级比例合计（含阶梯/团队奖励及未填层级沿用的比例）%(total)s 超过上限 %(limit)s")
                % {"total": f"{total / 100:g}%", "limit": f"{cfg.max_commission_bp / 100:g}%"}
            )
        return
    price = _cheapest_price(rule)
    if price is None:
        return
    limit = price * cfg.max_commission_bp // 10000
    total = sum(v or 0 for v in values)
    bonus_bp = max_grade_extra(cfg.levels) + fallback
    if total + price * bonus_bp // 10000 > limit:
        raise RuleExceedsGuard(
            _("固定佣金每件合计 %(total)s 超过最低售价的上限 %(limit)s")
            % {
                "total": format_fen(total),
                "limit": format_fen(limit),
            }
        )


def fallback_bp(rule: CommissionRule, level: int, cfg: DistributionSettings) -> int:
    """The largest rate a level left empty on `rule` can fall back to: a rate rule further
    down the chain (the product of a SKU rule, the ancestor categories), any grade's rate,
    or the default."""
    from fenxiao.catalog.models import Category, Product, Sku

    rates = [cfg.level_bp(level)]
    rates += [
        bp for bp in DistributorGrade.objects.values_list(f"level{level}_bp", flat=True) if bp is not None
    ]
    store = _store_rate() if level == 1 else None
    if store is not None:
        rates.append(store[0])  # a 导购's level 1 falls back to their store's rate
    product_id = rule.product_id
    if rule.sku_id:
        product_id = Sku.objects.filter(pk=rule.sku_id).values_list("product_id", flat=True).first()
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    category = (
        parents.get(rule.category_id)
        if rule.category_id
        else Product.objects.filter(pk=product_id).values_list("category_id", flat=True).first()
    )
    chain = []
    while category is not None and category not in chain:
        chain.append(category)
        category = parents.get(category)
    below = Q(category_id__in=chain)
    if rule.sku_id and product_id:
        below |= Q(product_id=product_id)
    rates += (
        CommissionRule.objects.filter(
            below, is_active=True, kind=RuleKind.RATE, **{f"level{level}__isnull": False}
        )
        .exclude(pk=rule.pk)
        .values_list(f"level{level}", flat=True)
    )
    return max(rates)


def _cheapest_price(rule: CommissionRule) -> int | None:
    from fenxiao.catalog.models import Sku
    from fenxiao.catalog.services.products import descendant_ids

    if rule.sku_id:
        return Sku.objects.filter(pk=rule.sku_id).values_list("price", flat=True).first()
    qs = Sku.objects.filter(is_active=True)
    if rule.product_id:
        qs = qs.filter(product_id=rule.product_id)
    else:
        qs = qs.filter(product__category_id__in=descendant_ids(rule.category_id))
    return qs.order_by("price").values_list("price", flat=True).first()


def check_grade(grade: DistributorGrade, cfg: DistributionSettings | None = None) -> None:
    cfg = cfg or config.current()
    total = 0
    for level in range(1, cfg.levels + 1):
        bp = grade.level_bp(level)
        total += cfg.level_bp(level) if bp is None else bp
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    team = grade.team_bp if cfg.levels >= 2 else 0
    if total + bonus + team > cfg.max_commission_bp:
        raise RuleExceedsGuard(_("等级“%(name)s”的佣金比例合计超过单商品佣金上限") % {"name": grade.name})


LEVEL_NAMES = (gettext_lazy("一级"), gettext_lazy("二级"), gettext_lazy("三级"))


def _store_rate() -> tuple[int, str] | None:
    from . import store_rules

    return store_rules.highest_rate()


def check_worst_combination(cfg: DistributionSettings | None = None) -> None:
    """Refuse settings, grades, tiers and rules that together could pay more than the guard.

    Each level of an order goes to a different distributor, with a grade of their own: the
    worst line pays, at every level, the highest rate any grade (or no grade) resolves to
    there, plus the largest tier bonus at level 1 and the largest team commission at level 2.
    At level 1 the highest store 导购 rate is a candidate too, wherever level 1 is not 不计佣金.
    It is checked for a line no rule decides and for every rule target (SKU, product,
    category), resolved exactly as a paid order would be. Reads the saved grades and rules,
    so call it after the save inside the transaction: raising rolls the save back.
    """
    from fenxiao.catalog.models import Category, Product, Sku

    from .rules import RuleBook

    cfg = cfg or config.current()
    grades = [None, *DistributorGrade.objects.order_by("weight")]
    rules = list(CommissionRule.objects.filter(is_active=True).select_related("grade").order_by("pk"))
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    book = RuleBook([], cfg, rules=rules)
    skus = {
        row["pk"]: row
        for row in Sku.objects.filter(pk__in={r.sku_id for r in rules if r.sku_id}).values(
            "pk", "code", "price", "product_id", "product__name", "product__category_id"
        )
    }
    product_ids = {r.product_id for r in rules if r.product_id}
    products = {
        row["pk"]: row
        for row in Product.objects.filter(pk__in=product_ids)
        .annotate(cheapest=Min("skus__price", filter=Q(skus__is_active=True)))
        .values("pk", "name", "category_id", "cheapest")
    }
    categories = dict(
        Category.objects.filter(pk__in={r.category_id for r in rules if r.category_id}).values_list(
            "pk", "name"
        )
    )

    targets = [(_("默认比例与等级比例"), None, None, None, None)]
    seen = set()
    for rule in rules:
        key = (rule.sku_id, rule.product_id, rule.category_id)
        if key in seen:
            continue
        seen.add(key)
        if rule.sku_id and rule.sku_id in skus:
            sku = skus[rule.sku_id]
            where = _("SKU“%(name)s %(code)s”") % {"name": sku["product__name"], "code": sku["code"]}
            targets.append(
                (where, rule.sku_id, sku["product_id"], sku["product__category_id"], lambda s=sku: s["price"])
            )
        elif rule.product_id and rule.product_id in products:
            product = products[rule.product_id]
            targets.append(
                (
                    _("商品“%(name)s”") % {"name": product["name"]},
                    None,
                    rule.product_id,
                    product["category_id"],
                    lambda p=product: p["cheapest"],
                )
            )
        elif rule.category_id:
            targets.append(
                (
                    _("分类“%(name)s”") % {"name": categories.get(rule.category_id, rule.category_id)},
                    None,
                    None,
                    rule.category_id,
                    lambda r=rule: _cheapest_price(r),
                )
            )
    store = _store_rate()
    for where, sku_id, product_id, category_id, price in targets:
        _check_target(book, cfg, grades, bonus, where, (sku_id, product_id, category_id), price, store)


def _check_target(book, cfg, grades, bonus, where, target, price, store=None) -> None:
    parts, rate_total, fixed_total, any_fixed = [], 0, [], False
    team = 0
    for level in range(1, cfg.levels + 1):
        paid = {RuleKind.RATE: {}, RuleKind.FIXED: {}}  # kind -> {value: grades paid it}
        for grade in grades:
            resolved = book.resolve_at(*target, level, grade)
            if resolved.excluded:
                continue
            if level == 2 and grade is not None:
                team = max(team, grade.team_bp)
            paid[resolved.kind].setdefault(resolved.value, []).append(grade)
        if level == 1 and store is not None and (paid[RuleKind.RATE] or paid[RuleKind.FIXED]):
            # A store's 导购 earns the store's rate here instead, whatever their grade.
            paid[RuleKind.RATE].setdefault(store[0], []).append(_("门店“%(name)s”导购") % {"name": store[1]})
        best_rate = max(paid[RuleKind.RATE], default=None)
        best_fixed = max(paid[RuleKind.FIXED], default=None)
        if level == 1 and best_rate is None and best_fixed is None:
            bonus = 0  # no one earns on level 1 here, so no tier bonus either
        fixed_total.append((best_rate, best_fixed))
        any_fixed = any_fixed or best_fixed is not None
        rate_total += best_rate or 0
        for kind, best, text in (
            (RuleKind.RATE, best_rate, lambda v: f"{v / 100:g}%"),
            (RuleKind.FIXED, best_fixed, _fen_per_unit),
        ):
            if best is None:
                continue
            who = paid[kind][best]
            graded = [g for g in who if not isinstance(g, str)]  # the rest name a store's 导购
            names = "、".join(
                (
                    [_("任意等级")]
                    if len(graded) == len(grades)
                    else [g.name if g else _("无等级") for g in graded]
                )
                + [w for w in who if isinstance(w, str)]
            )
            parts.append(
                _("%(level)s %(value)s（%(grades)s）")
                % {"level": LEVEL_NAMES[level - 1], "value": text(best), "grades": names}
            )
    extras = []
    if bonus:
        extras.append(_("阶梯奖励 %(rate)s") % {"rate": f"{bonus / 100:g}%"})
    if team:
        extras.append(_("团队佣金 %(rate)s") % {"rate": f"{team / 100:g}%"})
    explain = " + ".join(parts + extras)
    if not any_fixed:
        total = rate_total + bonus + team
        if total > cfg.max_commission_bp:
            raise RuleExceedsGuard(
                _("%(where)s：不同等级的分销商组合后，%(explain)s = %(total)s，超过单商品佣金上限 %(limit)s")
                % {
                    "where": where,
                    "explain": explain,
                    "total": f"{total / 100:g}%",
                    "limit": f"{cfg.max_commission_bp / 100:g}%",
                }
            )
        return
    cheapest = price() if price else None
    if cheapest is None:
        return  # nothing on sale here yet: a fixed amount cannot be weighed against a price
    total = sum(
        max(apply_bp(cheapest, r) if r is not None else 0, f or 0) for r, f in fixed_total
    ) + apply_bp(cheapest, bonus + team)
    limit = apply_bp(cheapest, cfg.max_commission_bp)
    if total > limit:
        raise RuleExceedsGuard(
            _(
                "%(where)s：不同等级的分销商组合后，按最低售价 %(price)s 计，%(explain)s "
                "合计 %(total)s，超过单商品佣金上限 %(limit)s"
            )
            % {
                "where": where,
                "price": format_fen(cheapest),
                "explain": explain,
                "total": format_fen(total),
                "limit": format_fen(limit),
            }
        )


def _fen_per_unit(fen: int) -> str:
    return _("%(amount)s/件") % {"amount": format_fen(fen)}
