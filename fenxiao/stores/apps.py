from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "fenxiao.stores"
    label = "stores"
    verbose_name = "门店"
