"""The pricing engine: promotions applied to a checkout quote, in the one order allowed.

1. **Flash or group price** sets the line's unit price (the SKU's own price stays as
   `original_price`); a group price only when the buyer opens or joins a group.
2. **满减**: at most one of the running spend promotions; its reduction is spread over the
   lines in its scope by largest remainder.
3. **Coupon**: on what the lines in its scope still pay after 满减; the buyer's pick (or
   none), or by default (AUTO) the engine's. A 满减 that does not stack with coupons
   competes with them. Whether a coupon can be used at all is judged as the buyer sees it:
   after the 满减 that takes most off if they stack, else on its own.

What the engine picks by itself — which 满减 (or none), and under AUTO which coupon (or
none) — is the combination the buyer pays least for in the end: the goods after discounts
plus the postage of what they then pay (checkout hands in the fee as arithmetic on
templates it has read). A coupon that takes the goods below a free-shipping amount, or a
small 满减 chosen over a 包邮 one, would cost the buyer more than it saves. Equal totals
fall back on the discount alone, as before: no coupon over a coupon, more off, 包邮, a
coupon with a 满减, the older promotion, the coupon that expires first.

Store credit is a tender, not a discount: it never reaches this module. Every amount is
integer fen; no line is discounted below zero (a discount never exceeds what its lines
pay, and `allocate` never gives a line more than its weight). A fixed number of queries
whatever the number of lines.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Category, Product
from fenxiao.core.money import allocate, apply_bp, format_fen
from fenxiao.orders.models import DiscountKind
from fenxiao.orders.services.checkout import CouponOption, DiscountQuote
from fenxiao.orders.services.promotions_port import AUTO, ShippingFee

from .. import errors
from ..models import (
    BuyerAllowance,
    BuyerCoupon,
    BuyerCouponStatus,
    CouponKind,
    Promotion,
    PromotionItem,
    PromotionKind,
    Scope,
    running,
)
from . import groups


class Scopes:
    """Which lines a scope (shop / categories / products) covers; categories include their
    descendants. The category tree is read once, and only if a scope needs it."""

    def __init__(self):
        self._parents = None

    def covers(self, holder, line) -> bool:
        """Whether a checkout line falls in `holder`'s scope."""
        return self.covers_product(holder, line.sku.product_id, line.sku.product.category_id)

    def covers_product(self, holder, product_id: int, category_id: int | None) -> bool:
        if holder.scope == Scope.SHOP:
            return True
        if holder.scope == Scope.PRODUCTS:
            return product_id in {p.pk for p in holder.products.all()}
        wanted = {c.pk for c in holder.categories.all()}
        if self._parents is None:
            self._parents = dict(Category.objects.values_list("pk", "parent_id"))
        category, seen = category_id, set()
        while category is not None and category not in seen:
            if category in wanted:
                return True
            seen.add(category)
            category = self._parents.get(category)
        return False


def price(q, buyer, choice, now, shipping: ShippingFee | None = None) -> None:
    scopes = Scopes()
    target = groups.resolve_target(choice, q.lines, buyer, now) if _wants_group(choice) else None
    q.group = target
    _item_prices(q.lines, buyer, now, target)
    offers = _spend_offers(q, scopes, now)
    copies = _coupons(buyer, now) if buyer is not None else []
    _order_discounts(q, offers, copies, choice, scopes, now, buyer, shipping)


def _wants_group(choice) -> bool:
    return bool(choice.group_promotion or choice.join_group)


# --- 1. flash and group prices -----------------------------------------------------------------


def _item_prices(lines, buyer, now, target) -> None:
    items = list(
        PromotionItem.objects.filter(promotion__in=_running_flash(now))
        .filter(_for_lines(lines))
        .select_related("promotion")
        .order_by("pk")
    )
    for line in lines:
        if target is not None and line is target.line:
            _set_price(line, target.item, DiscountKind.GROUP)
            continue
        offers = [
            i
            for i in items
            if i.sku_id == line.sku.pk or (i.sku_id is None and i.product_id == line.sku.product_id)
        ]
        # A SKU's own item wins over one for the whole product; then the lowest price.
        offers.sort(key=lambda i: (i.sku_id is None, i.price_for(line.sku.price), i.pk))
        if offers:
            _set_price(line, offers[0], DiscountKind.FLASH)
    _check_limits(lines, buyer)


def _running_flash(now):
    return Promotion.objects.filter(running(now), kind=PromotionKind.FLASH).values("pk")


def _for_lines(lines):
    sku_ids = [line.sku.pk for line in lines]
    product_ids = [line.sku.product_id for line in lines]
    return Q(sku_id__in=sku_ids) | Q(sku__isnull=True, product_id__in=product_ids)


def _set_price(line, item, kind) -> None:
    promo_price = item.price_for(line.sku.price)
    remaining = item.remaining
    if remaining is not None and remaining < line.quantity:
        name = line.sku.product.name
        if remaining <= 0:
            raise errors.FlashSoldOut(_("“%(name)s”活动库存已抢光") % {"name": name}, sku_id=line.sku.pk)
        raise errors.FlashSoldOut(
            _("“%(name)s”活动库存仅剩%(left)s件") % {"name": name, "left": remaining},
            sku_id=line.sku.pk,
            remaining=remaining,
        )
    line.promotion_item = item
    line.unit_price = promo_price
    line.subtotal = promo_price * line.quantity
    line.commission_override = item.promotion.commission_snapshot()
    saved = (line.original_price - promo_price) * line.quantity
    if saved:
        line.discounts.append(DiscountQuote(kind, item.promotion.name, saved, promotion_id=item.promotion_id))


def _check_limits(lines, buyer) -> None:
    """Per-buyer limits, counted across the buyer's orders (`BuyerAllowance`). Checked here
    to refuse early with a clear message; checkout takes the allowance with a conditional
    UPDATE, which is what holds when one buyer submits twice at once."""
    wanted: dict[int, int] = {}
    limited = {}
    for line in lines:
        item = line.promotion_item
        if item is not None and item.promotion.per_buyer_limit:
            wanted[item.promotion_id] = wanted.get(item.promotion_id, 0) + line.quantity
            limited[item.promotion_id] = item.promotion
    if not wanted:
        return
    held = {}
    if buyer is not None:
        held = dict(
            BuyerAllowance.objects.filter(buyer=buyer, promotion_id__in=list(wanted)).values_list(
                "promotion_id", "quantity"
            )
        )
    for promotion_id, quantity in wanted.items():
        promotion = limited[promotion_id]
        already = held.get(promotion_id, 0)
        if already + quantity > promotion.per_buyer_limit:
            left = max(promotion.per_buyer_limit - already, 0)
            values = {
                "name": promotion.name,
                "limit": promotion.per_buyer_limit,
                "bought": already,
                "left": left,
            }
            if already and left:
                text = (
                    _("“%(name)s”每人限购%(limit)s件，您已购买%(bought)s件，最多还可购买%(left)s件") % values
                )
            elif already:
                text = _("“%(name)s”每人限购%(limit)s件，您已购买%(bought)s件") % values
            elif left:
                text = _("“%(name)s”每人限购%(limit)s件，最多还可购买%(left)s件") % values
            else:
                text = _("“%(name)s”每人限购%(limit)s件") % values
            raise errors.FlashLimitExceeded(
                text,
                limit=promotion.per_buyer_limit,
                bought=already,
            )


# --- 2. 满减 ------------------------------------------------------------------------------------


@dataclass
class SpendOffer:
    promotion: Promotion
    eligible: list = field(default_factory=list)  # indexes into the quote's lines
    reduction: int = 0
    free_shipping: bool = False


def _spend_offers(q, scopes: Scopes, now) -> list[SpendOffer]:
    """Every 满减 the basket reaches (a reduction or 包邮), the most off first (then 包邮, then
    the older promotion); sets the quote's "再买 ¥N 可减 ¥M" hints."""
    promotions = list(
        Promotion.objects.filter(running(now), kind=PromotionKind.SPEND)
        .prefetch_related(
            "tiers",
            Prefetch("categories", queryset=Category.objects.only("pk")),
            Prefetch("products", queryset=Product.objects.only("pk")),
        )
        .order_by("pk")
    )
    found, hints = [], []
    for promotion in promotions:
        eligible = [i for i, line in enumerate(q.lines) if scopes.covers(promotion, line)]
        base = sum(q.lines[i].subtotal for i in eligible)
        tiers = sorted(promotion.tiers.all(), key=lambda t: t.threshold)
        if not eligible or not tiers:
            continue
        offer = SpendOffer(promotion, eligible)
        reached = [t for t in tiers if t.threshold <= base]
        offer.free_shipping = any(t.free_shipping for t in reached)
        # The hint names what the next step adds: 包邮 only while shipping is not yet waived,
        # and no hint for a tier that gives nothing more than the basket already gets.
        if promotion.repeat:
            times = base // tiers[0].threshold
            offer.reduction = tiers[0].reduction * times
            nxt = (
                tiers[0].threshold * (times + 1) - base,
                tiers[0].reduction * (times + 1),
                tiers[0].free_shipping and not offer.free_shipping,
            )
        else:
            offer.reduction = reached[-1].reduction if reached else 0
            upper = [t for t in tiers if t.threshold > base]
            nxt = None
            if upper:
                free = upper[0].free_shipping and not offer.free_shipping
                if upper[0].reduction > offer.reduction or free:
                    nxt = (upper[0].threshold - base, upper[0].reduction, free)
        if nxt is not None:
            hints.append((nxt, promotion))
        if offer.reduction or offer.free_shipping:
            found.append(offer)
    q.hints = [
        _hint(need, save, free, promotion) for (need, save, free), promotion in sorted(hints, key=_gain)
    ]
    return sorted(found, key=lambda o: (-o.reduction, not o.free_shipping, o.promotion.pk))


def _gain(entry):
    (need, save, _free), promotion = entry
    return (need, -save, promotion.pk)


def _hint(need: int, save: int, free: bool, promotion) -> str:
    values = {"name": promotion.name, "need": format_fen(need), "save": format_fen(save)}
    if save and free:
        return _("%(name)s：再买 %(need)s 可减 %(save)s、包邮") % values
    if save:
        return _("%(name)s：再买 %(need)s 可减 %(save)s") % values
    return _("%(name)s：再买 %(need)s 可包邮") % values


# --- 3. coupons, and putting 满减 and the coupon on the lines -----------------------------------


def _coupons(buyer, now) -> list[BuyerCoupon]:
    return list(
        BuyerCoupon.objects.filter(buyer=buyer, status=BuyerCouponStatus.UNUSED, valid_until__gt=now)
        .select_related("coupon")
        .prefetch_related(
            Prefetch("coupon__categories", queryset=Category.objects.only("pk")),
            Prefetch("coupon__products", queryset=Product.objects.only("pk")),
        )
        .order_by("valid_until", "pk")
    )


def _coupon_take(copy: BuyerCoupon, q, paying: list[int], scopes: Scopes, now):
    """(discount, eligible line indexes, refusal) for one coupon on lines that still pay
    `paying` (after 满减). The refusal is the error the buyer gets for picking it anyway."""
    coupon = copy.coupon
    if not coupon.is_active:
        return 0, [], errors.CouponUnavailable()
    if copy.valid_from > now:
        return (
            0,
            [],
            errors.CouponNotStarted(_("优惠券 %(start)s 起可用") % {"start": timezone_text(copy.valid_from)}),
        )
    eligible = [i for i, line in enumerate(q.lines) if paying[i] > 0 and scopes.covers(coupon, line)]
    if not eligible:
        return 0, [], errors.CouponNotInScope()
    base = sum(paying[i] for i in eligible)
    if base < coupon.min_spend:
        return (
            0,
            [],
            errors.CouponBelowMinimum(
                _("满 %(min_spend)s 可用，还差 %(short)s")
                % {"min_spend": format_fen(coupon.min_spend), "short": format_fen(coupon.min_spend - base)},
                min_spend=coupon.min_spend,
            ),
        )
    if coupon.kind == CouponKind.PERCENT:
        take = apply_bp(base, coupon.discount_bp)
        if coupon.max_discount:
            take = min(take, coupon.max_discount)
    else:
        take = coupon.amount
    # The buyer always pays something: a gateway cannot collect ¥0.
    return min(take, base - 1), eligible, None


def timezone_text(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


@dataclass
class _Plan:
    spend: SpendOffer | None
    coupon: BuyerCoupon | None = None
    coupon_take: int = 0
    coupon_lines: list = field(default_factory=list)
    rank: int = 0  # the coupon's place in the buyer's wallet (soonest to expire first)

    @property
    def total(self) -> int:
        return (self.spend.reduction if self.spend else 0) + self.coupon_take


def _spend_shares(q, offer: SpendOffer | None) -> list[int]:
    shares = [0] * len(q.lines)
    if offer and offer.reduction:
        weights = [q.lines[i].subtotal for i in offer.eligible]
        for i, share in zip(offer.eligible, allocate(offer.reduction, weights), strict=True):
            shares[i] = share
    return shares


def _key(spend: SpendOffer | None):
    return spend.promotion.pk if spend is not None else None


def _order_discounts(q, offers, copies, choice, scopes: Scopes, now, buyer, shipping) -> None:
    # What each line still pays under each 满减 (or none), which coupons are weighed on.
    paying = {None: [line.subtotal for line in q.lines]}
    for offer in offers:
        shares = _spend_shares(q, offer)
        paying[_key(offer)] = [line.subtotal - shares[i] for i, line in enumerate(q.lines)]
    best = offers[0] if offers else None
    # Whether a coupon can be used, and why not, as the buyer has always been told: after the
    # 满减 that takes most off if they stack, otherwise instead of it.
    judged_on = paying[_key(best)] if best is not None and best.promotion.stackable else paying[None]
    stacking = [None, *(o for o in offers if o.promotion.stackable)]

    plans = [_Plan(offer) for offer in offers] + [_Plan(None)]
    options, refusals = [], {}
    for rank, copy in enumerate(copies):
        take, _lines, refusal = _coupon_take(copy, q, judged_on, scopes, now)
        options.append(
            CouponOption(
                copy.pk, copy.coupon.name, copy.valid_until, take, refusal.message if refusal else ""
            )
        )
        if refusal is not None:
            refusals[copy.pk] = refusal
            continue
        # A usable coupon goes with no 满减 or one it stacks with: whichever costs least.
        for spend in stacking:
            take, eligible, refused = _coupon_take(copy, q, paying[_key(spend)], scopes, now)
            if refused is None:
                plans.append(_Plan(spend, copy, take, eligible, rank))

    ranked = sorted(plans, key=_ranking(offers, paying, shipping))
    for option in options:
        # What the coupon takes off with the 满减 it would go with if the buyer picked it.
        mine = next((p for p in ranked if p.coupon is not None and p.coupon.pk == option.id), None)
        if mine is not None:
            option.discount = mine.coupon_take
    q.coupon_options = sorted(options, key=lambda o: (not o.usable, -o.discount, o.valid_until, o.id))

    if choice.coupon == AUTO:
        plan = ranked[0]
    elif choice.coupon is None:
        plan = next(p for p in ranked if p.coupon is None)
    else:
        copy = next((c for c in copies if c.pk == choice.coupon), None)
        if copy is None:
            raise _missing_coupon(choice.coupon, buyer)
        if copy.pk in refusals:
            raise refusals[copy.pk]
        # The buyer's pick, even where no coupon would cost them less.
        plan = next(p for p in ranked if p.coupon is copy)
    _apply(q, plan)


def _ranking(offers, paying, shipping: ShippingFee | None):
    """Sort key of the plans: the buyer's finished total (goods after discounts, plus the
    postage unless the 满减 waives it or nothing is sent), then the discount alone."""
    place = {o.promotion.pk: i for i, o in enumerate(offers)}

    def key(plan: _Plan):
        paid = list(paying[_key(plan.spend)])
        if plan.coupon is not None:
            weights = [paid[i] for i in plan.coupon_lines]
            for i, share in zip(plan.coupon_lines, allocate(plan.coupon_take, weights), strict=True):
                paid[i] -= share
        waived = shipping is None or (plan.spend is not None and plan.spend.free_shipping)
        return (
            sum(paid) + (0 if waived else shipping(paid)),
            plan.coupon is not None,
            -plan.total,
            plan.spend is None,
            place[plan.spend.promotion.pk] if plan.spend is not None else 0,
            plan.rank,
        )

    return key


def _missing_coupon(copy_id, buyer):
    """Why a coupon the buyer named is not among their usable ones (another buyer's coupon
    is simply not found)."""
    copy = BuyerCoupon.objects.filter(pk=copy_id, buyer=buyer).only("status", "valid_until").first()
    if copy is None:
        return errors.CouponNotFound()
    if copy.status != BuyerCouponStatus.UNUSED:
        return errors.CouponUsed()
    return errors.CouponExpired()


def _apply(q, plan: _Plan) -> None:
    spend = plan.spend
    shares = _spend_shares(q, spend)
    if spend is not None and spend.reduction:
        name = spend.promotion.name
        for i in spend.eligible:
            line = q.lines[i]
            if shares[i]:
                line.discount_share += shares[i]
                line.discounts.append(
                    DiscountQuote(DiscountKind.SPEND, name, shares[i], promotion_id=spend.promotion.pk)
                )
            if line.commission_override is None:
                line.commission_override = spend.promotion.commission_snapshot()
        q.discounts.append(
            DiscountQuote(DiscountKind.SPEND, name, spend.reduction, promotion_id=spend.promotion.pk)
        )
    if spend is not None and spend.free_shipping:
        # The amount is the fee it saves, known once checkout has priced the shipping.
        q.free_shipping = DiscountQuote(
            DiscountKind.FREE_SHIPPING, spend.promotion.name, 0, spend.promotion.pk
        )
    if plan.coupon is not None:
        copy = plan.coupon
        weights = [q.lines[i].subtotal - shares[i] for i in plan.coupon_lines]
        for i, share in zip(plan.coupon_lines, allocate(plan.coupon_take, weights), strict=True):
            if share:
                q.lines[i].discount_share += share
                q.lines[i].discounts.append(
                    DiscountQuote(DiscountKind.COUPON, copy.coupon.name, share, coupon_id=copy.pk)
                )
        q.discounts.append(
            DiscountQuote(DiscountKind.COUPON, copy.coupon.name, plan.coupon_take, coupon_id=copy.pk)
        )
        q.coupon_id = copy.pk
