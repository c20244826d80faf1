"""The distribution settings record: read it, change it (versioned and logged); save
rules, grades and tiers, each through the guard (`commission_guard`)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
    SalesTier,
    SettingsChange,
)
from . import commission_guard

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
        commission_guard.check_grade(grade, cfg)
    commission_guard.recheck_rules(cfg)
    commission_guard.check_worst_combination(cfg)


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
    commission_guard.check_rule(rule)
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
    commission_guard.recheck_rules(cfg, saved=rule)  # raising rolls the save back
    commission_guard.check_worst_combination(cfg)
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
    commission_guard.check_grade(grade)
    if grade.is_default:
        DistributorGrade.objects.exclude(pk=grade.pk).filter(is_default=True).update(is_default=False)
    grade.save()
    cfg = current()
    commission_guard.recheck_rules(cfg)  # raising rolls the save back
    commission_guard.check_worst_combination(cfg)
    return grade


@transaction.atomic
def save_tier(tier: SalesTier) -> SalesTier:
    tier.save()
    validate(current())  # raising rolls the new tier back
    return tier
