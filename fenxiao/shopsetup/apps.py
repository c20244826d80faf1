from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class ShopSetupConfig(AppConfig):
    name = "fenxiao.shopsetup"
    label = "shopsetup"
    verbose_name = pgettext_lazy("menu", "快速开店")

    def ready(self):
        # The backend home (analytics, below this app) links to the wizard on a fresh shop
        # through a hook it owns, so analytics never imports this app.
        from fenxiao.analytics.admin import views as dashboard

        from .views import dashboard_prompt

        dashboard.register_prompt(dashboard_prompt)
