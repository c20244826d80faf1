"""The quick-setup templates, as data: what each one sets, creates and checks.

`services.plan` reads these lists; adding a setting to a template is one line here. Each
entry is tolerant of features not installed yet (see `services.items`), so the chain
template can already name what the stores helpers add.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from fenxiao.distribution.services import agreement

from .services import checks
from .services.items import Check, Grade, Setting, Step, fmt_bp, fmt_fen

DS = "distribution.DistributionSettings"
STORE_SETTINGS = "stores.StoreSettings"


def ds(name, value, **kw) -> Setting:
    return Setting(DS, name, value, **kw)


def fmt_terms(text) -> str:
    """分销商协议 in a plan row: named and measured, not printed whole."""
    if not text:
        return "—"
    if text == agreement.DEFAULT_TEXT:
        return _("推荐的分销商协议（%(count)s 字）") % {"count": len(text)}
    return _("自定义的分销商协议（%(count)s 字）") % {"count": len(text)}


# Every new shop starts with honest terms its distributors agree to (the merchant edits them).
TERMS = ds("agreement_text", agreement.DEFAULT_TEXT, fmt=fmt_terms)


@dataclass
class Template:
    key: str
    title: str
    subtitle: str
    points: list[str]
    items: list
    demo: list = field(default_factory=list)  # applied only with --demo-products


STARTER = Template(
    key="starter",
    title=_("初创"),
    subtitle=_("人人分销，一级佣金，开箱即用"),
    points=[
        _("每位注册买家自动成为分销商（人人分销），申请自动通过"),
        _("只有一级佣金：默认 10%"),
        _("佣金自动结算（日结），分享链接与海报即刻可用"),
        _("可选：添加 3 件示例商品"),
    ],
    items=[
        ds("levels", 1),
        ds("enable_mode", "everyone"),
        ds("review_mode", "auto"),
        ds("level1_bp", 1000, fmt=fmt_bp),
        ds("settlement_mode", "auto"),
        ds("settlement_cycle", "daily"),
        TERMS,
        Check("share.links", _("分享链接与二维码"), checks.share_links),
        Check("share.poster", _("分享海报"), checks.poster_font),
    ],
    demo=[Step("demo.products", _("示例商品"), "fenxiao.shopsetup.services.demo.demo_products")],
)

SMB = Template(
    key="smb",
    title=_("中小企业"),
    subtitle=_("两级分销，等级晋升，团队佣金，周结"),
    points=[
        _("两级佣金：一级 10%、二级 5%，分销商申请后人工审核"),
        _("分销等级 普通 / 高级 / 金牌，按个人推广销售额与团队销售额自动升级"),
        _("高级、金牌享团队佣金（直属团队销售额 +1% / +2%）"),
        _("佣金自动结算，每周结算一次"),
        _("经营概况首页展示核心指标与报表入口"),
    ],
    items=[
        ds("levels", 2),
        ds("enable_mode", "apply"),
        ds("review_mode", "manual"),
        ds("level1_bp", 1000, fmt=fmt_bp),
        ds("level2_bp", 500, fmt=fmt_bp),
        ds("settlement_mode", "auto"),
        ds("settlement_cycle", "weekly"),
        TERMS,
        Grade("普通", {"weight": 10, "is_default": True}),
        Grade(
            "高级",
            {
                "weight": 20,
                "level1_bp": 1200,
                "level2_bp": 600,
                "team_bp": 100,
                # Sales only: a grade reached by team size pays more for recruiting, which
                # 合规概览 flags (and the law calls 拉人头). The team's sales count instead.
                "logic": "any",
                "min_own_sales": 500000,
                "min_team_sales": 2000000,
            },
        ),
        Grade(
            "金牌",
            {
                "weight": 30,
                "level1_bp": 1500,
                "level2_bp": 800,
                "team_bp": 200,
                "logic": "all",
                "min_own_sales": 3000000,
                "min_team_sales": 10000000,
            },
        ),
        Check("dashboard.reports", _("经营概况报表"), checks.dashboard_reports),
    ],
    demo=[Step("demo.products", _("示例商品"), "fenxiao.shopsetup.services.demo.demo_products")],
)

CHAIN = Template(
    key="chain",
    title=_("线下连锁"),
    subtitle=_("门店自提，门店码绑定，导购分佣"),
    points=[
        _("商家指定门店员工为分销商（导购），一级佣金 5%"),
        _("买家扫门店码/导购码即绑定，最新扫码优先（7 天保护期）"),
        _("扫导购码绑定到该导购，顾客算最近扫码门店的会员"),
        _("门店默认支持到店自提"),
        _("会员在门店收银台消费（收银系统上报）也为其导购计佣"),
        _("佣金自动结算，每月结算一次"),
        _("可选：没有门店时新建一家示例门店"),
    ],
    items=[
        ds("levels", 1),
        ds("enable_mode", "designated"),
        ds("bind_mode", "latest"),
        ds("protect_days", 7),
        ds("level1_bp", 500, fmt=fmt_bp),
        ds("settlement_mode", "auto"),
        ds("settlement_cycle", "monthly"),
        TERMS,
        # Store QR binding (门店设置, from the store-QR feature): a scan binds to the 导购
        # whose personal code it was, re-binds under the latest-wins rule above, and the
        # buyer counts for the store they scanned last.
        Setting(STORE_SETTINGS, "bind_target", "staff"),
        Setting(STORE_SETTINGS, "override_binding", True),
        Setting(STORE_SETTINGS, "member_mode", "latest"),
        # Members' till sales (pushed by the store's POS) earn their 导购 commission too.
        Setting(STORE_SETTINGS, "pos_commission", True),
        Check("stores.count", _("门店"), checks.stores),
        Check("stores.pos", _("POS 接口"), checks.pos_keys),
        # A Setting on a model/field not installed, or a Step whose function is missing,
        # shows as "功能未安装" and is skipped.
    ],
    demo=[Step("demo.store", _("示例门店"), "fenxiao.shopsetup.services.demo.sample_store")],
)

TEMPLATES = {t.key: t for t in (STARTER, SMB, CHAIN)}
__all__ = ["TEMPLATES", "Template", "fmt_fen"]
