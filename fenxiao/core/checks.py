"""System checks: running several nodes, and backend pages that must hold any input."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register()
def secrets_shared_by_every_node(app_configs, **kwargs):
    """With REDIS_URL set, web servers and consumers may run on several machines; a secret
    generated into one machine's var/secrets.json differs on the next, and sessions, CSRF
    tokens and sandbox signatures made on one node fail on another."""
    local = getattr(settings, "LOCAL_SECRETS", [])
    if not (settings.REDIS_URL and local):
        return []
    return [
        Warning(
            f"{', '.join(local)} generated in this machine's var/secrets.json while REDIS_URL is set.",
            hint="Several nodes need the same secrets: set them in every node's environment.",
            id="fenxiao.W001",
        )
    ]


@register()
def private_files_shared_with_media(app_configs, **kwargs):
    """Media on a shared store (several nodes) with the private store on this machine's disk:
    after-sale photos uploaded through one node could not be shown by another."""
    if not (settings.MEDIA_STORAGE and settings.STORAGES["private"]["BACKEND"].endswith("FileSystemStorage")):
        return []
    return [
        Warning(
            "MEDIA_STORAGE is a shared store but the private store (after-sale photos) is this "
            "machine's var/private/.",
            hint="With several nodes set PRIVATE_STORAGE (and PRIVATE_STORAGE_OPTIONS) to a shared "
            "store that is not public, before upgrading moves the photos there.",
            id="fenxiao.W002",
        )
    ]


@register(Tags.admin)
def autocomplete_survives_posted_values(app_configs, **kwargs):
    """A backend form with autocomplete fields redraws a hand-made value (?manager=abc) only
    through `SafeAutocompleteMixin`; Django's own widget raises on it (a 500)."""
    from django.contrib import admin
    from django.contrib.admin.options import InlineModelAdmin

    from .admin import SafeAutocompleteMixin

    # Inlines too, those an admin picks per request (get_inlines) included.
    holders = {type(model_admin) for model_admin in admin.site._registry.values()}
    pending = [InlineModelAdmin]
    while pending:
        for sub in pending.pop().__subclasses__():
            holders.add(sub)
            pending.append(sub)
    errors = []
    for holder in sorted(holders, key=lambda h: (h.__module__, h.__qualname__)):
        own = holder.__module__.startswith("fenxiao.")
        if own and holder.autocomplete_fields and not issubclass(holder, SafeAutocompleteMixin):
            errors.append(
                Error(
                    f"{holder.__module__}.{holder.__qualname__} has autocomplete_fields without "
                    "SafeAutocompleteMixin.",
                    hint="Add fenxiao.core.admin.SafeAutocompleteMixin first among its bases.",
                    id="fenxiao.E020",
                )
            )
    return errors


@register(Tags.admin)
def search_box_says_what_it_searches(app_configs, **kwargs):
    """A backend list with a search box says what the box looks in (按完整订单号或买家手机号搜索):
    unfold's own placeholder, "输入以搜索", leaves a merchant guessing whether a phone, a
    product or a part of an order number will find anything."""
    from django.contrib import admin

    return [
        Error(
            f"{type(model_admin).__module__}.{type(model_admin).__qualname__} has search_fields "
            "without search_help_text.",
            hint='Add search_help_text = gettext_lazy("按…搜索"), naming each field searched '
            "(and 完整 for an exact match).",
            id="fenxiao.E021",
        )
        for model_admin in admin.site._registry.values()
        if model_admin.search_fields and not model_admin.search_help_text
    ]
