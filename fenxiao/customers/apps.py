from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import pgettext_lazy


class CustomersConfig(AppConfig):
    name = "fenxiao.customers"
    label = "customers"
    verbose_name = pgettext_lazy("menu", "客户与账号")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks

        # The roles reference permissions, which Django creates per app after migrating;
        # refreshing after every app's post_migrate picks up each app's permissions.
        post_migrate.connect(_ensure_groups, dispatch_uid="fenxiao_staff_groups")
        # The automatic tags (新客, 回头客, 高消费, 沉睡) always exist; thresholds are edited.
        post_migrate.connect(_ensure_rule_tags, sender=self, dispatch_uid="fenxiao_rule_tags")
        # The backend login counts attempts like every other login (services/limits.py).
        from django.contrib import admin

        from .forms import BackendLoginForm

        admin.site.login_form = BackendLoginForm
        # Each sign-in to a session (the H5 pages) notes its device for the abuse guards.
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_device, dispatch_uid="fenxiao_sign_in_device")


def _ensure_groups(sender, **kwargs):
    from .services.staff import ensure_staff_groups

    ensure_staff_groups()


def _ensure_rule_tags(sender, **kwargs):
    from .services.tags import ensure_rule_tags

    ensure_rule_tags()


def _remember_device(sender, request, user, **kwargs):
    from .services.devices import remember

    if request is not None:
        remember(user, request)
