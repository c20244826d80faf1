from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class WebhooksConfig(AppConfig):
    name = "fenxiao.webhooks"
    label = "webhooks"
    verbose_name = pgettext_lazy("menu", "开发者")
