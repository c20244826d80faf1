"""Customer segments (客户分群): saved filters over tags and behaviour.

A segment stores its criteria as a small dict (`CRITERIA_KEYS`), always written through
`clean_criteria`, so what is saved is valid. `members(segment)` is the one way to know who
is in a segment: a queryset of user ids that is one SQL statement when evaluated (tags and
bindings as subqueries, figures as a join), so a targeted push can stream it in chunks.
Membership is computed when asked and never stored: a segment is always current.

Criteria (all optional, combined with AND):
- tags_any / tags_all / tags_none: tag ids (has any of / all of / none of)
- spend_min / spend_max: total spend (paid − refunded), fen, inclusive
- orders_min / orders_max: paid order count, inclusive
- paid_within / not_paid_within: days; last paid order within N days / not within N days
  (never paid counts as "not within")
- bound: "any" (has a current distributor) / "none" / "one" with distributor_id
- sources: registration sources (any of)
- registered_within: days
- product_action: what the buyer did with products — "viewed" (浏览过), "bought" (买过 and
  kept: a paid order line or a store till sale not returned in full), "viewed_not_bought"
  (浏览过但没买: a product viewed that the buyer did not buy, product by product — the
  browse that did not convert); with products (up to MAX_PRODUCTS ids; none means any
  product) and product_within (days; none means ever). Views are the signed-in buyer's
  browsing trail.
"""

from datetime import timedelta

from django.db.models import Count, Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..errors import SegmentInvalid
from ..models import CustomerTag, RegistrationSource, Segment, Tag
from .tags import buyers

MAX_DAYS = 3650
MAX_COUNT = 1_000_000
MAX_FEN = 1_000_000_000
MAX_PRODUCTS = 50
BOUND_CHOICES = {
    "any": gettext_lazy("已绑定分销商"),
    "none": gettext_lazy("未绑定分销商"),
    "one": gettext_lazy("绑定指定分销商"),
}
PRODUCT_ACTIONS = {
    "viewed": gettext_lazy("浏览过"),
    "bought": gettext_lazy("购买过"),
    "viewed_not_bought": gettext_lazy("浏览过但未购买"),
}
CRITERIA_KEYS = (
    "tags_any",
    "tags_all",
    "tags_none",
    "spend_min",
    "spend_max",
    "orders_min",
    "orders_max",
    "paid_within",
    "not_paid_within",
    "bound",
    "distributor_id",
    "sources",
    "registered_within",
    "product_action",
    "products",
    "product_within",
)


def _int(criteria, key, low, high, label):
    value = criteria.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise SegmentInvalid(_("%(label)s必须是整数") % {"label": label})
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise SegmentInvalid(_("%(label)s必须是整数") % {"label": label}) from exc
    if number < low or number > high:
        raise SegmentInvalid(
            _("%(label)s应在 %(low)s 到 %(high)s 之间") % {"label": label, "low": low, "high": high}
        )
    return number


def _ids(criteria, key, label) -> list[int]:
    raw = criteria.get(key) or []
    if not isinstance(raw, (list, tuple)):
        raise SegmentInvalid(_("%(label)s格式有误") % {"label": label})
    try:
        ids = sorted({int(v) for v in raw})
    except (TypeError, ValueError) as exc:
        raise SegmentInvalid(_("%(label)s格式有误") % {"label": label}) from exc
    if ids and Tag.objects.filter(pk__in=ids).count() != len(ids):
        raise SegmentInvalid(_("%(label)s中有不存在的标签") % {"label": label})
    return ids


def _product_ids(criteria) -> list[int]:
    raw = criteria.get("products") or []
    if not isinstance(raw, (list, tuple)):
        raise SegmentInvalid(_("商品格式有误"))
    try:
        ids = sorted({int(v) for v in raw})
    except (TypeError, ValueError) as exc:
        raise SegmentInvalid(_("商品格式有误")) from exc
    if len(ids) > MAX_PRODUCTS:
        raise SegmentInvalid(_("商品最多选 %(count)s 个") % {"count": MAX_PRODUCTS})
    if ids:
        from fenxiao.catalog.models import Product

        if Product.objects.filter(pk__in=ids).count() != len(ids):
            raise SegmentInvalid(_("所选商品不存在"))
    return ids


def clean_criteria(criteria: dict) -> dict:
    """The criteria as stored: known keys only, typed and checked; Chinese SegmentInvalid otherwise."""
    if not isinstance(criteria, dict):
        raise SegmentInvalid()
    clean = {
        "tags_any": _ids(criteria, "tags_any", _("“包含任一标签”")),
        "tags_all": _ids(criteria, "tags_all", _("“包含全部标签”")),
        "tags_none": _ids(criteria, "tags_none", _("“不包含标签”")),
        "spend_min": _int(criteria, "spend_min", 0, MAX_FEN, _("累计消费下限")),
        "spend_max": _int(criteria, "spend_max", 0, MAX_FEN, _("累计消费上限")),
        "orders_min": _int(criteria, "orders_min", 0, MAX_COUNT, _("付款订单数下限")),
        "orders_max": _int(criteria, "orders_max", 0, MAX_COUNT, _("付款订单数上限")),
        "paid_within": _int(criteria, "paid_within", 1, MAX_DAYS, _("“N 天内有付款”的天数")),
        "not_paid_within": _int(criteria, "not_paid_within", 1, MAX_DAYS, _("“N 天内无付款”的天数")),
        "registered_within": _int(criteria, "registered_within", 1, MAX_DAYS, _("“N 天内注册”的天数")),
        "bound": criteria.get("bound") or "",
        "distributor_id": None,
        "sources": sorted(set(criteria.get("sources") or [])),
        "product_action": criteria.get("product_action") or "",
        "products": _product_ids(criteria),
        "product_within": _int(criteria, "product_within", 1, MAX_DAYS, _("商品行为的天数")),
    }
    if (
        clean["spend_min"] is not None
        and clean["spend_max"] is not None
        and clean["spend_min"] > clean["spend_max"]
    ):
        raise SegmentInvalid(_("累计消费下限不能大于上限"))
    if (
        clean["orders_min"] is not None
        and clean["orders_max"] is not None
        and clean["orders_min"] > clean["orders_max"]
    ):
        raise SegmentInvalid(_("付款订单数下限不能大于上限"))
    if set(clean["tags_none"]) & set(clean["tags_any"] + clean["tags_all"]):
        raise SegmentInvalid(_("同一个标签不能既要求包含又要求不包含"))
    if clean["bound"] not in ("", *BOUND_CHOICES):
        raise SegmentInvalid(_("绑定分销商条件有误"))
    if clean["bound"] == "one":
        from fenxiao.distribution.models import Distributor

        pk = _int(criteria, "distributor_id", 1, 2**62, _("分销商"))
        if pk is None or not Distributor.objects.filter(pk=pk).exists():
            raise SegmentInvalid(_("请选择存在的分销商"))
        clean["distributor_id"] = pk
    if not set(clean["sources"]) <= set(RegistrationSource.values):
        raise SegmentInvalid(_("注册来源有误"))
    if clean["product_action"] not in ("", *PRODUCT_ACTIONS):
        raise SegmentInvalid(_("商品行为条件有误"))
    if not clean["product_action"] and (clean["products"] or clean["product_within"] is not None):
        raise SegmentInvalid(_("选了商品或天数时，请同时选择商品行为（浏览过 / 购买过 / 浏览过但未购买）"))
    return {k: v for k, v in clean.items() if v not in (None, "", [])}


def filter_buyers(criteria: dict, now=None):
    """Buyers matching already-cleaned criteria (a queryset of users, not evaluated)."""
    from fenxiao.distribution.models import CustomerBinding

    now = now or timezone.now()
    qs = buyers()
    for tag_id in criteria.get("tags_all", []):
        qs = qs.filter(Exists(CustomerTag.objects.filter(user_id=OuterRef("pk"), tag_id=tag_id)))
    if criteria.get("tags_any"):
        qs = qs.filter(
            Exists(CustomerTag.objects.filter(user_id=OuterRef("pk"), tag_id__in=criteria["tags_any"]))
        )
    if criteria.get("tags_none"):
        qs = qs.exclude(
            Exists(CustomerTag.objects.filter(user_id=OuterRef("pk"), tag_id__in=criteria["tags_none"]))
        )
    if any(k in criteria for k in ("spend_min", "spend_max", "orders_min", "orders_max")):
        qs = qs.annotate(
            seg_spend=Coalesce("customer_figures__total_spend", 0),
            seg_orders=Coalesce("customer_figures__paid_orders", 0),
        )
        for key, lookup in (
            ("spend_min", "seg_spend__gte"),
            ("spend_max", "seg_spend__lte"),
            ("orders_min", "seg_orders__gte"),
            ("orders_max", "seg_orders__lte"),
        ):
            if key in criteria:
                qs = qs.filter(**{lookup: criteria[key]})
    if "paid_within" in criteria:
        qs = qs.filter(customer_figures__last_paid_at__gte=now - timedelta(days=criteria["paid_within"]))
    if "not_paid_within" in criteria:
        cut = now - timedelta(days=criteria["not_paid_within"])
        qs = qs.filter(
            Q(customer_figures__last_paid_at__isnull=True) | Q(customer_figures__last_paid_at__lt=cut)
        )
    bound = criteria.get("bound")
    if bound:
        live = CustomerBinding.objects.filter(buyer_id=OuterRef("pk")).in_force(now)
        if bound == "one":
            qs = qs.filter(Exists(live.filter(distributor_id=criteria["distributor_id"])))
        elif bound == "any":
            qs = qs.filter(Exists(live))
        else:
            qs = qs.exclude(Exists(live))
    if criteria.get("sources"):
        qs = qs.filter(customer_figures__source__in=criteria["sources"])
    if "registered_within" in criteria:
        qs = qs.filter(date_joined__gte=now - timedelta(days=criteria["registered_within"]))
    if criteria.get("product_action"):
        qs = _by_products(qs, criteria, now)
    return qs


def _by_products(qs, criteria: dict, now):
    """Buyers who viewed / bought the products (any product without a list) within the
    window: each an EXISTS on the browsing trail, the paid order lines and the till sales,
    on indexed keys. "Viewed but not bought" asks, for some product viewed, that the buyer
    bought none of that product."""
    from fenxiao.analytics.models import ProductView

    products = criteria.get("products") or []
    since = now - timedelta(days=criteria["product_within"]) if "product_within" in criteria else None
    views = ProductView.objects.filter(buyer_id=OuterRef("pk"))
    if products:
        views = views.filter(product_id__in=products)
    if since is not None:
        views = views.filter(last_viewed_at__gte=since)
    action = criteria["product_action"]
    if action == "viewed":
        return qs.filter(Exists(views))
    if action == "bought":
        return qs.filter(_bought(OuterRef("pk"), products, since))
    return qs.filter(Exists(views.exclude(_bought(OuterRef(OuterRef("pk")), OuterRef("product_id"), since))))


def register_extra_bought(kept_lines) -> None:
    """Purchases beyond the orders (a store's till sales), registered by the app above that
    holds them: `kept_lines(buyer, products, since)` is a queryset of its purchase lines of
    `buyer` not returned in full, as `_bought` narrows order lines."""
    if kept_lines not in _EXTRA_BOUGHT:
        _EXTRA_BOUGHT.append(kept_lines)


_EXTRA_BOUGHT = []


def _bought(buyer, products, since) -> Q:
    """The buyer kept a purchase of the products (a list, one product's reference, or any
    when the list is empty) since `since`: an order line (or a registered till sale line)
    not returned in full."""
    from fenxiao.orders.models import OrderLine

    online = OrderLine.objects.filter(
        order__buyer_id=buyer, order__paid_at__isnull=False, refunded_quantity__lt=F("quantity")
    )
    if isinstance(products, list):
        if products:
            online = online.filter(product_id__in=products)
    else:
        online = online.filter(product_id=products)
    if since is not None:
        online = online.filter(order__paid_at__gte=since)
    bought = Q(Exists(online))
    for kept_lines in _EXTRA_BOUGHT:
        bought |= Q(Exists(kept_lines(buyer, products, since)))
    return bought


def using_tags(tag_ids) -> list[Segment]:
    """The segments whose filter names any of the tags: deleting such a tag would change
    who they hold without a word (a 全部包含 segment would hold nobody). One query; a
    shop keeps few segments."""
    wanted = set(tag_ids)
    keys = ("tags_any", "tags_all", "tags_none")
    return [
        segment
        for segment in Segment.objects.order_by("name")
        if wanted & {t for key in keys for t in segment.criteria.get(key) or []}
    ]


def members(segment: Segment, now=None):
    """The user ids in `segment` now: a queryset (one statement when evaluated). Saved
    criteria were cleaned when saved; a tag or distributor deleted since matches nobody."""
    return filter_buyers(segment.criteria or {}, now).values_list("pk", flat=True)


def count(criteria: dict, now=None) -> int:
    return filter_buyers(clean_criteria(criteria), now).count()


def counts(segments, now=None) -> dict[int, int]:
    """Current member count of each segment (the segment list), in one statement: a
    conditional count per segment. Saved criteria were cleaned when saved; a tag deleted
    since simply matches nobody."""
    segments = list(segments)
    if not segments:
        return {}
    now = now or timezone.now()
    totals = buyers().aggregate(
        **{
            f"s{segment.pk}": Count(
                "pk", filter=Q(pk__in=filter_buyers(segment.criteria or {}, now).values("pk"))
            )
            for segment in segments
        }
    )
    return {segment.pk: totals[f"s{segment.pk}"] for segment in segments}


def save(segment: Segment, *, name: str, criteria: dict, description: str = "", staff=None) -> Segment:
    name = (name or "").strip()
    if not name:
        raise SegmentInvalid(_("请填写分群名称"))
    segment.name = name[:40]
    segment.description = (description or "")[:200]
    segment.criteria = clean_criteria(criteria)
    if segment.pk is None and staff is not None:
        segment.created_by = staff
    segment.save()
    return segment
