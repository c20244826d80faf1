"""What a 员工角色 (or one staff member) may do, as a table a merchant can read: the pages
grouped by module, one row per page (商品, 订单 …) with a box for 查看 / 新增 / 修改 / 删除,
and the special permissions (核销自提订单, 查看客户完整手机号, each report) by their names.

Django's picker listed some 500 "app | model | action" lines in a four-line box, and named
every report permission alike (数据 | 每日销售 | 查看). Tables no backend page shows (the
framework's own, counters, daily aggregates) are not offered: nobody grants them, and
whatever a role already holds there is kept when it is saved.
"""

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import CHECKBOX_CLASSES

ACTIONS = (("view", _("查看")), ("add", _("新增")), ("change", _("修改")), ("delete", _("删除")))
_NOT_GRANTED = Q(content_type__app_label__in=("admin", "contenttypes", "sessions")) | Q(
    content_type__app_label="auth", content_type__model="permission"
)


def grantable():
    return Permission.objects.exclude(_NOT_GRANTED).select_related("content_type")


def sections(permissions, chosen: set[int]) -> list[dict]:
    """[{"title", "rows": [{"label", "cells": [box or None per action], "others": [box]}],
    "chosen", "total"}] in the order the apps and their models are declared.

    A page is a model the backend shows; a table no page shows (短信验证码, 报表刷新进度 …)
    offers only its special permissions, gathered in its module's 专项权限 row (the reports'
    permissions live on one of the report tables)."""
    rows: dict[tuple[str, str], dict] = {}
    special: dict[str, list[dict]] = {}
    for permission in permissions:
        model = permission.content_type.model_class()
        if model is None:  # a model since removed: nothing left to grant on it
            continue
        opts = model._meta
        box = {"id": permission.pk, "checked": permission.pk in chosen}
        action = permission.codename.removesuffix(f"_{opts.model_name}")
        standard = action in dict(ACTIONS) and permission.codename == f"{action}_{opts.model_name}"
        if not admin.site.is_registered(model):
            if not standard:
                special.setdefault(opts.app_label, []).append({**box, "label": gettext(permission.name)})
            continue
        row = rows.setdefault((opts.app_label, opts.model_name), {"actions": {}, "others": []})
        if standard:
            row["actions"][action] = box
        else:
            row["others"].append({**box, "label": gettext(permission.name)})
    out = []
    for config in apps.get_app_configs():
        section_rows = [
            {
                "label": model._meta.verbose_name_plural,
                "cells": [
                    {**row["actions"][action], "action": label} if action in row["actions"] else None
                    for action, label in ACTIONS
                ],
                "others": row["others"],
            }
            for model in config.get_models()
            if (row := rows.get((config.label, model._meta.model_name)))
        ]
        if config.label in special:
            section_rows.append(
                {"label": _("专项权限"), "cells": [None] * len(ACTIONS), "others": special[config.label]}
            )
        if not section_rows:
            continue
        boxes = [b for r in section_rows for b in [*filter(None, r["cells"]), *r["others"]]]
        out.append(
            {
                "title": config.verbose_name,
                "rows": section_rows,
                "chosen": sum(b["checked"] for b in boxes),
                "total": len(boxes),
            }
        )
    return out


def offered(permissions) -> set[int]:
    return {
        b["id"]
        for s in sections(permissions, set())
        for r in s["rows"]
        for b in [*filter(None, r["cells"]), *r["others"]]
    }


class PermissionMatrix(forms.CheckboxSelectMultiple):
    template_name = "admin/customers/permission_matrix.html"

    def get_context(self, name, value, attrs):
        context = forms.Widget.get_context(self, name, value, attrs)  # no per-option widgets
        chosen = {int(v) for v in value or () if str(v).isdigit()}
        context["widget"].update(
            {
                "sections": sections(self.choices.queryset, chosen),
                "actions": [label for _action, label in ACTIONS],
                "checkbox_class": " ".join(CHECKBOX_CLASSES),
            }
        )
        return context


class PermissionsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(queryset=grantable(), widget=PermissionMatrix, **kwargs)


def read_only_table(holder, field: str) -> str:
    """The table with `holder`'s boxes ticked and none offered: what a staff member who may
    only look sees, instead of Django's "app | model | Can …" line for each permission."""
    chosen = list(getattr(holder, field).values_list("pk", flat=True)) if holder and holder.pk else []
    return PermissionsField().widget.render(f"{field}_shown", chosen, attrs={"disabled": True})


def keep_ungranted(chosen, holder, field: str):
    """What the form chose among the boxes, plus what `holder` already held that the table
    does not offer (so saving a role never drops a permission nobody could see)."""
    shown = offered(grantable())
    kept = [p for p in chosen if p.pk in shown]
    if holder is None or holder.pk is None:
        return kept
    return kept + list(getattr(holder, field).exclude(pk__in=shown))
