from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class PaymentsConfig(AppConfig):
    name = "fenxiao.payments"
    label = "payments"
    verbose_name = pgettext_lazy("menu", "支付")

    def ready(self):
        # Payments sits above orders: orders reaches it only through this registration.
        from fenxiao.orders.services import payments_port

        from . import checks  # noqa: F401 - registers the system checks
        from .services import for_orders

        payments_port.register(for_orders)
