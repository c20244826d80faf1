"""The two ready-made staff roles: 运营 (operations) and 财务 (finance)."""

from django.contrib.auth.models import Group, Permission

OPERATIONS = "运营"
FINANCE = "财务"

# app_label -> models whose every permission the role gets; "view" means view only.
ROLE_PERMISSIONS = {
    OPERATIONS: {
        "catalog": {"category": "all", "product": "all", "productimage": "all", "sku": "all"},
        "orders": {
            "order": "all",
            "orderline": "view",
            "orderevent": "view",
            "aftersale": "all",
            "aftersaleline": "view",
            "ordersettings": "view",
        },
        "customers": {"user": "view", "address": "view"},
        "payments": {"payment": "view"},
    },
    FINANCE: {
        "orders": {
            "order": "view",
            "orderline": "view",
            "orderevent": "view",
            "aftersale": "all",
            "aftersaleline": "view",
            "ordersettings": "all",
        },
        "payments": {"payment": "view", "refund": "view", "paymentnotification": "view"},
        "catalog": {"product": "view", "sku": "view"},
    },
}


def ensure_staff_groups() -> None:
    """Create or refresh the staff roles; safe to run after every migration."""
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for app_label, models in apps.items():
            for model, scope in models.items():
                perms = Permission.objects.filter(
                    content_type__app_label=app_label, content_type__model=model
                )
                if scope == "view":
                    perms = perms.filter(codename__startswith="view_")
                wanted.extend(perms)
        group.permissions.add(*wanted)
