"""A segment of known buyers for targeted-push tests."""

from django.utils import timezone

from fenxiao.customers.models import CustomerTag, Segment, Tag
from fenxiao.promotions.models import Push, PushCarries
from fenxiao.testing import make_buyer, make_product


def make_segment(members: int, *, outsiders: int = 1, name: str | None = None):
    """A segment over a manual tag held by `members` new buyers (others exist beside them)."""
    tag = Tag.objects.create(name=name or f"推送测试{Tag.objects.count() + 1}")
    buyers = [make_buyer() for _ in range(members)]
    now = timezone.now()
    CustomerTag.objects.bulk_create(CustomerTag(user=b, tag=tag, created_at=now) for b in buyers)
    for _ in range(outsiders):
        make_buyer()
    segment = Segment.objects.create(name=tag.name, criteria={"tags_any": [tag.pk]})
    return segment, buyers


def make_push(segment, *, product=None, coupon=None, staff=None, title="新品上架"):
    if coupon is None and product is None:
        product = make_product()
    return Push.objects.create(
        title=title,
        body="限时优惠，点击查看",
        carries=PushCarries.COUPON if coupon else PushCarries.PRODUCT,
        product=product,
        coupon=coupon,
        segment=segment,
        created_by=staff,
    )
