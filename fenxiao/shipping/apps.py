from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "fenxiao.shipping"
    label = "shipping"
    verbose_name = "物流"
