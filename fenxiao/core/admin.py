"""Backend building blocks shared by every app's admin."""

from unfold.admin import ModelAdmin, TabularInline


class _NoEditing:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(_NoEditing, ModelAdmin):
    """Records, never edited as forms: changes happen through actions that call services."""

    show_full_result_count = False


class ReadOnlyInline(_NoEditing, TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
