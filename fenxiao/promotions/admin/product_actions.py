"""营销 from the product list: tick products, then 为所选商品创建限时折扣 / 拼团 / 满减 / 优惠券.

Each action opens the new promotion's (or coupon's) form preset with the ticked products:
one 活动商品 row per product for 限时折扣 and 拼团 (the merchant types each price, or one
立减比例), the 指定商品 scope for 满减 and 优惠券. Nothing is saved until the form is.

The catalog knows nothing of promotions, so these actions are added to its product list
from here, as its module invites (`ProductAdmin.actions`); Django reads an action's
permission from a `has_<name>_permission` method on the list's admin, added here too.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from unfold.decorators import action

from fenxiao.catalog.admin import ProductAdmin
from fenxiao.core.numbers import whole_number

from ..models import PromotionKind, Scope

# A promotion's form with more rows than this is no longer one a merchant checks row by row;
# the address carrying the ids stays short as well.
PRESET_LIMIT = 100


def preset_products(request) -> list[int]:
    """The product ids a new promotion's address presets (?products=1,2), ids only, at
    most PRESET_LIMIT."""
    ids = [whole_number(v) for v in request.GET.get("products", "").split(",")]
    return [i for i in ids if i is not None][:PRESET_LIMIT]


def _open_form(request, queryset, url_name: str, **preset):
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: PRESET_LIMIT + 1])
    if len(ids) > PRESET_LIMIT:
        messages.warning(
            request, _("一次最多带入 %(limit)s 个商品，已带入前 %(limit)s 个") % {"limit": PRESET_LIMIT}
        )
    query = urlencode({**preset, "products": ",".join(map(str, ids[:PRESET_LIMIT]))})
    return HttpResponseRedirect(f"{reverse(url_name)}?{query}")


def _new_promotion(request, queryset, kind: str, **preset):
    return _open_form(request, queryset, "admin:promotions_promotion_add", kind=kind, **preset)


@action(description=gettext_lazy("为所选商品创建限时折扣"), permissions=["add_promotion"])
def create_flash_for_selected(model_admin, request, queryset):
    return _new_promotion(request, queryset, PromotionKind.FLASH)


@action(description=gettext_lazy("为所选商品创建拼团"), permissions=["add_promotion"])
def create_group_for_selected(model_admin, request, queryset):
    return _new_promotion(request, queryset, PromotionKind.GROUP)


@action(description=gettext_lazy("为所选商品创建满减"), permissions=["add_promotion"])
def create_spend_for_selected(model_admin, request, queryset):
    return _new_promotion(request, queryset, PromotionKind.SPEND, scope=Scope.PRODUCTS)


@action(description=gettext_lazy("为所选商品创建优惠券"), permissions=["add_coupon"])
def create_coupon_for_selected(model_admin, request, queryset):
    return _open_form(request, queryset, "admin:promotions_coupon_add", scope=Scope.PRODUCTS)


def _may_add_promotion(model_admin, request, obj=None) -> bool:
    return request.user.has_perm("promotions.add_promotion")


def _may_add_coupon(model_admin, request, obj=None) -> bool:
    return request.user.has_perm("promotions.add_coupon")


ProductAdmin.has_add_promotion_permission = _may_add_promotion
ProductAdmin.has_add_coupon_permission = _may_add_coupon
ProductAdmin.actions = (
    *ProductAdmin.actions,
    create_flash_for_selected,
    create_group_for_selected,
    create_spend_for_selected,
    create_coupon_for_selected,
)
