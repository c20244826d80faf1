from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class StorefrontConfig(AppConfig):
    name = "fenxiao.storefront"
    label = "storefront"
    verbose_name = pgettext_lazy("menu", "店铺装修")
