"""The distribution settings record: read it, change it (versioned and logged), guard rules."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.forms.models import model_to_dict

from ..errors import RuleExceedsGuard, RuleInvalid, SettingsInvalid, TooManyLevels
from ..models import (
    MAX_BIND_DAYS,
    MAX_FREEZE_DAYS,
    MAX_LEVELS,
    MAX_PROTECT_DAYS,
    BindMode,
    CommissionRule,
    CustomerBinding,
    DistributionSettings,
    DistributorGrade,
    PayoutMethod,
    RuleKind,
    SalesTier,
    SettingsChange,
)

TRACKED = [
    f.name
    for f in DistributionSettings._meta.concrete_fields
    if f.name not in ("id", "version", "updated_at")
]


def current() -> DistributionSettings:
    obj = DistributionSettings.objects.order_by("pk").first()
    if obj is None:
        # get_or_create on a fixed key: two first readers at once still make one record.
        obj, _ = DistributionSettings.objects.get_or_create(pk=1)
    return obj


DAY_BOUNDS = {
    "freeze_days": ("冻结期", 0, MAX_FREEZE_DAYS),
    "bind_days": ("绑定有效期", 1, MAX_BIND_DAYS),
    "protect_days": ("保护期", 0, MAX_PROTECT_DAYS),
}


def hold_until(completed_at):
    """When an order's commission may settle: after the freeze, and never before the
    buyer's after-sale window has closed, so a routine refund is a reduction, not a
    clawback. Both counts are bounded, so no stored value can overflow the date."""
    from fenxiao.orders.models import MAX_AFTER_SALE_DAYS, OrderSettings

    cfg = current()
    days = max(
        min(cfg.freeze_days, MAX_FREEZE_DAYS),
        min(OrderSettings.current().after_sale_days, MAX_AFTER_SALE_DAYS),
    )
    return completed_at + timedelta(days=days)


def validate(cfg: DistributionSettings) -> None:
    for name, (label, low, high) in DAY_BOUNDS.items():
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise SettingsInvalid(f"{label}必须是 {low}–{high} 天之间的整数")
    if cfg.levels < 1:
        raise SettingsInvalid("分销层级至少为 1 级")
    if cfg.levels > MAX_LEVELS:
        raise TooManyLevels()
    if cfg.max_commission_bp > 10000:
        raise SettingsInvalid("佣金上限不能超过 100%")
    if cfg.withdraw_min > cfg.withdraw_max:
        raise SettingsInvalid("最低提现金额不能高于最高提现金额")
    if cfg.withdraw_fee_bp >= 10000:
        raise SettingsInvalid("提现手续费必须低于 100%")
    unknown = set(cfg.withdraw_methods or []) - set(PayoutMethod.values)
    if unknown:
        raise SettingsInvalid("不支持的提现方式：" + "、".join(sorted(unknown)))
    default_sum = sum(cfg.level_bp(level) for level in range(1, cfg.levels + 1))
    bonus = SalesTier.objects.order_by("-bonus_bp").values_list("bonus_bp", flat=True).first() or 0
    if default_sum + bonus > cfg.max_commission_bp:
        raise RuleExceedsGuard("默认佣金比例合计（含阶梯奖励）超过单商品佣金上限")
    for grade in DistributorGrade.objects.all():
        check_grade(grade, cfg)
    _recheck_rules(cfg)


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
            raise RuleExceedsGuard(f"保存后规则“{rule.name}”会超过单商品佣金上限：{exc.message}") from exc


@transaction.atomic
def update_settings(staff, **changes) -> DistributionSettings:
    cfg = DistributionSettings.objects.select_for_update().get(pk=current().pk)
    before = model_to_dict(cfg, fields=TRACKED)
    for name, value in changes.items():
        if name not in TRACKED:
            raise SettingsInvalid(f"未知设置项：{name}")
        if name == "condition_products":
            continue
        setattr(cfg, name, value)
    validate(cfg)
    cfg.version += 1
    cfg.save()
    if "condition_products" in changes:
        cfg.condition_products.set(changes["condition_products"])
    after = model_to_dict(cfg, fields=TRACKED)
    diff = {k: [_plain(before[k]), _plain(after[k])] for k in TRACKED if before[k] != after[k]}
    SettingsChange.objects.create(version=cfg.version, changed_by=staff, changes=diff)
    if "bind_mode" in diff:
        _date_existing_bindings(cfg)
    return cfg


def _date_existing_bindings(cfg: DistributionSettings) -> None:
    """Bindings made under another bind mode get this mode's window from their bind time,
    so switching to 有效期 / 最新优先 does not leave every old binding open to a rebind."""
    if cfg.bind_mode == BindMode.EXPIRING:
        CustomerBinding.objects.filter(expires_at__isnull=True).update(
            expires_at=F("bound_at") + timedelta(days=cfg.bind_days)
        )
    elif cfg.bind_mode == BindMode.LATEST:
        CustomerBinding.objects.filter(protected_until__isnull=True).update(
            protected_until=F("bound_at") + timedelta(days=cfg.protect_days)
        )
    else:
        CustomerBinding.objects.update(expires_at=None, protected_until=None)


def _plain(value):
    if isinstance(value, list | tuple):
        return [getattr(v, "pk", v) for v in value]
    return value


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
    values = [rule.value(level) for level in range(1, cfg.levels + 1)]
    if all(v is None for v in values):
        raise RuleInvalid("请至少填写一个层级的佣金")
    # A level the rule leaves empty is still paid, at the rate it falls back to.
    fallback = sum(_fallback_bp(rule, level, cfg) for level, v in enumerate(values, start=1) if v is None)
    if rule.kind == RuleKind.RATE:
        total = sum(v or 0 for v in values) + fallback + _max_grade_extra(cfg.levels)
        if total > cfg.max_commission_bp:
            raise RuleExceedsGuard(
                f"该规则各级比例合计（含阶梯/团队奖励及未填层级沿用的比例）{total / 100:g}% "
                f"超过上限 {cfg.max_commission_bp / 100:g}%"
            )
        return
    price = _cheapest_price(rule)
    if price is None:
        return
    limit = price * cfg.max_commission_bp // 10000
    total = sum(v or 0 for v in values)
    bonus_bp = _max_grade_extra(cfg.levels) + fallback
    if total + price * bonus_bp // 10000 > limit:
        raise RuleExceedsGuard(f"固定佣金每件合计 ¥{total / 100:.2f} 超过最低售价的上限 ¥{limit / 100:.2f}")


def _fallback_bp(rule: CommissionRule, level: int, cfg: DistributionSettings) -> int:
    """The largest rate a level left empty on `rule` can fall back to: a rate rule further
    down the chain (the product of a SKU rule, the ancestor categories), any grade's rate,
    or the default."""
    from fenxiao.catalog.models import Category, Product, Sku

    rates = [cfg.level_bp(level)]
    rates += [
        bp for bp in DistributorGrade.objects.values_list(f"level{level}_bp", flat=True) if bp is not None
    ]
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
        raise RuleExceedsGuard(f"等级“{grade.name}”的佣金比例合计超过单商品佣金上限")


@transaction.atomic
def save_rule(rule: CommissionRule) -> CommissionRule:
    """Save a rule after the guard check; each change bumps its version."""
    targets = [rule.product_id, rule.sku_id, rule.category_id]
    if sum(1 for t in targets if t) != 1:
        raise RuleInvalid("规则必须且只能指定商品、SKU 或分类之一")
    check_rule(rule)
    if rule.pk:
        rule.version = (
            CommissionRule.objects.filter(pk=rule.pk).values_list("version", flat=True).first() or 0
        ) + 1
    rule.save()
    _recheck_rules(current(), saved=rule)  # raising rolls the save back
    return rule


@transaction.atomic
def save_grade(grade: DistributorGrade) -> DistributorGrade:
    check_grade(grade)
    if grade.is_default:
        DistributorGrade.objects.exclude(pk=grade.pk).filter(is_default=True).update(is_default=False)
    grade.save()
    _recheck_rules(current())  # raising rolls the save back
    return grade


@transaction.atomic
def save_tier(tier: SalesTier) -> SalesTier:
    tier.save()
    validate(current())  # raising rolls the new tier back
    return tier
