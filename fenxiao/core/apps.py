from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class CoreConfig(AppConfig):
    name = "fenxiao.core"
    label = "core"
    verbose_name = pgettext_lazy("menu", "基础")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .admin import name_what_is_protected

        name_what_is_protected()
