from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class NoticesConfig(AppConfig):
    name = "fenxiao.notices"
    label = "notices"
    verbose_name = pgettext_lazy("menu", "消息")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
