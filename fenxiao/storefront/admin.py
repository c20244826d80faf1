from django.contrib import admin
from django.utils.translation import gettext_lazy
from unfold.admin import ModelAdmin

from .models import Banner


@admin.register(Banner)
class BannerAdmin(ModelAdmin):
    list_display = ("title", "subtitle", "link", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("title",)
    search_help_text = gettext_lazy("按轮播图标题搜索")
