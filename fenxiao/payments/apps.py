from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "fenxiao.payments"
    label = "payments"
    verbose_name = "支付"
