"""The quick-setup wizard under /backend/setup/ (custom admin views before the catch-all)."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", admin.site.admin_view(views.wizard), name="shopsetup_wizard"),
    path("<str:key>/", admin.site.admin_view(views.plan_view), name="shopsetup_plan"),
]
