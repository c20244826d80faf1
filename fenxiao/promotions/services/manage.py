"""The merchant creates, edits and ends promotions and coupons.

Everything a merchant can get wrong is refused here, in Chinese, before anything is written;
a save is one transaction, so a refusal leaves nothing behind. Counters moved by buyers
(an item's `sold`, a coupon's `issued`) are never written from a stale copy: the promotion
or coupon row is locked, items are updated column by column with a condition on `sold`, and
a coupon keeps the `issued` it has under the lock. An ended promotion is read only.
Stopping or restarting many coupons at once is one conditional UPDATE on their current
state, so a run counts only the coupons it moved and a second run moves none.
"""

import copy
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Product, Sku
from fenxiao.core.money import format_fen
from fenxiao.distribution.services.promotion_guard import check_promotion_commission

from ..errors import PromotionInvalid
from ..models import (
    CommissionMode,
    Coupon,
    CouponKind,
    GroupBuy,
    GroupStatus,
    Promotion,
    PromotionItem,
    PromotionKind,
    PromotionState,
    PromotionUse,
    Scope,
    SpendTier,
)

MIN_DISCOUNT_BP, MAX_DISCOUNT_BP = 100, 9900  # 1 % – 99 % off
GROUP_SIZE = (2, 100)
GROUP_HOURS = (1, 720)
MAX_VALID_DAYS = 3650
# Business ceilings, so a slip of the keyboard (a limit of 10000000000) reads as a mistake
# in the form on every database, not as SQLite storing it or PostgreSQL's range error.
MAX_PER_BUYER_UNITS = 9_999  # 每人限购 (a cart line holds at most 999)
MAX_COUPON_QUANTITY = 100_000_000  # 发行量
MAX_COUPON_PER_BUYER = 999  # 每人限领
# A start typed as "now" is a little in the past by the time the form is saved.
START_GRACE = timedelta(minutes=5)
SAME_MINUTE = timedelta(minutes=1)
ITEM_COLUMNS = ("product_id", "sku_id", "price", "discount_bp", "quota")
# A bulk action names at most this many of the records it left alone.
ALREADY_NAMES = 20


def _refuse(message: str, code: str = "PROMOTION_INVALID", status: int | None = None, field: str = ""):
    """`field` names the promotion's own field a refusal is about, so a form shows it there."""
    raise PromotionInvalid(message, code=code, status=status, **({"field": field} if field else {}))


# --- Promotions --------------------------------------------------------------------------


@transaction.atomic
def save_promotion(
    promotion: Promotion, items, tiers, staff, *, categories=None, products=None, now=None
) -> Promotion:
    """Create or edit `promotion` with exactly `items` (flash, group) or `tiers` (满减).

    Items that already exist are updated in place (they hold stock sold and groups);
    existing items or tiers left out are removed, an item that has sold is kept.
    `categories` / `products` (满减 scope) replace the current ones when given."""
    now = now or timezone.now()
    items, tiers = list(items or []), list(tiers or [])
    before = Promotion.objects.select_for_update().filter(pk=promotion.pk).first() if promotion.pk else None
    _check_promotion(promotion, before, now)
    if promotion.kind == PromotionKind.SPEND:
        _check_scope(promotion.scope, categories, products, promotion)
        _check_tiers(promotion, tiers)
        items = []
    else:
        tiers = []
        _check_items(promotion, items, before)
    _check_commission(promotion, items, categories, products)

    if before is not None:
        promotion.ended_at = before.ended_at  # ending early goes through end_early only
        promotion.created_by = before.created_by
    else:
        promotion.created_by = staff
    promotion.save()
    if categories is not None:
        promotion.categories.set(categories)
    if products is not None:
        promotion.products.set(products)
    _write_items(promotion, items)
    _write_tiers(promotion, tiers)
    return promotion


def check_promotion(promotion: Promotion, now=None) -> None:
    """The promotion's own fields (name, window, group rules) as `save_promotion` checks
    them, without its items and without writing: a form shows such a refusal at the field
    it names before the whole promotion is tried."""
    before = Promotion.objects.filter(pk=promotion.pk).first() if promotion.pk else None
    _check_promotion(copy.copy(promotion), before, now or timezone.now())


def _check_promotion(promotion: Promotion, before: Promotion | None, now) -> None:
    if promotion.kind not in PromotionKind.values:
        _refuse(_("请选择活动类型"))
    if not (promotion.name or "").strip():
        _refuse(_("请填写活动名称"), field="name")
    if before is not None:
        if before.state(now) == PromotionState.ENDED:
            _refuse(_("活动已结束，不能再修改"), code="PROMOTION_ENDED", status=409)
        if promotion.kind != before.kind:
            _refuse(_("活动类型创建后不能修改"))
    if not promotion.starts_at or not promotion.ends_at:
        _refuse(_("请填写活动的开始和结束时间"), field="ends_at" if promotion.starts_at else "starts_at")
    if promotion.ends_at <= promotion.starts_at:
        _refuse(_("结束时间必须晚于开始时间"), field="ends_at")
    if promotion.ends_at <= now:
        _refuse(_("结束时间必须晚于当前时间"), field="ends_at")
    if before is not None and abs(promotion.starts_at - before.starts_at) < SAME_MINUTE:
        # Forms show times to the minute: the start typed back unchanged is the saved one.
        promotion.starts_at = before.starts_at
    elif promotion.starts_at < now - START_GRACE:
        _refuse(_("开始时间不能早于当前时间"), field="starts_at")
    if (promotion.per_buyer_limit or 0) > MAX_PER_BUYER_UNITS:
        _refuse(
            _("每人限购不能超过 %(max)s 件（0 表示不限）") % {"max": MAX_PER_BUYER_UNITS},
            field="per_buyer_limit",
        )
    if promotion.kind == PromotionKind.GROUP:
        if not GROUP_SIZE[0] <= (promotion.group_size or 0) <= GROUP_SIZE[1]:
            _refuse(
                _("成团人数必须在 %(low)s–%(high)s 人之间") % {"low": GROUP_SIZE[0], "high": GROUP_SIZE[1]},
                field="group_size",
            )
        if not GROUP_HOURS[0] <= (promotion.group_hours or 0) <= GROUP_HOURS[1]:
            _refuse(
                _("成团时限必须在 %(low)s–%(high)s 小时之间")
                % {"low": GROUP_HOURS[0], "high": GROUP_HOURS[1]},
                field="group_hours",
            )


def _check_scope(scope: str, categories, products, promotion=None, code="PROMOTION_INVALID") -> None:
    if scope not in Scope.values:
        _refuse(_("请选择适用范围"), code)
    if categories is None and promotion is not None and promotion.pk:
        categories = list(promotion.categories.all())
    if products is None and promotion is not None and promotion.pk:
        products = list(promotion.products.all())
    if scope == Scope.CATEGORIES and not categories:
        _refuse(_("适用范围为指定分类时，请至少选择一个分类"), code)
    if scope == Scope.PRODUCTS and not products:
        _refuse(_("适用范围为指定商品时，请至少选择一个商品"), code)


def _check_tiers(promotion: Promotion, tiers) -> None:
    if not tiers:
        _refuse(_("请至少设置一个满减档位"))
    if promotion.repeat and len(tiers) != 1:
        _refuse(_("每满减只能设置一个档位"))
    seen = set()
    for tier in tiers:
        threshold, reduction = tier.threshold or 0, tier.reduction or 0
        if threshold <= 0:
            _refuse(_("满减门槛必须大于 0"))
        if threshold in seen:
            _refuse(_("满 %(threshold)s 的档位重复了") % {"threshold": format_fen(threshold)})
        seen.add(threshold)
        if reduction >= threshold:
            _refuse(_("满 %(threshold)s 的减免金额必须小于门槛") % {"threshold": format_fen(threshold)})
        if reduction <= 0 and not tier.free_shipping:
            _refuse(
                _("满 %(threshold)s 的档位请填写减免金额或勾选包邮") % {"threshold": format_fen(threshold)}
            )
        if promotion.repeat and reduction <= 0:
            _refuse(_("每满减的档位必须填写减免金额"))


def _check_items(promotion: Promotion, items, before: Promotion | None) -> None:
    if not items:
        _refuse(_("请至少添加一个活动商品"))
    existing = {i.pk: i for i in PromotionItem.objects.filter(promotion=before)} if before else {}
    product_ids = {i.product_id for i in items}
    skus = {
        s["pk"]: s
        for s in Sku.objects.filter(product_id__in=product_ids).values("pk", "product_id", "price", "stock")
    }
    products = {
        p["pk"]: p
        for p in Product.objects.filter(pk__in=product_ids)
        .annotate(
            cheapest=Min("skus__price", filter=Q(skus__is_active=True)),
            stock=Sum("skus__stock", filter=Q(skus__is_active=True)),
        )
        .values("pk", "name", "cheapest", "stock")
    }
    whole, by_sku = set(), set()
    for item in items:
        product = products.get(item.product_id)
        if product is None:
            _refuse(_("请选择活动商品"))
        name = product["name"]
        if item.pk and item.pk not in existing:
            _refuse(_("“%(name)s”不是本活动的商品") % {"name": name})
        if item.sku_id:
            sku = skus.get(item.sku_id)
            if sku is None or sku["product_id"] != item.product_id:
                _refuse(_("所选 SKU 不属于商品“%(name)s”") % {"name": name})
            if item.sku_id in by_sku or item.product_id in whole:
                _refuse(_("商品“%(name)s”在活动中重复了") % {"name": name})
            by_sku.add(item.sku_id)
            regular, stock = sku["price"], sku["stock"]
        else:
            if item.product_id in whole or any(skus[s]["product_id"] == item.product_id for s in by_sku):
                _refuse(_("商品“%(name)s”在活动中重复了") % {"name": name})
            whole.add(item.product_id)
            regular, stock = product["cheapest"], product["stock"] or 0
        if regular is None:
            _refuse(_("商品“%(name)s”没有可售的规格") % {"name": name})
        _check_price(item, name, regular)
        old = existing.get(item.pk)
        sold = old.sold if old else 0
        if old and sold and (old.product_id, old.sku_id) != (item.product_id, item.sku_id):
            _refuse(_("“%(name)s”已售出 %(sold)s 件，不能更换商品或规格") % {"name": name, "sold": sold})
        if item.quota is not None:
            if item.quota < sold:
                _refuse(_("“%(name)s”的活动库存不能少于已售的 %(sold)s 件") % {"name": name, "sold": sold})
            if item.quota - sold > stock:
                _refuse(
                    _("“%(name)s”的活动库存不能超过商品当前库存 %(stock)s 件")
                    % {"name": name, "stock": stock}
                )
    if before is not None:
        kept = {i.pk for i in items if i.pk}
        dropped = [pk for pk in existing if pk not in kept]
        if dropped and (
            any(existing[pk].sold for pk in dropped)
            or PromotionUse.objects.filter(item_id__in=dropped).exists()
            or GroupBuy.objects.filter(item_id__in=dropped).exists()
        ):
            _refuse(_("已有订单的活动商品不能删除"))
    if promotion.kind == PromotionKind.FLASH:
        # Two flash sales saved at once for one product: the product rows, locked in a fixed
        # order, make the second save see the first.
        list(Product.objects.select_for_update().filter(pk__in=product_ids).order_by("pk").values_list("pk"))
        _check_overlap(promotion, product_ids)


def _check_price(item: PromotionItem, name: str, regular: int) -> None:
    if (item.price is None) == (item.discount_bp is None):
        _refuse(_("“%(name)s”请填写活动价或折扣比例（二选一）") % {"name": name})
    if item.price is not None:
        if item.price <= 0:
            _refuse(_("“%(name)s”的活动价必须大于 0") % {"name": name})
        if item.price >= regular:
            _refuse(
                _("“%(name)s”的活动价必须低于售价 %(regular)s")
                % {"name": name, "regular": format_fen(regular)}
            )
    elif not MIN_DISCOUNT_BP <= item.discount_bp <= MAX_DISCOUNT_BP:
        _refuse(_("“%(name)s”的立减比例必须在 1%%–99%% 之间") % {"name": name})


def _check_overlap(promotion: Promotion, product_ids) -> None:
    """A product is in at most one flash sale at any moment, so its flash price is never
    ambiguous."""
    clash = (
        PromotionItem.objects.filter(
            product_id__in=product_ids,
            promotion__kind=PromotionKind.FLASH,
            promotion__starts_at__lt=promotion.ends_at,
            promotion__ends_at__gt=promotion.starts_at,
        )
        .filter(Q(promotion__ended_at__isnull=True) | Q(promotion__ended_at__gt=promotion.starts_at))
        .exclude(promotion_id=promotion.pk)
        .select_related("promotion", "product")
        .first()
    )
    if clash:
        _refuse(
            _("商品“%(name)s”已在同一时段的限时折扣“%(name2)s”中")
            % {"name": clash.product.name, "name2": clash.promotion.name},
            code="PROMOTION_OVERLAP",
            status=409,
        )


def _check_commission(promotion: Promotion, items, categories, products) -> None:
    mode = promotion.commission_mode
    if mode not in CommissionMode.values:
        _refuse(_("请选择佣金设置"))
    if mode in (CommissionMode.NORMAL, CommissionMode.EXCLUDE):
        promotion.commission_level1 = promotion.commission_level2 = promotion.commission_level3 = None
        return
    levels = {n: promotion.commission_value(n) for n in (1, 2, 3)}
    if all(v is None for v in levels.values()):
        _refuse(_("活动佣金请至少填写一个层级"))
    if mode == CommissionMode.RATE and any(v is not None and v > 10000 for v in levels.values()):
        _refuse(_("佣金比例不能超过 100%"))
    cheapest = None
    if mode == CommissionMode.FIXED:
        cheapest = _cheapest_price(promotion, items, categories, products)
    check_promotion_commission(mode, levels, cheapest)


def _cheapest_price(promotion: Promotion, items, categories, products) -> int | None:
    """The lowest price a line of the promotion could sell at: its items' promotion prices,
    or, for 满减, the cheapest SKU in scope."""
    skus = Sku.objects.filter(is_active=True)
    if promotion.kind != PromotionKind.SPEND:
        prices = {}
        for row in skus.filter(product_id__in={i.product_id for i in items}).values(
            "pk", "product_id", "price"
        ):
            prices.setdefault(row["product_id"], []).append((row["pk"], row["price"]))
        found = [
            item.price_for(price)
            for item in items
            for sku_id, price in prices.get(item.product_id, [])
            if item.sku_id in (None, sku_id)
        ]
        return min(found, default=None)
    if promotion.scope == Scope.CATEGORIES:
        from fenxiao.catalog.services.products import descendant_ids

        ids = set()
        for category in categories if categories is not None else promotion.categories.all():
            ids |= set(descendant_ids(getattr(category, "pk", category)))
        skus = skus.filter(product__category_id__in=ids)
    elif promotion.scope == Scope.PRODUCTS:
        chosen = products if products is not None else promotion.products.all()
        skus = skus.filter(product_id__in=[getattr(p, "pk", p) for p in chosen])
    return skus.order_by("price").values_list("price", flat=True).first()


def _write_items(promotion: Promotion, items) -> None:
    kept = [i.pk for i in items if i.pk]
    PromotionItem.objects.filter(promotion=promotion).exclude(pk__in=kept).delete()
    for item in items:
        item.promotion = promotion
        if not item.pk:
            item.sold = 0
            item.save()
            continue
        # Buyers move `sold` meanwhile: never write it, and keep the quota above it.
        values = {column: getattr(item, column) for column in ITEM_COLUMNS}
        guarded = PromotionItem.objects.filter(pk=item.pk, promotion=promotion)
        if item.quota is not None:
            guarded = guarded.filter(sold__lte=item.quota)
        if not guarded.update(**values):
            _refuse(_("活动库存不能少于已售件数，请刷新后重试"))


def _write_tiers(promotion: Promotion, tiers) -> None:
    SpendTier.objects.filter(promotion=promotion).delete()
    SpendTier.objects.bulk_create(
        SpendTier(
            promotion=promotion,
            threshold=t.threshold,
            reduction=t.reduction or 0,
            free_shipping=t.free_shipping,
        )
        for t in tiers
    )


@transaction.atomic
def start_now(promotion: Promotion, staff, now=None) -> Promotion:
    """立即开始: an upcoming promotion starts now instead of at its start time; its end
    stays. Refused once it has started or ended, and for a flash sale whose earlier start
    would put one of its products in another flash sale at the same moment."""
    now = now or timezone.now()
    locked = Promotion.objects.select_for_update().filter(pk=promotion.pk).first()
    if locked is None:
        _refuse(_("活动不存在"), code="PROMOTION_NOT_FOUND", status=404)
    state = locked.state(now)
    if state == PromotionState.ENDED:
        _refuse(_("活动已结束"), code="PROMOTION_ENDED", status=409)
    if state == PromotionState.RUNNING:
        _refuse(_("活动已经开始"), code="PROMOTION_STARTED", status=409)
    locked.starts_at = now
    if locked.kind == PromotionKind.FLASH:
        _check_overlap(locked, list(locked.items.values_list("product_id", flat=True)))
    Promotion.objects.filter(pk=locked.pk).update(starts_at=now, updated_at=now)
    promotion.refresh_from_db()
    return promotion


@transaction.atomic
def end_early(promotion: Promotion, staff, now=None) -> Promotion:
    """提前结束: the promotion stops now, or is refused if it has already ended."""
    now = now or timezone.now()
    if not _end(Promotion.objects.filter(pk=promotion.pk), now):
        _refuse(_("活动已结束"), code="PROMOTION_ENDED", status=409)
    promotion.refresh_from_db()
    return promotion


@dataclass
class BulkEnd:
    """What a bulk 提前结束 did: how many promotions it ended, how many of those selected had
    already ended (left alone), and the names of the first of those."""

    ended: int = 0
    skipped: int = 0
    skipped_names: list[str] = field(default_factory=list)


@transaction.atomic
def end_early_many(promotions, staff, now=None) -> BulkEnd:
    """提前结束 for every promotion of a queryset still running or upcoming, all or none.
    Those already ended are skipped, not refused: a merchant ticking a page of promotions
    means "stop whatever of these still runs"."""
    now = now or timezone.now()
    selected = Promotion.objects.filter(pk__in=list(promotions.order_by().values_list("pk", flat=True)))
    ended = _end(selected, now)
    skipped = selected.exclude(ended_at=now)
    names = list(skipped.order_by("pk").values_list("name", flat=True)[:ALREADY_NAMES])
    return BulkEnd(ended=ended, skipped=selected.count() - ended, skipped_names=names)


def _end(promotions, now) -> int:
    """Ends those of `promotions` still open in one conditional UPDATE, so each ends once
    whoever else is ending it; returns how many it ended. Their open groups can take no one
    any more, so their deadline becomes now too: the next group sweep closes them (failed
    and refunded, or filled with virtual members if allowed) instead of holding the
    members' money until the old deadline."""
    ended = (
        promotions.filter(ends_at__gt=now)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=now))
        .update(ended_at=now, updated_at=now)
    )
    if ended:
        GroupBuy.objects.filter(
            promotion__in=promotions.filter(ended_at=now), status=GroupStatus.OPEN, deadline__gt=now
        ).update(deadline=now)
    return ended


# --- Coupons -----------------------------------------------------------------------------


@transaction.atomic
def save_coupon(coupon: Coupon, staff, *, categories=None, products=None, now=None) -> Coupon:
    """Create or edit a coupon. Its `issued` count is the one under the row lock, never the
    form's copy, and the quantity may not go below it."""
    now = now or timezone.now()
    before = Coupon.objects.select_for_update().filter(pk=coupon.pk).first() if coupon.pk else None
    _check_coupon(coupon, before, now)
    _check_scope(coupon.scope, categories, products, coupon, code="COUPON_INVALID")
    coupon.issued = before.issued if before else 0
    coupon.save()
    if categories is not None:
        coupon.categories.set(categories)
    if products is not None:
        coupon.products.set(products)
    return coupon


def _check_coupon(coupon: Coupon, before: Coupon | None, now) -> None:
    def refuse(message):
        _refuse(message, code="COUPON_INVALID")

    if not (coupon.name or "").strip():
        refuse(_("请填写券名称"))
    if coupon.kind == CouponKind.FIXED:
        if (coupon.amount or 0) <= 0:
            refuse(_("满减券请填写面额"))
        if coupon.min_spend < coupon.amount:
            refuse(_("使用门槛不能低于面额 %(amount)s") % {"amount": format_fen(coupon.amount)})
        coupon.discount_bp = coupon.max_discount = 0
    elif coupon.kind == CouponKind.PERCENT:
        if not MIN_DISCOUNT_BP <= (coupon.discount_bp or 0) <= MAX_DISCOUNT_BP:
            refuse(_("折扣券的折扣比例必须在 1%–99% 之间"))
        coupon.amount = 0
    else:
        refuse(_("请选择券类型"))
    if coupon.valid_days is not None:
        if not 1 <= coupon.valid_days <= MAX_VALID_DAYS:
            refuse(_("领取后有效天数必须在 1–%(max)s 天之间") % {"max": MAX_VALID_DAYS})
    elif coupon.valid_until is None:
        refuse(_("请填写有效期结束时间，或领取后有效天数"))
    if coupon.valid_from and coupon.valid_until and coupon.valid_until <= coupon.valid_from:
        refuse(_("有效期结束时间必须晚于开始时间"))
    changed_until = before is None or coupon.valid_until != before.valid_until
    if coupon.valid_until and changed_until and coupon.valid_until <= now:
        refuse(_("有效期结束时间必须晚于当前时间"))
    if (coupon.total_quantity or 0) > MAX_COUPON_QUANTITY:
        refuse(_("发行量不能超过 %(max)s 张（0 表示不限）") % {"max": f"{MAX_COUPON_QUANTITY:,}"})
    if (coupon.per_buyer_limit or 0) > MAX_COUPON_PER_BUYER:
        refuse(_("每人限领不能超过 %(max)s 张（0 表示不限）") % {"max": MAX_COUPON_PER_BUYER})
    issued = before.issued if before else 0
    if coupon.total_quantity and coupon.total_quantity < issued:
        refuse(_("发行量不能少于已发放的 %(issued)s 张") % {"issued": issued})


@dataclass
class CouponSwitch:
    """What a bulk 停用 / 启用 did: how many coupons it changed, how many were already in
    that state (left alone), and the names of the first of those."""

    changed: int = 0
    already: int = 0
    already_names: list[str] = field(default_factory=list)


@transaction.atomic
def set_coupons_active(coupons, active: bool) -> CouponSwitch:
    """停用 or 启用 the coupons of a queryset (any number) in a few statements, whatever its
    size. Exactly what switching one coupon in its form does: only `is_active` changes.
    Copies buyers already hold are left as they are: while the coupon is stopped it cannot
    be claimed or issued and those copies are refused at checkout (pricing reads the
    coupon's `is_active`); restarted, they work again.
    The UPDATE is conditional on the current state, so `changed` counts only the coupons it
    moved (also when another hand moved some meanwhile) and running it twice changes nothing."""
    selected = Coupon.objects.filter(pk__in=coupons.order_by().values("pk"))
    total = selected.count()
    names = list(
        selected.filter(is_active=active).order_by("pk").values_list("name", flat=True)[:ALREADY_NAMES]
    )
    changed = selected.filter(is_active=not active).update(is_active=active)
    return CouponSwitch(changed=changed, already=total - changed, already_names=names)
