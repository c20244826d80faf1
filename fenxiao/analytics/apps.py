from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "fenxiao.analytics"
    label = "analytics"
    verbose_name = "数据"
