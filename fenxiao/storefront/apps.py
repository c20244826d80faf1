from django.apps import AppConfig


class StorefrontConfig(AppConfig):
    name = "fenxiao.storefront"
    label = "storefront"
    verbose_name = "店铺装修"
