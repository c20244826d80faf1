from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ShippingConfig(AppConfig):
    name = "fenxiao.shipping"
    label = "shipping"
    verbose_name = pgettext_lazy("menu", "物流")
