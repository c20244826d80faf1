"""满足条件: how far a buyer's received orders go towards the condition the merchant set.

One measure for every place that asks, so they can never disagree: an application
(`distributors.apply`), a receipt (`distributors.check_condition_after_completion(s)`), the
enrolment of those who already qualify (`enrolment.enrol_qualified`), and the buyer's own
progress on the apply page and in the API (`progress`). It measures a set of buyers with
one grouped query whatever their number, so a chunk of a thousand costs what one does.

What counts, only on completed orders (SPEC: "counted after receipt"):

- 累计消费满额: paid minus refunded, summed;
- 完成订单数: orders not wholly refunded (an order returned in full after receipt stays
  已完成, but was no purchase);
- 购买指定商品: a listed product on a line not wholly refunded.
"""

from dataclasses import dataclass, field

from django.db.models import Count, F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from fenxiao.core.money import format_fen

from ..models import ConditionKind, DistributionSettings
from . import config

# The listed products the apply page and the API show a buyer: a few to choose from, not the
# whole list (the products are how to qualify, not a catalogue).
SHOWN_PRODUCTS = 6


@dataclass(frozen=True)
class Condition:
    """The condition of the settings, read once for a whole run (the products too)."""

    kind: str
    target: int  # fen to spend, orders to complete, or 1 listed product to buy
    product_ids: frozenset[int] = frozenset()

    @classmethod
    def of(cls, cfg: DistributionSettings | None = None) -> "Condition":
        cfg = cfg or config.current()
        if cfg.condition_kind == ConditionKind.LIFETIME_SPEND:
            return cls(cfg.condition_kind, cfg.condition_amount)
        if cfg.condition_kind == ConditionKind.COMPLETED_ORDERS:
            return cls(cfg.condition_kind, cfg.condition_orders)
        products = frozenset(cfg.condition_products.values_list("pk", flat=True))
        return cls(cfg.condition_kind, 1, products)


def measure(condition: Condition, user_ids) -> dict[int, int]:
    """{buyer id: how far they are} — fen spent, orders kept or listed products bought — for
    the buyers among `user_ids` with anything counted: one grouped query."""
    from fenxiao.orders.models import Order, OrderLine

    user_ids = list(user_ids)
    if not user_ids:
        return {}
    if condition.kind == ConditionKind.BOUGHT_PRODUCTS:
        if not condition.product_ids:
            return {}
        rows = (
            OrderLine.objects.filter(
                order__buyer_id__in=user_ids,
                order__status=Order.Status.COMPLETED,
                product_id__in=condition.product_ids,
            )
            .exclude(paid_amount__gt=0, refunded_amount__gte=F("paid_amount"))
            .order_by()
            .values_list("order__buyer_id")
            .annotate(figure=Count("product_id", distinct=True))
        )
        return dict(rows)
    completed = Order.objects.filter(buyer_id__in=user_ids, status=Order.Status.COMPLETED).order_by()
    if condition.kind == ConditionKind.COMPLETED_ORDERS:
        rows = (
            completed.filter(refunded_amount__lt=F("paid_amount"))
            .values_list("buyer_id")
            .annotate(figure=Count("pk"))
        )
    else:
        rows = completed.values_list("buyer_id").annotate(figure=Sum(F("paid_amount") - F("refunded_amount")))
    return dict(rows)


def qualified(condition: Condition, user_ids) -> list[int]:
    """Those among `user_ids` whose completed orders meet `condition`, in key order. A target
    of nothing (¥0, 0 orders) is met by every buyer, orders or not, as the merchant set it."""
    user_ids = list(user_ids)
    figures = measure(condition, user_ids)
    return sorted(pk for pk in user_ids if figures.get(pk, 0) >= condition.target)


def meets(user, cfg: DistributionSettings | None = None) -> bool:
    return bool(qualified(Condition.of(cfg), [user.pk]))


@dataclass
class Progress:
    """Where one buyer stands: what the condition is, how far they are, what is left."""

    kind: str
    target: int
    done: int
    products: list[dict] = field(default_factory=list)  # 购买指定商品: a few to buy, linked

    @property
    def met(self) -> bool:
        return self.done >= self.target

    @property
    def left(self) -> int:
        return max(self.target - self.done, 0)

    @property
    def percent(self) -> int:
        """0–100 for the bar, rounded down so the bar is never full before the condition is."""
        if self.met:
            return 100
        return self.done * 100 // self.target

    @property
    def headline(self) -> str:
        if self.kind == ConditionKind.LIFETIME_SPEND:
            return _("累计消费满 %(amount)s 即可成为分销商") % {"amount": format_fen(self.target)}
        if self.kind == ConditionKind.COMPLETED_ORDERS:
            return ngettext(
                "完成 %(count)s 笔订单即可成为分销商", "完成 %(count)s 笔订单即可成为分销商", self.target
            ) % {"count": self.target}
        return _("购买任一指定商品即可成为分销商")

    @property
    def detail(self) -> str:
        if self.kind == ConditionKind.LIFETIME_SPEND:
            if self.met:
                return _("已消费 %(spent)s，已满足条件") % {"spent": format_fen(self.done)}
            return _("已消费 %(spent)s，还差 %(left)s") % {
                "spent": format_fen(self.done),
                "left": format_fen(self.left),
            }
        if self.kind == ConditionKind.COMPLETED_ORDERS:
            if self.met:
                return ngettext(
                    "已完成 %(count)s 笔，已满足条件", "已完成 %(count)s 笔，已满足条件", self.done
                ) % {"count": self.done}
            return ngettext(
                "已完成 %(count)s 笔，还差 %(left)s 笔", "已完成 %(count)s 笔，还差 %(left)s 笔", self.left
            ) % {"count": self.done, "left": self.left}
        return _("已购买指定商品，已满足条件") if self.met else _("尚未购买指定商品")

    @property
    def note(self) -> str:
        """When an order starts to count, so a buyer who has just paid is not puzzled."""
        if self.kind == ConditionKind.COMPLETED_ORDERS:
            return _("订单确认收货后计入，全额退款的订单不计")
        return _("订单确认收货后计入，退款部分不计")


def progress(user, cfg: DistributionSettings | None = None) -> Progress:
    """`user`'s progress towards the condition: the same measure as the enrolment (one
    grouped query), plus, for 购买指定商品, a few of the listed products on sale."""
    from fenxiao.catalog.models import Product

    condition = Condition.of(cfg)
    done = measure(condition, [user.pk]).get(user.pk, 0)
    products = []
    if condition.kind == ConditionKind.BOUGHT_PRODUCTS:
        # Only what is on sale: a delisted product cannot be bought, so it is no way in.
        products = [
            {"id": pk, "name": name, "price": price, "url": f"/products/{pk}/"}
            for pk, name, price in Product.objects.filter(pk__in=condition.product_ids, is_listed=True)
            .order_by("pk")
            .values_list("pk", "name", "price")[:SHOWN_PRODUCTS]
        ]
    return Progress(condition.kind, condition.target, done, products)
