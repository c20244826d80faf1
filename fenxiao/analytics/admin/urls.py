"""The report pages and their exports, under /backend/ next to the model pages."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("<str:key>/", admin.site.admin_view(views.report_view), name="analytics_report"),
    path(
        "<str:key>/export/<str:fmt>/",
        admin.site.admin_view(views.export_view),
        name="analytics_report_export",
    ),
]
