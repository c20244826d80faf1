"""Backend actions must name permissions by method, never as "app.codename".

unfold's system check looks dotted names up in auth_permission, which does not exist yet on
a fresh database: `manage.py migrate` itself would crash before creating it.
"""

from django.contrib import admin


def test_no_backend_action_names_a_dotted_permission():
    offenders = []
    for model_admin in admin.site._registry.values():
        actions = [
            *model_admin._get_base_actions_list(),
            *model_admin._get_base_actions_detail(),
            *model_admin._get_base_actions_row(),
            *model_admin._get_base_actions_submit_line(),
        ]
        for action in actions:
            for permission in getattr(action.method, "allowed_permissions", ()):
                if "." in permission:
                    offenders.append(f"{type(model_admin).__name__}.{action.action_name}: {permission}")
    assert offenders == []
