"""Each template on an empty shop gives the shop its description; a second run changes
nothing; a merchant's own change is kept as a conflict unless forced; a dry run writes
nothing."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

import fenxiao.shopsetup
from fenxiao.catalog.models import Product, Sku
from fenxiao.distribution.models import DistributionSettings, DistributorGrade, SettingsChange
from fenxiao.distribution.services import agreement, compliance, config
from fenxiao.shopsetup.models import SetupRecord
from fenxiao.shopsetup.services import items
from fenxiao.shopsetup.services import plan as setup
from fenxiao.stores.models import Store
from fenxiao.testing import make_staff, module_imports, package_modules

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("setup_shop", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    cfg = config.current()
    return {
        "settings": {f: getattr(cfg, f) for f in config.TRACKED if f != "condition_products"},
        "version": cfg.version,
        "changes": SettingsChange.objects.count(),
        "grades": list(DistributorGrade.objects.order_by("weight").values()),
        "products": Product.objects.count(),
        "stores": Store.objects.count(),
    }


def test_starter_sets_one_level_everyone_distributes():
    out = run("--template", "starter")
    cfg = config.current()
    assert cfg.levels == 1
    assert cfg.enable_mode == "everyone" and cfg.review_mode == "auto"
    assert cfg.level1_bp == 1000
    assert cfg.settlement_mode == "auto" and cfg.settlement_cycle == "daily"
    assert not DistributorGrade.objects.exists()
    assert Product.objects.count() == 0  # demo products only on request
    assert "分销层级: 2 → 1" in out and "[将修改 / Will change]" in out
    assert "分享海报" in out
    record = SetupRecord.objects.get()
    # levels, enable mode, review mode and the 分销商协议, which starts its version 1
    assert record.template == "starter" and record.changed_count == 4
    assert agreement.current().text == agreement.DEFAULT_TEXT
    # Through the distribution service: versioned and logged there too.
    change = SettingsChange.objects.get()
    assert change.changes["levels"] == [2, 1] and change.changes["enable_mode"] == ["apply", "everyone"]


def test_starter_demo_products_once():
    run("--template", "starter", "--demo-products")
    assert Product.objects.filter(is_listed=True, category__name="示例商品").count() == 3
    assert sorted(Sku.objects.values_list("price", flat=True)) == [3900, 5900, 12800]
    run("--template", "starter", "--demo-products")
    assert Product.objects.count() == 3


def test_smb_two_levels_grades_team_commission_weekly():
    run("--template", "smb")
    cfg = config.current()
    assert (cfg.levels, cfg.level1_bp, cfg.level2_bp) == (2, 1000, 500)
    assert cfg.enable_mode == "apply" and cfg.review_mode == "manual"
    assert cfg.settlement_mode == "auto" and cfg.settlement_cycle == "weekly"
    grades = {g.name: g for g in DistributorGrade.objects.all()}
    assert [g.name for g in DistributorGrade.objects.order_by("weight")] == ["普通", "高级", "金牌"]
    normal, senior, gold = grades["普通"], grades["高级"], grades["金牌"]
    assert normal.is_default and normal.level1_bp is None and normal.team_bp == 0
    assert all(getattr(normal, f) is None for f in DistributorGrade.CONDITION_FIELDS)  # by hand only
    assert (senior.level1_bp, senior.level2_bp, senior.team_bp) == (1200, 600, 100)
    # By sales alone, the team's included: never by how many were recruited.
    assert senior.logic == "any" and (senior.min_own_sales, senior.min_team_sales) == (500000, 2000000)
    assert (gold.level1_bp, gold.level2_bp, gold.team_bp) == (1500, 800, 200)
    assert gold.logic == "all" and (gold.min_own_sales, gold.min_team_sales) == (3000000, 10000000)
    assert not DistributorGrade.objects.filter(min_direct_team__gt=0).exists()
    recruiting = next(s for s in compliance.summary().sections if s.key == "recruiting")
    assert recruiting.ok, recruiting.explanation


def test_chain_designated_guides_latest_binding_monthly():
    out = run("--template", "chain")
    cfg = config.current()
    assert cfg.levels == 1 and cfg.enable_mode == "designated"
    assert cfg.bind_mode == "latest" and cfg.protect_days == 7
    assert cfg.level1_bp == 500
    assert cfg.settlement_mode == "auto" and cfg.settlement_cycle == "monthly"
    assert Store.objects.count() == 0 and "尚无门店" in out
    assert "POS 接口已开通：0/0 家门店已有接口密钥" in out
    run("--template", "chain", "--demo-products")
    store = Store.objects.get()
    assert store.pickup_enabled and not store.is_open  # closed until its address is real


def test_chain_sample_store_never_when_the_merchant_has_one():
    Store.objects.create(name="南京路店", province="上海市", city="上海市", address_detail="南京东路 1 号")
    out = run("--template", "chain", "--demo-products")
    assert list(Store.objects.values_list("name", flat=True)) == ["南京路店"]
    assert "已有 1 家门店" in out


@pytest.mark.parametrize("key", ["starter", "smb", "chain"])
def test_applying_twice_changes_nothing(key):
    run("--template", key, "--demo-products")
    before = snapshot()
    out = run("--template", key, "--demo-products")
    assert snapshot() == before
    assert "写入 0 项" in out
    second = SetupRecord.objects.order_by("-pk").first()
    assert second.changed_count == 0


def test_dry_run_writes_nothing():
    before = snapshot()
    out = run("--template", "smb", "--dry-run", "--demo-products")
    assert snapshot() == before
    assert not SetupRecord.objects.exists()
    assert "Dry run" in out and "结算周期: 日结 → 周结" in out and "将新建" in out


def test_merchant_change_is_a_conflict_kept_unless_forced():
    boss = make_staff(superuser=True)
    config.update_settings(boss, level1_bp=1500)  # the merchant's own rate
    out = run("--template", "starter")
    cfg = config.current()
    assert cfg.level1_bp == 1500  # kept
    assert cfg.levels == 1  # untouched settings still applied
    assert "商家已修改，跳过" in out and "--force" in out
    record = SetupRecord.objects.order_by("-pk").first()
    conflict = [r for r in record.changes if r["status"] == items.CONFLICT]
    assert [(r["key"], r["old"], r["new"]) for r in conflict] == [
        ("distribution.DistributionSettings.level1_bp", 1500, 1000)
    ]
    out = run("--template", "starter", "--force")
    assert config.current().level1_bp == 1000
    assert "覆盖商家修改" in out
    assert SetupRecord.objects.order_by("-pk").first().forced


def test_a_later_template_may_change_what_an_earlier_one_set():
    run("--template", "starter")  # levels 2 → 1 (set by a template, not the merchant)
    run("--template", "smb")
    assert config.current().levels == 2
    assert config.current().settlement_cycle == "weekly"


def test_merchant_edited_grade_rate_is_a_conflict():
    run("--template", "smb")
    gold = DistributorGrade.objects.get(name="金牌")
    gold.level1_bp = 1800
    config.save_grade(gold)
    plan = setup.build("smb")
    conflicts = {r.key: (r.current, r.new) for r in plan.conflicts}
    assert conflicts == {"grade:金牌.level1_bp": (1800, 1500)}
    setup.apply("smb")
    assert DistributorGrade.objects.get(name="金牌").level1_bp == 1800
    setup.apply("smb", confirmed={"grade:金牌.level1_bp"})  # the wizard's per-item confirmation
    assert DistributorGrade.objects.get(name="金牌").level1_bp == 1500


def test_merchant_grade_with_the_same_weight_gets_the_next_one():
    config.save_grade(DistributorGrade(name="银卡", weight=20))
    run("--template", "smb")
    assert DistributorGrade.objects.get(name="银卡").weight == 20
    assert DistributorGrade.objects.get(name="高级").weight == 21


def test_a_refusal_rolls_back_the_whole_application():
    """A merchant rule that the new rates would push over the guard: nothing is written."""
    boss = make_staff(superuser=True)
    config.update_settings(boss, max_commission_bp=2000)
    before = snapshot()
    with pytest.raises(Exception) as exc:
        setup.apply("smb")
    assert getattr(exc.value, "code", "") == "COMMISSION_RULE_EXCEEDS_GUARD"
    assert snapshot() == before
    assert not SetupRecord.objects.exists()


def test_features_not_installed_are_listed_not_applied():
    """The chain template's extension point: a setting or step of an app not installed
    reads "unavailable" and writes nothing."""
    missing = [
        items.Setting("stores.NoSuchSettings", "member_mode", "latest", label="会员归属"),
        items.Setting("distribution.DistributionSettings", "no_such_field", 1),
        items.Step("pos.keys", "POS 接口密钥", "fenxiao.stores.services.no_such.ensure_api_keys"),
    ]
    rows = [row for item in missing for row in item.rows({}, None)]
    assert [r.status for r in rows] == [items.UNAVAILABLE] * 3
    assert all(not r.writes for r in rows)


def test_step_extension_point_applies_an_idempotent_function(monkeypatch):
    from fenxiao.shopsetup import spec

    calls = []

    def ensure(apply, staff):
        if apply:
            calls.append(staff)
        return ("same", "已生成", "已生成") if calls else ("create", "未生成", "生成 POS 接口密钥")

    import fenxiao.shopsetup.services.checks as checks

    monkeypatch.setattr(checks, "ensure_keys", ensure, raising=False)
    step = items.Step("stores.pos_keys", "POS 接口密钥", "fenxiao.shopsetup.services.checks.ensure_keys")
    monkeypatch.setattr(spec.CHAIN, "items", [*spec.CHAIN.items, step])
    setup.apply("chain")
    setup.apply("chain")
    assert len(calls) == 1


def test_unknown_template_is_refused():
    with pytest.raises(Exception) as exc:
        setup.build("mall")
    assert exc.value.code == "SETUP_UNKNOWN_TEMPLATE" and exc.value.status == 404


def test_shopsetup_imports_no_app_above_it():
    root = Path(fenxiao.shopsetup.__file__).parent
    found = {
        str(p.relative_to(root)): [n for n in module_imports(p) if n.startswith("fenxiao.demo")]
        for p in package_modules(root, skip=("tests",))
    }
    assert {k: v for k, v in found.items() if v} == {}
    assert DistributionSettings.objects.count() <= 1


def test_chain_store_qr_settings_apply_when_the_store_settings_exist():
    """The chain template names the store-QR settings; on an installation without them they
    read "unavailable", with them they are applied like any other setting."""
    from django.apps import apps

    rows = {r.key: r for r in setup.build("chain").rows}
    names = ("bind_target", "override_binding", "member_mode", "pos_commission")
    keys = [f"stores.StoreSettings.{n}" for n in names]
    try:
        model = apps.get_model("stores", "StoreSettings")
    except LookupError:
        assert [rows[k].status for k in keys] == [items.UNAVAILABLE] * 4
        return
    setup.apply("chain")
    obj = model.objects.order_by("pk").first()
    assert (obj.bind_target, obj.override_binding, obj.member_mode, obj.pos_commission) == (
        "staff",
        True,
        "latest",
        True,
    )


def test_a_setting_of_another_settings_model_is_written_and_guarded():
    """The generic writer (settings models without a service): validated, saved, and a
    merchant's own value is a conflict."""
    from fenxiao.orders.models import OrderSettings

    item = items.Setting("orders.OrderSettings", "after_sale_days", 30)
    (row,) = item.rows({}, None)
    assert (row.current, row.new, row.status) == (15, 30, items.CHANGE)
    items.write_settings([row], None)
    assert OrderSettings.current().after_sale_days == 30
    settings_row = OrderSettings.current()
    settings_row.after_sale_days = 20
    settings_row.save()
    (row,) = item.rows({"orders.OrderSettings.after_sale_days": 30}, None)
    assert row.status == items.CONFLICT
