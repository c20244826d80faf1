from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "fenxiao.orders"
    label = "orders"
    verbose_name = _("订单")

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
