from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class DistributionConfig(AppConfig):
    name = "fenxiao.distribution"
    label = "distribution"
    verbose_name = pgettext_lazy("menu", "分销")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .services import simulation

        simulation.register()  # 佣金模拟 as a background job kind
