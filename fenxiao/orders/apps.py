from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class OrdersConfig(AppConfig):
    name = "fenxiao.orders"
    label = "orders"
    verbose_name = pgettext_lazy("menu", "订单")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
