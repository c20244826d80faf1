from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "fenxiao.webhooks"
    label = "webhooks"
    verbose_name = "开发者"
