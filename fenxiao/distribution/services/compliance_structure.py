"""The compliance summary's sections on structure: the team tree's depth against the levels
paid (one recursive query), and the settings and rule change history."""

from django.db import connection
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import MAX_LEVELS, CommissionRuleVersion, Distributor, DistributorStatus, SettingsChange
from .compliance_figures import Figure, Section

# The recruiting tree is walked at most this deep: far beyond any real team, and a bound
# that keeps the walk finite even if a cycle were ever written past the services.
TREE_WALK_LIMIT = 1000


# --- 5. team structure ---------------------------------------------------------------------------


def _tree_depths() -> dict:
    """The recruiting tree walked from its roots in one recursive query: the deepest level,
    how many distributors sit at the 4th level or below, and how many were reached."""
    table = connection.ops.quote_name(Distributor._meta.db_table)
    sql = f"""
        WITH RECURSIVE tree (id, depth) AS (
            SELECT id, 1 FROM {table} WHERE parent_id IS NULL
            UNION ALL
            SELECT child.id, tree.depth + 1 FROM {table} child
            JOIN tree ON child.parent_id = tree.id
            WHERE tree.depth < %s
        )
        SELECT COALESCE(MAX(depth), 0), COUNT(*), COALESCE(SUM(CASE WHEN depth > %s THEN 1 ELSE 0 END), 0)
        FROM tree
    """  # noqa: S608 - the table name comes from the model, quoted; the rest are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [TREE_WALK_LIMIT, MAX_LEVELS])
        depth, reached, below = cursor.fetchone()
    return {"depth": int(depth), "reached": int(reached), "below": int(below)}


def team(cfg) -> Section:
    rows = {
        row["status"]: row
        for row in Distributor.objects.order_by()
        .values("status")
        .annotate(n=Count("pk"), with_parent=Count("pk", filter=Q(parent__isnull=False)))
    }
    total = sum(r["n"] for r in rows.values())
    figures = [
        Figure(
            _("分销商：%(status)s") % {"status": status.label}, count=rows.get(status.value, {}).get("n", 0)
        )
        for status in DistributorStatus
    ]
    figures.append(Figure(_("有上级（推荐人）的分销商"), count=sum(r["with_parent"] for r in rows.values())))
    tree = _tree_depths()
    unreachable = total - tree["reached"]
    figures += [
        Figure(_("招募关系树最深层数"), count=tree["depth"], note=_("从没有上级的分销商算起为第 1 层")),
        Figure(
            _("处于第 %(depth)s 层及以下的分销商") % {"depth": MAX_LEVELS + 1},
            count=tree["below"],
            note=_("他们成交的订单也只向上计佣 %(levels)s 级") % {"levels": cfg.levels},
        ),
        Figure(_("计佣层级（设置）"), count=cfg.levels, note=_("每笔订单最多向上几级发放佣金")),
        Figure(
            _("无法追溯到顶层的分销商（疑似循环关系）"),
            count=unreachable,
            note=_("应为 0：绑定和招募时拒绝形成循环"),
            alert=unreachable > 0,
        ),
    ]
    ok = unreachable == 0
    if ok:
        explanation = _(
            "招募关系树最深 %(depth)s 层，但每笔订单只向上计佣 %(levels)s 级（最多 3 级）："
            "关系树的深度不是计佣深度。"
        ) % {"depth": tree["depth"], "levels": cfg.levels}
    else:
        explanation = _("%(count)s 位分销商的上级关系无法追溯到顶层，可能存在循环，请核查。") % {
            "count": unreachable
        }
    notes = [
        _(
            "订单的佣金归属在下单时确定：一级为绑定的分销商，二级、三级为其上级、上上级，"
            "不论关系树有多深，都不会超过设置的层级。"
        ),
    ]
    return Section("team", _("五、团队结构"), ok, explanation, figures, notes)


# --- 6. rule and settings history -------------------------------------------------------------------


def history(cfg) -> Section:
    changes = SettingsChange.objects.aggregate(n=Count("pk"), last=Max("created_at"), top=Max("version"))
    rule_versions = CommissionRuleVersion.objects.count()
    # Every save raises the version by one and logs one change, from version 1.
    missing = max(cfg.version - 1 - changes["n"], 0)
    figures = [
        Figure(_("当前分销设置版本"), text=f"v{cfg.version}"),
        Figure(
            _("设置变更记录"),
            count=changes["n"],
            note=_("最近一次：%(at)s") % {"at": f"{timezone.localtime(changes['last']):%Y-%m-%d %H:%M}"}
            if changes["last"]
            else _("尚无变更"),
        ),
        Figure(
            _("缺失的设置变更记录"),
            count=missing,
            note=_("应为 0：每次保存设置都会留下一条变更记录"),
            alert=missing > 0,
        ),
        Figure(_("佣金规则版本记录"), count=rule_versions, note=_("每次保存规则都保留当时的版本")),
    ]
    ok = missing == 0
    if ok:
        explanation = _(
            "分销设置当前为 v%(version)s，共 %(count)s 次变更均有记录；"
            "每笔佣金都记录了计算时的规则、规则版本和设置版本。"
        ) % {"version": cfg.version, "count": changes["n"]}
    else:
        explanation = _(
            "设置版本为 v%(version)s，但只有 %(count)s 条变更记录，有 %(missing)s 次变更未留痕。"
        ) % {"version": cfg.version, "count": changes["n"], "missing": missing}
    notes = [
        _(
            "分销等级和阶梯奖励的修改不单独留版本（后台操作日志仍有记录）；"
            "每笔佣金保存了当时的等级名称、比例、阶梯奖励和团队佣金比例。"
        )
    ]
    return Section("history", _("六、规则与设置变更记录"), ok, explanation, figures, notes)
