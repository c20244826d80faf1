"""生效时间: a settings or rule change set for later changes nothing until its time, then
takes effect through the same save (a new version); orders paid before keep the old rates."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fenxiao.core.errors import DomainError
from fenxiao.customers.services.staff import FINANCE, OPERATIONS, role_permissions
from fenxiao.distribution.models import (
    CommissionRule,
    DistributionSettings,
    RuleKind,
    ScheduledChange,
    ScheduledChangeStatus,
)
from fenxiao.distribution.services import config, scheduled
from fenxiao.distribution.tasks import apply_scheduled_changes
from fenxiao.testing import in_english, login, make_category, make_staff

from .helpers import bound_buyer, buy, commission, make_distributor, settings_data, sku, superuser, travel

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)


def test_a_settings_change_takes_effect_at_its_time_and_not_before(lamp):
    seller = make_distributor()
    staff = superuser()
    version = config.current().version
    change = scheduled.schedule_settings(staff, timezone.now() + HOUR, {"level1_bp": 1200})
    assert change.status == ScheduledChangeStatus.PENDING

    apply_scheduled_changes.call_local()  # not yet
    before = buy(bound_buyer(seller), (sku(lamp), 1))
    assert (config.current().level1_bp, commission(before, 1).amount) == (1000, 1000)

    with travel(2 * HOUR):
        apply_scheduled_changes.call_local()
        after = buy(bound_buyer(seller), (sku(lamp), 1))
    change.refresh_from_db()
    cfg = config.current()
    assert change.status == ScheduledChangeStatus.APPLIED and f"版本 {cfg.version}" in change.result
    assert (cfg.level1_bp, cfg.version) == (1200, version + 1)
    assert commission(after, 1).amount == 1200 and commission(after, 1).settings_version == cfg.version
    assert commission(before, 1).amount == 1000  # past commission is never rewritten
    assert scheduled.apply_due(timezone.now() + 3 * HOUR) == 0  # applied once


def test_a_rule_edit_takes_effect_at_its_time(lamp):
    seller = make_distributor()
    rule = config.save_rule(CommissionRule(name="台灯", product=lamp, kind=RuleKind.RATE, level1=1500))
    edited = CommissionRule.objects.get(pk=rule.pk)
    edited.level1, edited.is_active = 2000, True
    scheduled.schedule_rule(superuser(), edited, timezone.now() + HOUR, scheduled.rule_changes(edited))
    assert commission(buy(bound_buyer(seller), (sku(lamp), 1)), 1).amount == 1500
    scheduled.apply_due(timezone.now() + 2 * HOUR)
    rule.refresh_from_db()
    assert (rule.level1, rule.version) == (2000, 2)
    line = commission(buy(bound_buyer(seller), (sku(lamp), 1)), 1)
    assert (line.amount, line.rule_version) == (2000, 2)


def test_refused_when_scheduled_and_failed_when_the_shop_changed_since(lamp):
    staff = superuser()
    later = timezone.now() + HOUR
    with pytest.raises(DomainError) as over:
        scheduled.schedule_settings(staff, later, {"level1_bp": 6000})  # over the 50 % guard
    assert "上限" in over.value.message and not ScheduledChange.objects.exists()
    for when in (timezone.now() - HOUR, timezone.now() + timedelta(days=400)):
        with pytest.raises(DomainError) as bad_time:
            scheduled.schedule_settings(staff, when, {"level1_bp": 1200})
        assert bad_time.value.code == "EFFECTIVE_AT_INVALID"
    rule = config.save_rule(CommissionRule(name="台灯", product=lamp, kind=RuleKind.RATE, level1=1500))
    rule.product, rule.category = None, make_category("灯具")
    with pytest.raises(DomainError) as target:
        scheduled.schedule_rule(staff, rule, later, scheduled.rule_changes(rule))
    assert target.value.code == "RULE_FIELD"

    change = scheduled.schedule_settings(staff, later, {"level1_bp": 4000})
    config.update_settings(staff, max_commission_bp=3000)  # the guard tightened meanwhile
    scheduled.apply_due(later + HOUR)
    change.refresh_from_db()
    assert change.status == ScheduledChangeStatus.FAILED and "未能生效" in change.result
    assert config.current().level1_bp == 1000


def test_a_cancelled_change_never_applies():
    staff = superuser()
    change = scheduled.schedule_settings(staff, timezone.now() + HOUR, {"freeze_days": 15})
    scheduled.cancel(change, staff)
    with pytest.raises(DomainError):
        scheduled.cancel(change, staff)
    scheduled.apply_due(timezone.now() + 2 * HOUR)
    assert config.current().freeze_days != 15
    assert ScheduledChange.objects.get().status == ScheduledChangeStatus.CANCELLED


def test_the_backend_schedules_lists_and_cancels(lamp):
    operations = make_staff("ops")
    operations.user_permissions.set(role_permissions(OPERATIONS))
    client = login(operations)
    cfg = config.current()
    url = reverse("admin:distribution_distributionsettings_change", args=[cfg.pk])
    when = timezone.localtime(timezone.now() + timedelta(days=1))
    reply = client.post(
        url,
        settings_data(
            cfg, level1_bp="12", effective_at_0=f"{when:%Y-%m-%d}", effective_at_1=f"{when:%H:%M:%S}"
        ),
        follow=True,
    )
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "已安排于" in page and "待生效的变更" in page, page[:3000]
    change = ScheduledChange.objects.get()
    assert change.changes == {"level1_bp": 1200}
    assert DistributionSettings.objects.get().level1_bp == 1000  # nothing changed yet
    assert "默认一级佣金" in page and "12.00 %" in page

    listing = client.get(reverse("admin:distribution_scheduledchange_changelist"))
    assert listing.status_code == 200 and "待生效" in listing.content.decode()
    cancel = reverse("admin:distribution_scheduledchange_cancel", args=[change.pk])
    finance = make_staff("finance")
    finance.user_permissions.set(role_permissions(FINANCE))
    refused = login(finance).post(cancel, {})
    assert refused.status_code in (302, 403)
    assert ScheduledChange.objects.get().status == ScheduledChangeStatus.PENDING
    assert client.post(cancel, {}).status_code == 302
    assert ScheduledChange.objects.get().status == ScheduledChangeStatus.CANCELLED


def test_the_cancel_page_words_its_button_as_cancelling_a_change_in_either_language():
    """确认撤销 is also the buyer's button for withdrawing an after-sale (Withdraw); the
    scheduled change's page keeps its own sense in English."""
    staff = superuser()
    change = scheduled.schedule_settings(staff, timezone.now() + timedelta(days=1), {"level1_bp": 1200})
    cancel = reverse("admin:distribution_scheduledchange_cancel", args=[change.pk])
    assert "确认撤销" in login(staff).get(cancel).content.decode()
    client = in_english(login(staff))
    assert "Confirm cancellation" in client.get(cancel).content.decode()


def test_a_rule_edit_is_scheduled_from_the_rule_form(lamp):
    from .test_admin_rules import rule_data

    client = login(superuser())
    rule = config.save_rule(CommissionRule(name="台灯", product=lamp, kind=RuleKind.RATE, level1=1500))
    assert "生效时间" not in client.get(reverse("admin:distribution_commissionrule_add")).content.decode()
    url = reverse("admin:distribution_commissionrule_change", args=[rule.pk])
    when = timezone.localtime(timezone.now() + timedelta(days=2))
    reply = client.post(
        url,
        rule_data(
            name="台灯",
            product=lamp.pk,
            rate1="20",
            effective_at_0=f"{when:%Y-%m-%d}",
            effective_at_1="09:00:00",
        ),
        follow=True,
    )
    page = reply.content.decode()
    assert "已安排于" in page and "待生效的修改" in page
    assert "15.00 % / - / - → 20.00 % / - / -" in page
    change = ScheduledChange.objects.get()
    assert (change.rule_id, change.changes) == (rule.pk, {"level1": 2000})
    rule.refresh_from_db()
    assert (rule.level1, rule.version) == (1500, 1)  # unchanged until its time

    # Its target (a product here, a category now) is never changed at a set time.
    reply = client.post(
        url,
        rule_data(
            name="台灯",
            category=make_category("灯具").pk,
            rate1="15",
            effective_at_0=f"{when:%Y-%m-%d}",
            effective_at_1="09:00:00",
        ),
    )
    assert reply.status_code == 200 and "不能定时生效" in reply.content.decode()
    assert ScheduledChange.objects.count() == 1 and CommissionRule.objects.get().product_id == lamp.pk


def test_a_change_that_breaks_fails_alone_and_the_next_still_applies(lamp, monkeypatch):
    staff = superuser()
    rule = config.save_rule(CommissionRule(name="台灯", product=lamp, kind=RuleKind.RATE, level1=1500))
    broken = scheduled.schedule_rule(staff, rule, timezone.now() + HOUR, {"level1": 1800})
    later = scheduled.schedule_settings(staff, timezone.now() + 2 * HOUR, {"freeze_days": 9})
    real_save = config.save_rule

    def save_rule(rule, staff=None):
        raise ValueError("the grade it names is gone")

    monkeypatch.setattr(config, "save_rule", save_rule)
    assert scheduled.apply_due(timezone.now() + 3 * HOUR) == 2
    monkeypatch.setattr(config, "save_rule", real_save)
    broken.refresh_from_db()
    later.refresh_from_db()
    assert broken.status == ScheduledChangeStatus.FAILED and "未能生效" in broken.result
    assert later.status == ScheduledChangeStatus.APPLIED and config.current().freeze_days == 9
