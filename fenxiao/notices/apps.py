from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "fenxiao.notices"
    label = "notices"
    verbose_name = "消息"
