from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "fenxiao.notices"
    label = "notices"
    verbose_name = _("消息")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
