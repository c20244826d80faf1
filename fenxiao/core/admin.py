"""Backend building blocks shared by every app's admin."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display

from .money import format_fen


def change_url(obj) -> str:
    """The backend change page of `obj`."""
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def user_text(user) -> str:
    """A person as staff see them, with the full phone number (the H5 pages mask it)."""
    if user is None:
        return "-"
    if user.phone and user.nickname:
        return f"{user.nickname}（{user.phone}）"
    return user.phone or user.nickname or user.username


def fen_column(description: str, *, field: str = "amount", ordering: str | None = None):
    """A list or detail column showing an integer fen `field` as money ("¥12.34")."""

    @display(description=description, ordering=ordering)
    def column(self, obj):
        return format_fen(getattr(obj, field))

    return column


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


class DetailActionsMixin:
    """For a ModelAdmin whose detail-page actions depend on the record's state.

    `detail_actions_for(obj)` names the actions (by method name) a record offers; a record
    that cannot be found offers none. `find_object` never raises on a malformed id, and
    `object_or_404` answers a missing record with a 404 saying `missing_message`.
    """

    missing_message = "记录不存在"

    def detail_actions_for(self, obj) -> set[str]:
        raise NotImplementedError

    def get_actions_detail(self, request, object_id):
        actions = super().get_actions_detail(request, object_id)
        obj = self.find_object(request, object_id)
        if obj is None:
            return []
        allowed = self.detail_actions_for(obj)
        return [a for a in actions if getattr(a.method, "original_function_name", "") in allowed]

    def find_object(self, request, object_id):
        try:
            return self.get_object(request, object_id)
        except (ValueError, ValidationError):
            return None

    def object_or_404(self, request, object_id):
        obj = self.find_object(request, object_id)
        if obj is None:
            raise Http404(self.missing_message)
        return obj
