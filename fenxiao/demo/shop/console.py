"""The merchant console's side of the demo: traffic, report aggregates, customer figures
and tags, segments and one delivered targeted push, so 经营概况, the reports, 客户 and
定向推送 open on a shop with a history instead of empty pages.

Runs last, after the orders and distribution: everything here is derived from them
(aggregates, figures, automatic tags) or made through the services (manual tags,
segments, the push).
"""

from datetime import timedelta
from random import Random

from django.db.models import F
from django.utils import timezone

from fenxiao.analytics.services import aggregates
from fenxiao.catalog.models import Product
from fenxiao.customers.models import Segment, Tag, User
from fenxiao.customers.services import figures, segments, tags
from fenxiao.customers.services.accounts import create_buyer
from fenxiao.distribution.models import Distributor, DistributorStatus, Touch
from fenxiao.distribution.services import reconciliation
from fenxiao.promotions.models_push import Push, PushCarries
from fenxiao.promotions.services import push as pushes

from .notices import backdate_messages
from .people import BUYER_PASSWORD, People
from .traffic import build_traffic

# Buyers who registered in the last days and only looked around (phone, nickname, days ago).
BROWSERS = [
    ("13800000006", "小鹿乱撞", 9),
    ("13800000007", "今天也要早睡", 5),
    ("13800000008", "阿杰在路上", 2),
]
# name, description, criteria (tag names are resolved to ids)
SEGMENTS = [
    (
        "高消费回头客",
        "付款 2 单以上且累计消费满 1000 元：新品和会员活动优先告诉他们",
        {"tags_all": ["回头客"], "spend_min": 100_000},
    ),
    ("注册未下单", "注册了但还没有付款订单：适合推一张新人券", {"orders_max": 0}),
    ("分销商带来的客户", "已绑定分销商的客户", {"bound": "any"}),
]
MANUAL_TAGS = [
    ("VIP", "店长亲自维护的老客户"),
    ("企业采购", "曾咨询过公司福利或批量采购"),
]


def build_console(rng: Random, people: People) -> None:
    browsers = _backdate_registrations(people)
    distributors = list(Distributor.objects.filter(status=DistributorStatus.ACTIVE).order_by("id"))
    build_traffic(rng, distributors, browsers)
    aggregates.refresh()  # the first refresh builds the whole history
    figures.rebuild()
    tags.ensure_rule_tags()
    tags.recompute_all()
    _manual_tags(people)
    made = _segments(people)
    backdate_messages(_push(people, made["高消费回头客"]))
    reconciliation.run()  # 每日对账 shows yesterday's result, as the 05:10 run leaves it


def _backdate_registrations(people: People) -> list[User]:
    """Demo buyers registered before their first order (the orders are backdated), the bound
    ones minutes before the distributor's link or poster reached them; plus a few recent
    sign-ups who have not bought yet."""
    now = timezone.now()
    touched = Touch.objects.order_by("created_at").values_list("created_at", flat=True).first()
    root, *bound = people.buyers
    User.objects.filter(pk=root.pk).update(date_joined=now - timedelta(days=42))
    if touched:
        User.objects.filter(pk__in=[b.pk for b in bound]).update(date_joined=touched - timedelta(minutes=10))
    User.objects.filter(pk__in=[p.pk for p in (people.admin, people.operations, people.finance)]).update(
        date_joined=now - timedelta(days=60)
    )
    browsers = []
    for phone, nickname, days in BROWSERS:
        buyer = User.objects.filter(phone=phone).first() or create_buyer(
            phone=phone, password=BUYER_PASSWORD, nickname=nickname
        )
        User.objects.filter(pk=buyer.pk).update(date_joined=now - timedelta(days=days, hours=3))
        browsers.append(buyer)
    return browsers


def _manual_tags(people: People) -> None:
    made = {}
    for name, description in MANUAL_TAGS:
        made[name], _ = Tag.objects.get_or_create(name=name, defaults={"description": description})
    top = (
        tags.buyers()
        .filter(customer_figures__paid_orders__gt=0)
        .order_by(F("customer_figures__total_spend").desc(), "pk")
        .values_list("pk", flat=True)[:2]
    )
    tags.add_manual(made["VIP"], list(top))
    tags.add_manual(made["企业采购"], [people.buyers[0].pk])


def _segments(people: People) -> dict[str, Segment]:
    by_name = dict(Tag.objects.values_list("name", "pk"))
    made = {}
    for name, description, criteria in SEGMENTS:
        criteria = {
            key: [by_name[tag] for tag in value] if key.startswith("tags_") else value
            for key, value in criteria.items()
        }
        segment = Segment.objects.filter(name=name).first() or Segment()
        made[name] = segments.save(
            segment, name=name, criteria=criteria, description=description, staff=people.operations
        )
    return made


def _push(people: People, segment: Segment) -> Push:
    """A product push to the best customers, started and delivered as the worker would."""
    product = Product.objects.filter(is_listed=True).order_by("-price", "id").first()
    push = pushes.save_draft(
        Push(
            title="老客专享：新品上架",
            body=f"感谢一直以来的支持！{product.name[:30]} 已上架，老客户优先选购。",
            carries=PushCarries.PRODUCT,
            product=product,
            segment=segment,
        ),
        people.operations,
    )
    pushes.start(push, people.operations)
    pushes.deliver(push.pk)  # the job queued on commit then finds nothing left to do
    return push
