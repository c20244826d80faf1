"""Backend pages for buyers and staff accounts, and the staff roles (groups)."""

import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR, SEARCH_VAR
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.db.models import BooleanField, Value
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from fenxiao.core.admin import ReadOnlyAdmin

from .backoffice.listing import full_phones, phone_text, with_phone_flag
from .backoffice.roles import PermissionsField, keep_ungranted, read_only_table
from .models import Address, SmsMessage, User
from .phones import mask_phone
from .services.staff import ROLE_DESCRIPTIONS

# The sidebar's 员工 entry (backend_nav) is this list filtered to staff accounts.
STAFF_FILTER = "is_staff__exact"


class LabelColours(dict):
    """Badge colours for unfold's `@display(label=...)`, keyed by (lazily translated)
    labels: a display method answers a label in the page's language, so the keys are
    compared as text in that language when looked up, never hashed once at import."""

    def __init__(self, pairs):
        super().__init__()
        self.pairs = list(pairs)

    def _colour(self, value):
        for label, colour in self.pairs:
            if str(label) == str(value):
                return colour
        raise KeyError(value)

    def __contains__(self, value):
        try:
            self._colour(value)
        except KeyError:
            return False
        return True

    def __getitem__(self, value):
        return self._colour(value)

    def __bool__(self):
        # unfold draws badges only for a truthy `label`; the pairs live outside the dict.
        return bool(self.pairs)


def roles_field():
    # A shop has a handful of roles: boxes, not Django's two-list picker.
    return forms.ModelMultipleChoiceField(
        Group.objects.order_by("name"),
        required=False,
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        label=gettext_lazy("员工角色"),
        help_text=gettext_lazy("员工拥有其各个角色的全部权限"),
    )


class StaffUserCreationForm(UserCreationForm):
    """An account added in the backend is a colleague's (buyers sign themselves up): it
    starts as 员工 with its roles chosen on the same page, ready to log in."""

    groups = roles_field()

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "phone", "nickname", "is_staff")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "is_staff" in self.fields:
            self.fields["is_staff"].initial = True


class StaffUserChangeForm(UserChangeForm):
    groups = roles_field()
    user_permissions = PermissionsField(
        label=gettext_lazy("单独授权"),
        help_text=gettext_lazy("角色之外单独给这名员工的权限；通常只需选择角色"),
    )

    class Meta(UserChangeForm.Meta):
        model = User

    def clean_user_permissions(self):
        return keep_ungranted(self.cleaned_data["user_permissions"], self.instance, "user_permissions")


class RoleForm(forms.ModelForm):
    permissions = PermissionsField(label=gettext_lazy("权限"))

    class Meta:
        model = Group
        fields = ("name", "permissions")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.name in ROLE_DESCRIPTIONS:
            # A preset role is set to its definition on every upgrade (services.staff): its
            # boxes are shown, not offered, rather than undone after the next migrate.
            for field in self.fields.values():
                field.disabled = True

    def clean_permissions(self):
        return keep_ungranted(self.cleaned_data["permissions"], self.instance, "permissions")


class AddressInline(TabularInline):
    model = Address
    fields = ("recipient", "phone_display", "full_address", "is_default", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    hide_title = True  # the row's columns are the address
    verbose_name_plural = pgettext_lazy("plural", "收货地址")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return with_phone_flag(super().get_queryset(request), request)

    @display(description=gettext_lazy("联系电话"))
    def phone_display(self, obj):
        return phone_text(obj.phone, full_phones(obj))

    @display(description=gettext_lazy("地址"))
    def full_address(self, obj):
        return obj.full_text


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = StaffUserChangeForm
    add_form = StaffUserCreationForm
    change_password_form = AdminPasswordChangeForm
    inlines = (AddressInline,)
    list_display = (
        "user_header",
        "phone_display",
        "is_staff",
        "is_active",
        "role_names",
        "date_joined",
        "last_login",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("phone", "username", "nickname")
    search_help_text = gettext_lazy("按手机号、登录名或昵称搜索")
    ordering = ("-id",)
    show_full_result_count = False
    readonly_fields = ("password_reset", "last_login", "date_joined")
    # The stored password (even its hash) is never shown: only a link to set a new one.
    fieldsets = (
        (None, {"fields": ("username", "password_reset")}),
        # The nickname is the name the backend shows; Western first / last names are not asked.
        (gettext_lazy("个人信息"), {"fields": ("phone", "nickname", "email")}),
        (
            gettext_lazy("权限"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups"),
                "description": gettext_lazy("员工需勾选“员工状态”才能登录后台；“运营”“财务”角色已预置权限"),
            },
        ),
        (gettext_lazy("单独授权"), {"fields": ("user_permissions",), "classes": ["collapse"]}),
        (gettext_lazy("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "phone", "nickname", "password1", "password2")}),
        (gettext_lazy("权限"), {"fields": ("is_staff", "groups")}),
    )

    def get_queryset(self, request):
        # Buyers' phones are masked here as on the 客户 pages for staff without
        # customers.view_customer_phone; the flag travels with the rows (shared admin object).
        full = request.user.has_perm("customers.view_customer_phone")
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(full_phone=Value(full, output_field=BooleanField()))
        )

    def changelist_view(self, request, extra_context=None):
        if request.GET.get(STAFF_FILTER) == "1":
            extra_context = {**self.staff_list_context(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def staff_list_context(self, request) -> dict:
        """The list filtered to staff is the 员工 page: its tab, title and trail say 员工, and
        its "N 条结果 (显示全部)" (shown only when a search or another filter narrows it)
        leads back to every staff account, not to every account, buyers included."""
        staff_url = f"{reverse('admin:customers_user_changelist')}?{STAFF_FILTER}=1"
        # Sorting, paging, the popup's own parameters narrow nothing; a search does.
        quiet = {STAFF_FILTER, PAGE_VAR, ERROR_FLAG, *IGNORED_PARAMS} - {SEARCH_VAR}
        return {
            "title": _("员工列表"),
            "staff_trail": [
                {
                    "link": reverse("admin:app_list", args=[self.opts.app_label]),
                    "title": self.opts.app_config.verbose_name,
                },
                {"link": staff_url, "title": _("员工")},
            ],
            "staff_list_url": staff_url,
            "staff_narrowed": any(value for key, value in request.GET.items() if key not in quiet),
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if (
            obj is not None
            and not obj.is_staff
            and not request.user.has_perm("customers.view_customer_phone")
        ):
            # The page title and breadcrumb name the account: a buyer's is their phone.
            shown = copy.copy(obj)
            shown.phone = mask_phone(obj.phone) if obj.phone else obj.phone
            if obj.username == obj.phone:
                shown.username = shown.phone
            context = {**context, "original": shown, "subtitle": str(shown)}
        return super().render_change_form(request, context, add, change, form_url, obj)

    @display(description=gettext_lazy("手机号"), ordering="phone")
    def phone_display(self, obj):
        if not obj.phone:
            return "-"
        return obj.phone if obj.is_staff or getattr(obj, "full_phone", False) else mask_phone(obj.phone)

    @display(description=gettext_lazy("手机号"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone) if obj and obj.phone else "-"

    def get_inlines(self, request, obj):
        if obj is None or (obj.is_staff and not obj.addresses.exists()):
            return ()  # a staff account that never bought: no empty 收货地址 table
        return self.inlines

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            # Only a superuser hands out powers: others add an account without them.
            return fieldsets if request.user.is_superuser else fieldsets[:1]
        replace = {}
        if not request.user.is_superuser:
            replace["user_permissions"] = "permissions_display"  # read-only, in Chinese
        if not self.has_change_permission(request, obj):
            replace["password_reset"] = None  # the link would only lead to a 403
            if not obj.is_staff and not request.user.has_perm("customers.view_customer_phone"):
                replace["phone"] = "masked_phone"
                if obj.username == obj.phone:
                    replace["username"] = "masked_phone"
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        replace.get(f, f) for f in options["fields"] if replace.get(f, f) is not None
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj)) + ["masked_phone"]
        if not request.user.is_superuser:
            # Only a superuser hands out powers; others cannot raise anyone's, even their own.
            fields += ["is_superuser", "is_staff", "groups", "user_permissions", "permissions_display"]
        return fields

    @display(description=gettext_lazy("单独授权"))
    def permissions_display(self, obj):
        return read_only_table(obj, "user_permissions")

    @display(description=gettext_lazy("密码"))
    def password_reset(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        url = reverse("admin:auth_user_password_change", args=[obj.pk])
        state = _("已设置") if obj.has_usable_password() else _("未设置（无法用密码登录）")
        return format_html(
            '{}　<a class="text-primary-600 dark:text-primary-500 font-medium" href="{}">{}</a>',
            state,
            url,
            _("重置密码"),
        )

    @display(description=gettext_lazy("用户"), header=True, ordering="username")
    def user_header(self, obj):
        # A buyer's username is their phone number: masked like the phone column.
        username = obj.username
        if not obj.is_staff and username == obj.phone and not getattr(obj, "full_phone", True):
            username = mask_phone(username)
        return [
            obj.nickname or username,
            username if obj.nickname else "",
            (obj.nickname or username)[:1],
            None,
        ]

    @display(description=gettext_lazy("角色"))
    def role_names(self, obj):
        names = [group.name for group in obj.groups.all()]
        if obj.is_superuser:
            names.insert(0, _("超级管理员"))
        return _("、").join(names) or "-"


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    # What a staff member who may only view roles sees in place of an editable field.
    READ_ONLY = {"permissions": "permissions_table"}
    actions = ("delete_selected",)  # this page's own: it refuses the preset roles

    form = RoleForm
    search_help_text = gettext_lazy("按角色名称搜索")
    list_display = ("name", "member_count")

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(member_count=Count("user"))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fieldsets = [
                (name, {**options, "fields": [self.READ_ONLY.get(f, f) for f in options["fields"]]})
                for name, options in fieldsets
            ]
        if obj is None or obj.name not in ROLE_DESCRIPTIONS:
            return fieldsets
        note = str(ROLE_DESCRIPTIONS[obj.name]) + _(
            "预置角色的权限在每次升级后恢复为系统定义；需要不同的权限组合请新建角色。"
        )
        return [(name, {**options, "description": note}) for name, options in fieldsets[:1]] + list(
            fieldsets[1:]
        )

    @display(description=gettext_lazy("成员数"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @display(description=gettext_lazy("权限"))
    def permissions_table(self, obj):
        return read_only_table(obj, "permissions")

    def has_delete_permission(self, request, obj=None):
        # A preset role comes back with every migrate: deleting it would only take it from
        # its members until the next upgrade.
        preset = obj is not None and obj.name in ROLE_DESCRIPTIONS
        return not preset and super().has_delete_permission(request, obj)

    @admin.action(permissions=["delete"], description=django_delete_selected.short_description)
    def delete_selected(self, request, queryset):
        presets = list(queryset.filter(name__in=ROLE_DESCRIPTIONS).values_list("name", flat=True))
        if presets:
            self.message_user(
                request,
                _("预置角色不能删除：%(names)s。它们在每次升级后恢复；不需要时取消员工的该角色即可。")
                % {"names": _("、").join(presets)},
                messages.ERROR,
            )
            return None
        return django_delete_selected(self, request, queryset)


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    """The SMS outbox; with the sandbox gateway, the only place a sent message exists; with
    a real one, where a message the gateway refused says why (最近错误).
    Superusers only (no staff role is given its permissions): it holds login codes."""

    list_display = (
        "id",
        "masked_phone",
        "purpose",
        "text",
        "status_label",
        "attempts",
        "last_error",
        "created_at",
    )
    list_filter = ("status", "purpose", "template", "gateway")
    search_fields = ("=phone",)
    search_help_text = gettext_lazy("按完整手机号搜索")
    fields = (
        "masked_phone",
        "purpose",
        "template",
        "text",
        "gateway",
        "status_label",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @display(description=gettext_lazy("手机号"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    @display(
        description=gettext_lazy("状态"),
        label=LabelColours(
            [
                (SmsMessage.Status.PENDING.label, "warning"),
                (SmsMessage.Status.SENT.label, "success"),
                (SmsMessage.Status.FAILED.label, "danger"),
            ]
        ),
    )
    def status_label(self, obj):
        return obj.get_status_display()


# The customer console (客户, 客户标签, 客户分群, 商城余额流水) registers its pages from its
# own modules.
from .backoffice import customers as _customers  # noqa: E402, F401
from .backoffice import segments as _segments  # noqa: E402, F401
from .backoffice import tags as _tags  # noqa: E402, F401
from .backoffice import wallet_entries as _wallet_entries  # noqa: E402, F401
