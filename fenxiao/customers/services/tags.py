"""Customer tags: automatic ones by rule and threshold, manual ones applied by staff.

Automatic tags are derived data. The invariant: right after a recompute, a buyer carries
an automatic tag exactly when its rule holds for them at that moment; between recomputes
(daily, and for one buyer after each of their paid orders) it may lag a day, never more.
Rules read `CustomerFigures` (and, for spend within N days, the buyer's paid orders in
the window), so a recompute is two statements per tag and chunk of buyer ids: a DELETE
of the rows whose rule no longer holds and an INSERT … SELECT … ON CONFLICT DO NOTHING of
the rows whose rule now holds. Manual tags are never touched by a recompute.

Thresholds (`Tag.days`, `min_orders`, `min_spend`) are edited by the merchant; a change
takes effect at the next recompute (or "recompute now" in the backend).
"""

from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..errors import TagInvalid
from ..models import CustomerTag, Tag, TagRule, User
from .figures import CHUNK, _buyer_ranges

# The automatic tags a shop starts with; the merchant edits the thresholds.
DEFAULT_RULES = {
    TagRule.NEW: {"name": "新客", "days": 30, "description": "还没有付款订单，或首单在 N 天内"},
    TagRule.RETURNING: {"name": "回头客", "min_orders": 2, "description": "付款订单数 ≥ N"},
    TagRule.HIGH_SPEND: {
        "name": "高消费",
        "min_spend": 100_000,
        "days": 90,
        "description": "N 天内消费（实付减退款）≥ X 元；天数留空为累计消费",
    },
    TagRule.DORMANT: {"name": "沉睡", "days": 90, "description": "曾经付款，但已 N 天没有付款订单"},
}


# Spend in a window that is not an order (a store's till sales), registered by the app above
# that holds it: fn(since, min_spend, low, high) gives the buyer ids whose paid orders plus its
# own purchases since `since` reach min_spend (buyers with enough order spend alone are found
# by the orders query already).
_EXTRA_WINDOW_SPENDERS = []


def register_extra_window_spenders(fn) -> None:
    if fn not in _EXTRA_WINDOW_SPENDERS:
        _EXTRA_WINDOW_SPENDERS.append(fn)


def buyers():
    return User.objects.filter(is_staff=False, is_superuser=False)


def ensure_rule_tags() -> None:
    """The four automatic tags exist (with default thresholds); existing ones are kept as edited."""
    for rule, fields in DEFAULT_RULES.items():
        if not Tag.objects.filter(rule=rule).exists():
            name = fields["name"]
            if Tag.objects.filter(name=name).exists():
                name = f"{name}（自动）"
            Tag.objects.create(rule=rule, **{**fields, "name": name})


def rule_problem(rule: str, days, min_orders, min_spend) -> str | None:
    """What is missing for a rule's thresholds, in Chinese, or None."""
    if rule == TagRule.NEW and not days:
        return _("新客规则需要填写天数 N（首单在 N 天内仍算新客）")
    if rule == TagRule.RETURNING and not min_orders:
        return _("回头客规则需要填写付款订单数 N（至少 1）")
    if rule == TagRule.HIGH_SPEND and not min_spend:
        return _("高消费规则需要填写消费金额 X（大于 0）")
    if rule == TagRule.DORMANT and not days:
        return _("沉睡规则需要填写天数 N（至少 1）")
    return None


def qualifying(tag: Tag, now=None, low: int | None = None, high: int | None = None):
    """The buyers for whom `tag`'s rule holds at `now`, as a queryset of users (with ids
    from `low` to `high` when given: a chunk aggregates only its own buyers' orders)."""
    now = now or timezone.now()
    qs = buyers()
    rule = tag.rule
    if rule == TagRule.NEW:
        never = Q(customer_figures__isnull=True) | Q(customer_figures__paid_orders=0)
        if tag.days:
            never |= Q(customer_figures__first_paid_at__gte=now - timedelta(days=tag.days))
        return qs.filter(never)
    if rule == TagRule.RETURNING:
        return qs.filter(customer_figures__paid_orders__gte=max(tag.min_orders or 1, 1))
    if rule == TagRule.HIGH_SPEND:
        if not tag.days:
            return qs.filter(customer_figures__total_spend__gte=tag.min_spend or 0)
        from fenxiao.orders.models import Order

        window = Order.objects.filter(paid_at__isnull=False, paid_at__gte=now - timedelta(days=tag.days))
        if low is not None:
            window = window.filter(buyer_id__gte=low, buyer_id__lte=high)
        spenders = (
            window.values("buyer_id")
            .annotate(spend=Sum(F("paid_amount") - F("refunded_amount")))
            .filter(spend__gte=tag.min_spend or 0)
            .values("buyer_id")
        )
        holds = Q(pk__in=spenders)
        for extra in _EXTRA_WINDOW_SPENDERS:
            holds |= Q(pk__in=extra(now - timedelta(days=tag.days), tag.min_spend or 0, low, high))
        return qs.filter(holds)
    if rule == TagRule.DORMANT:
        return qs.filter(
            customer_figures__paid_orders__gt=0,
            customer_figures__last_paid_at__lte=now - timedelta(days=tag.days or 0),
        )
    raise TagInvalid(_("手动标签没有自动规则"))


def _apply_rule(tag: Tag, low: int, high: int, now) -> None:
    holds = qualifying(tag, now, low, high).filter(pk__range=(low, high))
    CustomerTag.objects.filter(tag=tag, user_id__gte=low, user_id__lte=high).exclude(
        user_id__in=holds.values("pk")
    ).delete()
    sql, params = holds.values(uid=F("pk")).query.sql_with_params()
    table = connection.ops.quote_name(CustomerTag._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, tag_id, created_at) "  # noqa: S608 - quoted identifiers and placeholders only
            f"SELECT holds.uid, %s, %s FROM ({sql}) holds WHERE 1 = 1 "  # SQLite: WHERE before ON CONFLICT
            f"ON CONFLICT (user_id, tag_id) DO NOTHING",
            [tag.pk, connection.ops.adapt_datetimefield_value(now), *params],
        )


def recompute_all(chunk: int = CHUNK, now=None) -> int:
    """Every automatic tag for every buyer, one transaction per chunk of buyer ids.
    Returns the number of chunks."""
    now = now or timezone.now()
    tags = list(Tag.objects.exclude(rule=""))
    chunks = 0
    for low, high in _buyer_ranges(chunk):
        with transaction.atomic():
            for tag in tags:
                _apply_rule(tag, low, high, now)
        chunks += 1
    Tag.objects.filter(pk__in=[t.pk for t in tags]).update(computed_at=now)
    return chunks


def recompute_for_buyer(buyer_id: int, now=None) -> None:
    """The automatic tags of one buyer (after their paid order or refund), in four
    statements: the tags, which rules hold (one query, an EXISTS per rule, the same
    `qualifying` conditions as the daily recompute), a DELETE and an INSERT. No
    transaction of its own: each statement leaves the rows valid, and a retry does the same."""
    now = now or timezone.now()
    rules = list(Tag.objects.exclude(rule=""))
    if not rules:
        return
    verdict = (
        buyers()
        .filter(pk=buyer_id)
        .values(
            **{
                f"t{tag.pk}": Exists(qualifying(tag, now, buyer_id, buyer_id).filter(pk=OuterRef("pk")))
                for tag in rules
            }
        )
        .first()
    )
    if verdict is None:  # staff, or gone
        return
    holding = [tag.pk for tag in rules if verdict[f"t{tag.pk}"]]
    CustomerTag.objects.filter(
        user_id=buyer_id, tag__in=[t.pk for t in rules if t.pk not in holding]
    ).delete()
    if holding:
        CustomerTag.objects.bulk_create(
            [CustomerTag(user_id=buyer_id, tag_id=pk, created_at=now) for pk in holding],
            ignore_conflicts=True,
        )


def tag_new_buyers(since, now=None) -> None:
    """新客 for buyers registered since `since` (the frequent sweep): they have no order,
    so they are new at once instead of at the next daily recompute."""
    now = now or timezone.now()
    tag = Tag.objects.filter(rule=TagRule.NEW).first()
    if tag is None:
        return
    recent = buyers().filter(date_joined__gte=since).order_by("pk").values_list("pk", flat=True)
    low, high = recent.first(), recent.last()
    if low is not None:
        with transaction.atomic():
            _apply_rule(tag, low, high, now)


# --- Manual tags ----------------------------------------------------------------------------


def _manual(tag: Tag) -> Tag:
    if tag.is_automatic:
        raise TagInvalid(_("自动标签由规则计算，不能手动添加或移除"))
    return tag


def add_manual(tag: Tag, user_ids) -> int:
    """Apply a manual tag to buyers (an id queryset or list): one INSERT … SELECT.
    Returns how many buyers newly got it."""
    _manual(tag)
    now = timezone.now()
    targets = buyers().filter(pk__in=user_ids).values(uid=F("pk"))
    sql, params = targets.query.sql_with_params()
    table = connection.ops.quote_name(CustomerTag._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, tag_id, created_at) "  # noqa: S608 - quoted identifiers and placeholders only
            f"SELECT targets.uid, %s, %s FROM ({sql}) targets WHERE 1 = 1 "
            f"ON CONFLICT (user_id, tag_id) DO NOTHING",
            [tag.pk, connection.ops.adapt_datetimefield_value(now), *params],
        )
        return cursor.rowcount


def remove_manual(tag: Tag, user_ids) -> int:
    _manual(tag)
    return CustomerTag.objects.filter(tag=tag, user_id__in=user_ids).delete()[0]
