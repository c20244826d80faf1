from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "fenxiao.core"
    label = "core"
    verbose_name = "基础"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
