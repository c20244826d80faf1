"""生效时间: settings and rule changes that take effect at a set time.

A change is checked when it is scheduled (it runs through the same save, inside a
savepoint that is always rolled back), kept as a row, and applied by the minute sweeper
(`tasks.apply_scheduled_changes`) through that save again, since the shop may have changed
meanwhile: one that no longer passes (the guard, say) is marked 未能生效 with the reason,
and nothing changes. Each applied change is a new settings or rule version, so every
commission keeps naming the version it was computed with: an order paid before the time
keeps the old rates, one paid after gets the new ones.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.errors import DomainError, InvalidInput

from ..models import SCHEDULED_CHANGE_FLOW, CommissionRule, ScheduledChange, ScheduledChangeStatus
from . import config

# A change is at least this far ahead (an earlier one is simply saved now) and at most a year.
MIN_AHEAD = timedelta(minutes=1)
MAX_AHEAD = timedelta(days=366)
# What of a rule may change at a set time: its target (product, SKU, category) may not.
RULE_FIELDS = ("name", "kind", "level1", "level2", "level3", "is_active", "grade_id")
DUE_BATCH = 100
logger = logging.getLogger(__name__)

Target = ScheduledChange.Target


def _check_time(effective_at, now) -> None:
    if effective_at is None or effective_at < now + MIN_AHEAD:
        raise InvalidInput(_("生效时间须晚于当前时间；立即生效请直接保存"), code="EFFECTIVE_AT_INVALID")
    if effective_at > now + MAX_AHEAD:
        raise InvalidInput(_("生效时间最多可设在一年以内"), code="EFFECTIVE_AT_INVALID")


def _apply_rule(rule: CommissionRule, changes: dict, staff) -> CommissionRule:
    for name, value in changes.items():
        setattr(rule, name, value)
    return config.save_rule(rule, staff=staff)


@transaction.atomic
def schedule_settings(staff, effective_at, changes: dict, now=None) -> ScheduledChange:
    """The distribution settings get `changes` at `effective_at`."""
    _check_time(effective_at, now or timezone.now())
    values = {name: config.plain(value) for name, value in changes.items()}
    if not values:
        raise InvalidInput(_("没有需要定时生效的修改"), code="NO_CHANGES")
    config.dry_run(lambda: config.update_settings(staff, **values))
    return ScheduledChange.objects.create(
        target=Target.SETTINGS, changes=values, effective_at=effective_at, created_by=staff
    )


@transaction.atomic
def schedule_rule(staff, rule: CommissionRule, effective_at, changes: dict, now=None) -> ScheduledChange:
    """Rule `rule` gets `changes` (RULE_FIELDS) at `effective_at`."""
    _check_time(effective_at, now or timezone.now())
    check_rule_changes(changes)
    fresh = CommissionRule.objects.get(pk=rule.pk)
    config.dry_run(lambda: _apply_rule(fresh, changes, staff))
    return ScheduledChange.objects.create(
        target=Target.RULE, rule=rule, changes=changes, effective_at=effective_at, created_by=staff
    )


def check_rule_changes(changes: dict) -> None:
    """A rule's target (product, SKU, category) is changed at once, never at a set time."""
    if set(changes) - set(RULE_FIELDS):
        raise InvalidInput(_("适用范围（商品、SKU、分类）的修改不能定时生效，请立即保存"), code="RULE_FIELD")
    if not changes:
        raise InvalidInput(_("没有需要定时生效的修改"), code="NO_CHANGES")


def rule_changes(rule: CommissionRule) -> dict:
    """What an edited, unsaved `rule` changes of the stored one (RULE_FIELDS and the
    target fields, so a target change is refused rather than dropped)."""
    stored = CommissionRule.objects.get(pk=rule.pk)
    names = (*RULE_FIELDS, "product_id", "sku_id", "category_id")
    return {name: getattr(rule, name) for name in names if getattr(rule, name) != getattr(stored, name)}


@transaction.atomic
def cancel(change: ScheduledChange, staff) -> ScheduledChange:
    who = getattr(staff, "username", "") or "系统"
    SCHEDULED_CHANGE_FLOW.move(
        change, ScheduledChangeStatus.CANCELLED, stale=_("该变更已生效或已撤销"), result=f"已由 {who} 撤销"
    )
    return change


def apply_due(now=None) -> int:
    """Apply every pending change whose time has come, oldest first, each in its own
    transaction (another sweeper skips the one being applied). Returns how many ran."""
    now = now or timezone.now()
    due = ScheduledChange.objects.filter(status=ScheduledChangeStatus.PENDING, effective_at__lte=now)
    ran = 0
    while ids := list(due.order_by("effective_at", "pk").values_list("pk", flat=True)[:DUE_BATCH]):
        for pk in ids:
            ran += _apply_one(pk, now)
        if len(ids) < DUE_BATCH:
            break
    return ran


def _apply_one(pk: int, now) -> int:
    with transaction.atomic():
        change = (
            ScheduledChange.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("created_by")
            .filter(pk=pk, status=ScheduledChangeStatus.PENDING)
            .first()
        )
        if change is None:
            return 0
        staff = change.created_by
        try:
            with transaction.atomic():
                if change.target == Target.SETTINGS:
                    done = f"已生效：分销设置版本 {config.update_settings(staff, **change.changes).version}"
                else:
                    rule = CommissionRule.objects.select_for_update().get(pk=change.rule_id)
                    done = f"已生效：规则版本 {_apply_rule(rule, change.changes, staff).version}"
        except DomainError as exc:
            # The shop changed since it was scheduled (the guard, say): nothing is applied.
            _finish(change, ScheduledChangeStatus.FAILED, f"未能生效：{exc.message}", now)
        except Exception:
            # Anything else (a grade it names deleted since): this change fails, alone, and
            # the ones after it still apply.
            logger.exception("scheduled change %s could not be applied", change.pk)
            _finish(change, ScheduledChangeStatus.FAILED, "未能生效：所引用的记录已变化，请重新设置", now)
        else:
            _finish(change, ScheduledChangeStatus.APPLIED, done, now)
    return 1


def _finish(change: ScheduledChange, status: str, result: str, now) -> None:
    SCHEDULED_CHANGE_FLOW.move(change, status, result=result[:300], applied_at=now)


def pending_for(target: str, rule=None):
    changes = ScheduledChange.objects.filter(target=target, status=ScheduledChangeStatus.PENDING)
    return changes.filter(rule=rule) if rule is not None else changes
