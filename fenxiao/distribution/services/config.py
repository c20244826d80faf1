"""The distribution settings record: read it, change it (versioned and logged), guard rules.

The guard (单商品佣金上限) holds for the worst line the shop could sell: level 1 and level 2
go to different people, who may have different grades, so every save of the settings, a
grade, a tier or a rule checks the highest rate each level could pay across grades, plus the
largest tier bonus and team commission, against `max_commission_bp`. A store's own 导购 rate
(`store_rules`) replaces level 1 for whoever sells for that store, so the highest one is one
more level-1 candidate in the same check.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Min, Q
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fenxiao.core.money import apply_bp, format_fen

from ..errors import RuleExceedsGuard, RuleInvalid, SettingsInvalid, TooManyLevels
from ..models import (
    MAX_BIND_DAYS,
    MAX_FREEZE_DAYS,
    MAX_LEVELS,
    MAX_PROTECT_DAYS,
    BindMode,
    CommissionRule,
    CommissionRuleVersion,
    ConditionKind,
    CustomerBinding,
    DistributionSettings,
    DistributorGrade,
    EnableMode,
    PayoutMethod,
    RuleKind,
    SalesTier,
    SettingsChange,
)

TRACKED = [
    f.name
    for f in DistributionSettings._meta.concrete_fields
    if f.name not in ("id", "version", "updated_at")
] + [f.name for f in DistributionSettings._meta.many_to_many]


def current() -> DistributionSettings:
    obj = DistributionSettings.objects.order_by("pk").first()
    if obj is None:
        # get_or_create on a fixed key: two first readers at once still make one record.
        obj, _created = DistributionSettings.objects.get_or_create(pk=1)
    return obj


DAY_BOUNDS = {
    "freeze_days": (gettext_lazy("冻结期"), 0, MAX_FREEZE_DAYS),
    "bind_days": (gettext_lazy("绑定有效期"), 1, MAX_BIND_DAYS),
    "protect_days": (gettext_lazy("保护期"), 0, MAX_PROTECT_DAYS),
}


def hold_until(completed_at):
    """When an order's commission may settle: after the freeze, and never before the
    buyer's after-sale window has closed, so a routine refund is a reduction, not a
    clawback."""
    return completed_at + timedelta(days=hold_days(current()))


def hold_days(cfg: DistributionSettings) -> int:
    """How many days after completion an order's commission is held under `cfg`: its freeze,
    or the after-sale window if longer. Both counts are bounded, so no stored value can
    overflow a date."""
    from fenxiao.orders.models import MAX_AFTER_SALE_DAYS, OrderSettings

    return max(
        min(cfg.freeze_days, MAX_FREEZE_DAYS),
        min(OrderSettings.current().after_sale_days, MAX_AFTER_SALE_DAYS),
    )


def validate(cfg: DistributionSettings) -> None:
    for name, (label, low, high) in DAY_BOUNDS.items():
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsInvalid(
                _("%(label)s必须是 %(low)s–%(high)s 天之间的整数")
                % {"label": label, "low": low, "high": high}
            )
    from .agreement import check_text
    from .settlement_cycle import check_days

    check_days(cfg)
    check_text(cfg)
    check_condition_target(cfg)
    if cfg.levels < 1:
        raise SettingsInvalid(_("分销层级至少为 1 级"))
    if cfg.levels > MAX_LEVELS:
        raise TooManyLevels()
    if cfg.max_commission_bp > 10000:
        raise SettingsInvalid(_("佣金上限不能超过 100%"))
    if cfg.withdraw_min > cfg.withdraw_max:
        raise SettingsInvalid(_("最低提现金额不能高于最高提现金额"))
    if cfg.risk_refund_rate_bp > 10000:
        raise SettingsInvalid(_("频繁退款的退款订单占比不能超过 100%"))
    if cfg.withdraw_fee_bp >= 10000:
        raise SettingsInvalid(_("提现手续费必须低于 100%"))
    unknown = set(cfg.withdraw_methods or []) - set(PayoutMethod.values)
    if unknown:
        raise SettingsInvalid(_("不支持的提现方式：%(methods)s") % {"methods": "、".join(sorted(unknown))})
    default_sum = sum(cfg.level_bp(level) for level in range(1, cfg.levels + 1))
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    if default_sum + bonus > cfg.max_commission_bp:
        raise RuleExceedsGuard(_("默认佣金比例合计（含阶梯奖励）超过单商品佣金上限"))
    for grade in DistributorGrade.objects.all():
        check_grade(grade, cfg)
    _recheck_rules(cfg)
    check_worst_combination(cfg)


def check_condition_target(cfg: DistributionSettings) -> None:
    """A condition of ¥0 or 0 orders is met by every buyer: switching to it would make the
    whole customer base distributors (and tell each). 人人分销 is the mode for that."""
    if cfg.enable_mode != EnableMode.CONDITION:
        return
    if cfg.condition_kind == ConditionKind.LIFETIME_SPEND and cfg.condition_amount <= 0:
        raise SettingsInvalid(
            _("成为分销商条件为“累计消费满额”时，请填写大于 0 的金额（人人可成为分销商请选“人人分销”）")
        )
    if cfg.condition_kind == ConditionKind.COMPLETED_ORDERS and cfg.condition_orders < 1:
        raise SettingsInvalid(
            _("成为分销商条件为“完成订单数”时，请填写至少 1 笔（人人可成为分销商请选“人人分销”）")
        )


def check_condition_products(cfg: DistributionSettings, products) -> None:
    """购买指定商品 needs the products: without them nobody could ever qualify."""
    if (
        cfg.enable_mode == EnableMode.CONDITION
        and cfg.condition_kind == ConditionKind.BOUGHT_PRODUCTS
        and not list(products)
    ):
        raise SettingsInvalid(_("成为分销商条件为“购买指定商品”时，请至少选择一个指定商品"))


def _recheck_rules(cfg: DistributionSettings, saved: CommissionRule | None = None) -> None:
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


# A change of any of these, with the mode 满足条件, may qualify buyers who bought before.
CONDITION_FIELDS = {
    "enable_mode",
    "condition_kind",
    "condition_amount",
    "condition_orders",
    "condition_products",
}


@transaction.atomic
def update_settings(staff, **changes) -> DistributionSettings:
    cfg = DistributionSettings.objects.select_for_update().get(pk=current().pk)
    before = settings_values(cfg)
    products = None
    for name, value in changes.items():
        if name not in TRACKED:
            raise SettingsInvalid(_("未知设置项：%(name)s") % {"name": name})
        if name == "condition_products":
            products = [getattr(p, "pk", p) for p in value or []]
            continue
        setattr(cfg, name, value)
    validate(cfg)
    check_condition_products(cfg, before["condition_products"] if products is None else products)
    cfg.version += 1
    cfg.save()
    if products is not None:
        cfg.condition_products.set(products)
    after = settings_values(cfg)
    diff = {k: [plain(before[k]), plain(after[k])] for k in TRACKED if before[k] != after[k]}
    SettingsChange.objects.create(version=cfg.version, changed_by=staff, changes=diff)
    if "agreement_text" in diff:
        from .agreement import publish

        publish(cfg, staff)  # each saved text is a version distributors agree to
    if "bind_mode" in diff:
        _carry_bindings_to_mode(cfg, timezone.now())
    if "enable_mode" in diff and cfg.enable_mode == EnableMode.EVERYONE:
        # 人人分销: every buyer is a distributor from now on, those registered before too.
        from ..tasks import enrol_everyone

        transaction.on_commit(enrol_everyone)
    if cfg.enable_mode == EnableMode.CONDITION and CONDITION_FIELDS & diff.keys():
        # 满足条件: those whose orders already meet the condition are distributors now, not
        # only when they next receive an order.
        from ..tasks import enrol_qualified

        transaction.on_commit(enrol_qualified)
    return cfg


def _carry_bindings_to_mode(cfg: DistributionSettings, now) -> None:
    """A bind mode switch gives every binding still in force the new mode's meaning, and
    leaves a binding that has already lapsed lapsed (a switch never revives one):

    - to 首次绑定 / 最新优先: bindings in force no longer expire (最新优先 keeps its
      protection window, counted from the bind time);
    - to 有效期: bindings in force run `bind_days` from the switch, not from their bind
      time, so a switch does not end every older binding at once.
    """
    in_force = CustomerBinding.objects.in_force(now)
    if cfg.bind_mode == BindMode.EXPIRING:
        in_force.filter(expires_at__isnull=True).update(expires_at=now + timedelta(days=cfg.bind_days))
    elif cfg.bind_mode == BindMode.LATEST:
        in_force.update(expires_at=None)
        CustomerBinding.objects.filter(expires_at__isnull=True, protected_until__isnull=True).update(
            protected_until=F("bound_at") + timedelta(days=cfg.protect_days)
        )
    else:
        in_force.update(expires_at=None, protected_until=None)


def plain(value):
    """A JSON value for a setting or rule field: model instances by their key."""
    if isinstance(value, list | tuple):
        return [getattr(v, "pk", v) for v in value]
    return getattr(value, "pk", value)


class _DryRun(Exception):
    pass


def dry_run(call) -> None:
    """Run a save service `call` inside a savepoint that is always rolled back: nothing is
    kept, and a refusal (DomainError) reaches the caller."""
    try:
        with transaction.atomic():
            call()
            raise _DryRun
    except _DryRun:
        pass


def settings_values(cfg: DistributionSettings) -> dict:
    """The tracked settings of `cfg` as plain values (products by key)."""
    values = model_to_dict(cfg, fields=TRACKED)
    values["condition_products"] = sorted(p.pk for p in values.get("condition_products") or [])
    return values


def _max_grade_extra(levels: int) -> int:
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    team = DistributorGrade.objects.order_by("-team_bp").values_list("team_bp", flat=True).first()
    return bonus + ((team or 0) if levels >= 2 else 0)


def check_rule(rule: CommissionRule, cfg: DistributionSettings | None = None) -> None:
    """Refuse a rule that could pay more than the guard on a line.

    A rate rule is checked with the largest tier bonus and team commission it could be
    combined with. A fixed per-unit rule is checked against the cheapest price it could
    apply to (the SKU's, the product's cheapest SKU, or, for a category, its cheapest SKU).
    """
    cfg = cfg or current()
    if rule.excludes:
        return  # pays nothing on the lines it decides
    values = [rule.value(level) for level in range(1, cfg.levels + 1)]
    if all(v is None for v in values):
        raise RuleInvalid(_("请至少填写一个层级的佣金"))
    # A level the rule leaves empty is still paid, at the rate it falls back to.
    fallback = sum(_fallback_bp(rule, level, cfg) for level, v in enumerate(values, start=1) if v is None)
    if rule.kind == RuleKind.RATE:
        total = sum(v or 0 for v in values) + fallback + _max_grade_extra(cfg.levels)
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
    bonus_bp = _max_grade_extra(cfg.levels) + fallback
    if total + price * bonus_bp // 10000 > limit:
        raise RuleExceedsGuard(
            _("固定佣金每件合计 %(total)s 超过最低售价的上限 %(limit)s")
            % {
                "total": format_fen(total),
                "limit": format_fen(limit),
            }
        )


def _fallback_bp(rule: CommissionRule, level: int, cfg: DistributionSettings) -> int:
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
    cfg = cfg or current()
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

    cfg = cfg or current()
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


def _rule_target_text(rule: CommissionRule) -> str:
    if rule.sku_id:
        return f"SKU：{rule.sku.product.name} {rule.sku.code}"
    if rule.product_id:
        return f"商品：{rule.product.name}"
    if rule.category_id:
        return f"分类：{rule.category.name}"
    return ""


@transaction.atomic
def save_rule(rule: CommissionRule, staff=None) -> CommissionRule:
    """Save a rule after the guard check; each change bumps its version and keeps the rule
    as it now is in a version row, so commissions computed with it explain themselves."""
    targets = [rule.product_id, rule.sku_id, rule.category_id]
    if sum(1 for t in targets if t) != 1:
        raise RuleInvalid(_("规则必须且只能指定商品、SKU 或分类之一"))
    if rule.excludes:
        rule.level1 = rule.level2 = rule.level3 = None
    check_rule(rule)
    if rule.pk:
        # Locked, so two saves at once number their versions one after the other.
        rule.version = (
            CommissionRule.objects.select_for_update()
            .filter(pk=rule.pk)
            .values_list("version", flat=True)
            .first()
            or 0
        ) + 1
    rule.save()
    cfg = current()
    _recheck_rules(cfg, saved=rule)  # raising rolls the save back
    check_worst_combination(cfg)
    CommissionRuleVersion.objects.create(
        rule=rule,
        version=rule.version,
        name=rule.name,
        target=_rule_target_text(rule)[:200],
        grade_name=rule.grade.name if rule.grade_id else "",
        kind=rule.kind,
        level1=rule.level1,
        level2=rule.level2,
        level3=rule.level3,
        is_active=rule.is_active,
        changed_by=staff,
    )
    return rule


@transaction.atomic
def save_grade(grade: DistributorGrade) -> DistributorGrade:
    check_grade(grade)
    if grade.is_default:
        DistributorGrade.objects.exclude(pk=grade.pk).filter(is_default=True).update(is_default=False)
    grade.save()
    cfg = current()
    _recheck_rules(cfg)  # raising rolls the save back
    check_worst_combination(cfg)
    return grade


@transaction.atomic
def save_tier(tier: SalesTier) -> SalesTier:
    tier.save()
    validate(current())  # raising rolls the new tier back
    return tier
