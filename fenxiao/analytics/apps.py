from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class AnalyticsConfig(AppConfig):
    name = "fenxiao.analytics"
    label = "analytics"
    verbose_name = pgettext_lazy("menu", "数据")
