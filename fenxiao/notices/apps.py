from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "fenxiao.notices"
    label = "notices"
    verbose_name = "消息"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
