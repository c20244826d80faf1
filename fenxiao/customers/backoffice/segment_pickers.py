"""The searchable pickers of the 客户分群 form: products (many) and one distributor.

Both widgets draw only the chosen rows (the search brings the rest), so the edit page never
reads the whole catalogue or every distributor; both searches answer select2's JSON for
staff who may add or change segments (the admin checks that before calling them).

A distributor is shown as staff see them elsewhere (`distribution.admin.common
.distributor_text`): name, phone masked unless the staff member may see phones, referral
code — a merchant with hundreds of distributors picks by name or phone, not by code.
"""

from django.db.models import Case, Q, Value, When
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.views import BaseAutocompleteView
from unfold.widgets import (
    UnfoldAdminAutocompleteModelChoiceFieldWidget,
    UnfoldAdminMultipleAutocompleteModelChoiceFieldWidget,
)

from fenxiao.catalog.models import Product
from fenxiao.core.numbers import whole_number
from fenxiao.distribution.admin.common import distributor_text
from fenxiao.distribution.models import Distributor

from .listing import may_see_phones

TERM_LENGTH = 40


def _chosen_ids(value) -> list[int]:
    # A hand-made value ("abc", a 30-digit number) is left out rather than looked up.
    return [pk for pk in (whole_number(str(v)) for v in value) if pk is not None]


class ProductPicker(UnfoldAdminMultipleAutocompleteModelChoiceFieldWidget):
    def optgroups(self, name, value, attrs=None):
        products = Product.objects.filter(pk__in=_chosen_ids(value)).only("pk", "name", "is_listed")
        options = [
            self.create_option(name, product.pk, product_label(product), True, index)
            for index, product in enumerate(products.order_by("pk"))
        ]
        return [(None, options, 0)]


def product_label(product) -> str:
    return product.name if product.is_listed else _("%(name)s（已下架）") % {"name": product.name}


class ProductLookup(BaseAutocompleteView):
    def get(self, request, *args, **kwargs):
        self.object_list = self.get_queryset()
        page = self.get_context_data()["page_obj"]
        return JsonResponse(
            {
                "results": [{"id": str(p.pk), "text": product_label(p)} for p in page.object_list],
                "pagination": {"more": page.has_next()},
            }
        )

    def get_queryset(self):
        term = (self.request.GET.get("term") or "").strip()[:TERM_LENGTH]
        products = Product.objects.order_by("-is_listed", "-sales_count", "pk").only(
            "pk", "name", "is_listed"
        )
        return products.filter(name__icontains=term) if term else products


def distributor_label(distributor, full_phone: bool) -> str:
    text = distributor_text(distributor, full_phone)
    if distributor.real_name and distributor.real_name != distributor.user.nickname:
        text = f"{distributor.real_name} · {text}"
    if not distributor.is_active:
        text = _("%(distributor)s（%(status)s）") % {
            "distributor": text,
            "status": distributor.get_status_display(),
        }
    return text


def distributors():
    """Active distributors first (the ones whose customers a merchant targets), newest first."""
    first = Case(When(status=Distributor.Status.ACTIVE, then=Value(0)), default=Value(1))
    return (
        Distributor.objects.select_related("user")
        .annotate(active_first=first)
        .order_by("active_first", "-pk")
    )


class DistributorPicker(UnfoldAdminAutocompleteModelChoiceFieldWidget):
    """One distributor; the form sets `full_phone` for the staff member it is drawn for."""

    full_phone = False
    # Already unfold's look: `style_fields` would swap it for a plain select of every distributor.
    _styled = True

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs, choices)
        # select2 shows this while nothing is picked: blank reads as "not asked".
        self.attrs["data-placeholder"] = gettext_lazy("不限（输入姓名、手机号搜索）")

    def optgroups(self, name, value, attrs=None):
        # The empty option lets select2 show its placeholder and clear the choice.
        options = [self.create_option(name, "", "", not value or value == [""], 0)]
        ids = _chosen_ids(value)[:1]
        for distributor in Distributor.objects.select_related("user").filter(pk__in=ids):
            options.append(
                self.create_option(
                    name, distributor.pk, distributor_label(distributor, self.full_phone), True, 1
                )
            )
        return [(None, options, 0)]


class DistributorLookup(BaseAutocompleteView):
    def get(self, request, *args, **kwargs):
        self.object_list = self.get_queryset()
        page = self.get_context_data()["page_obj"]
        full = may_see_phones(request)
        return JsonResponse(
            {
                "results": [{"id": str(d.pk), "text": distributor_label(d, full)} for d in page.object_list],
                "pagination": {"more": page.has_next()},
            }
        )

    def get_queryset(self):
        term = (self.request.GET.get("term") or "").strip()[:TERM_LENGTH]
        if not term:
            return distributors()
        # As the 分销商 list searches: phone, whole referral code, real name, nickname.
        return distributors().filter(
            Q(user__phone__contains=term)
            | Q(referral_code=term.upper())
            | Q(real_name__icontains=term)
            | Q(user__nickname__icontains=term)
        )
