from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "fenxiao.orders"
    label = "orders"
    verbose_name = "订单"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
