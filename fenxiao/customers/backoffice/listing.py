"""What the customer list and its export show for a buyer, read in a fixed number of
queries: the page's buyers with their figures row, current binding and distributor
joined, and their tags prefetched (one more query)."""

import copy

from django.db.models import BooleanField, Prefetch, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.core.money import format_fen

from ..models import Customer, CustomerTag, RegistrationSource
from ..phones import mask_phone

PHONE_PERMISSION = "customers.view_customer_phone"


def may_see_phones(request_or_user) -> bool:
    user = getattr(request_or_user, "user", request_or_user)
    return user.has_perm(PHONE_PERMISSION)


def phone_text(phone: str | None, full: bool) -> str:
    if not phone:
        return "-"
    return phone if full else mask_phone(phone)


def with_phone_flag(queryset, request):
    """`queryset` with whether this request may see whole phones (`full_phone`): a
    ModelAdmin serves every request, so the answer travels with the rows."""
    return queryset.annotate(full_phone=Value(may_see_phones(request), output_field=BooleanField()))


def full_phones(obj) -> bool:
    """Whether the page showing `obj` (read through `with_phone_flag`) shows whole phones."""
    return getattr(obj, "full_phone", False)


def shown_user(user, full: bool):
    """`user` for a template that prints it (str() is the phone when there is no nickname):
    a buyer's copy with the phone masked unless `full`."""
    if full or user is None or user.is_staff or not user.phone:
        return user
    shown = copy.copy(user)
    shown.phone = mask_phone(user.phone)
    if user.username == user.phone:
        shown.username = shown.phone
    return shown


def customers_queryset():
    return Customer.objects.select_related(
        "customer_figures", "binding__distributor__user", "customer_figures__source_distributor__user"
    ).prefetch_related(
        Prefetch("customer_tags", queryset=CustomerTag.objects.select_related("tag").order_by("tag__name"))
    )


def figures_of(customer):
    try:
        return customer.customer_figures
    except Customer.customer_figures.RelatedObjectDoesNotExist:
        return None


def binding_of(customer):
    try:
        return customer.binding
    except Customer.binding.RelatedObjectDoesNotExist:
        return None


def distributor_text(customer) -> str:
    binding = binding_of(customer)
    if binding is None:
        return "-"
    user = binding.distributor.user
    name = binding.distributor.real_name or user.nickname or binding.distributor.referral_code
    if binding.expires_at is not None and binding.expires_at <= timezone.now():
        return _("%(name)s（已过期）") % {"name": name}
    return name


def source_text(customer) -> str:
    figures = figures_of(customer)
    if figures is None or not figures.source:
        return _("待确认")
    text = str(RegistrationSource(figures.source).label)
    if figures.source_distributor_id:
        d = figures.source_distributor
        text = _("%(source)s（%(distributor)s）") % {
            "source": text,
            "distributor": d.real_name or d.user.nickname or d.referral_code,
        }
    return text


def tag_names(customer) -> list[str]:
    return [ct.tag.name for ct in customer.customer_tags.all()]


def row(customer, full_phone: bool) -> dict:
    figures = figures_of(customer)
    return {
        "id": customer.pk,
        "nickname": customer.nickname or "",
        "phone": phone_text(customer.phone, full_phone),
        "date_joined": customer.date_joined,
        "source": source_text(customer),
        "distributor": distributor_text(customer),
        "paid_orders": figures.paid_orders if figures else 0,
        "total_spend": figures.total_spend if figures else 0,
        "last_paid_at": figures.last_paid_at if figures else None,
        "tags": _("、").join(tag_names(customer)),
        "accepts_marketing": _("是") if customer.accepts_marketing else _("否"),
    }


def spend_text(customer) -> str:
    figures = figures_of(customer)
    return format_fen(figures.total_spend if figures else 0)
