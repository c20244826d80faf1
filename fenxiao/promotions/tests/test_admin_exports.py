"""营销活动, 优惠券 and 发券记录 export as their lists show them, filtered by state or date:
each promotion with what it brought in (to the fen, in yuan), each coupon with how many went
out and were used, each hand-out with its phones masked unless the staff member may see
phones. The date filters narrow the lists, and the files read in a fixed number of queries
whatever their size."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fenxiao.distribution.tests.helpers import bound_buyer, make_distributor
from fenxiao.orders.services.checkout import place_order
from fenxiao.promotions.models import BuyerCouponStatus, Coupon, CouponIssue
from fenxiao.promotions.services import manage
from fenxiao.testing import login, make_address, make_buyer, make_product, make_staff, pay_in_sandbox

from .factories import give_coupon, make_coupon, make_flash, make_spend

pytestmark = pytest.mark.django_db


def export(name: str, fmt: str = "csv") -> str:
    return reverse(f"admin:promotions_{name}_export", args=[fmt])


def changelist(name: str) -> str:
    return reverse(f"admin:promotions_{name}_changelist")


def table(reply) -> list[list[str]]:
    assert reply.status_code == 200, reply.status_code
    return list(csv.reader(io.StringIO(reply.content.decode("utf-8-sig"))))


def listed(reply) -> set[str]:
    """What the list page shows, by name."""
    assert reply.status_code == 200, reply.status_code
    return {str(getattr(row, "coupon", row)) for row in reply.context["cl"].result_list}


def by_first_column(reply) -> dict[str, list[str]]:
    return {row[0]: row for row in table(reply)[1:]}


def local(value, pattern="%Y-%m-%d %H:%M:%S") -> str:
    return timezone.localtime(value).strftime(pattern)


def day(value) -> str:
    return local(value, "%Y-%m-%d")


def marketing(*, phones: bool):
    user = make_staff("marketing")
    perms = Permission.objects.filter(content_type__app_label="promotions")
    if phones:
        perms = perms | Permission.objects.filter(codename="view_customer_phone")
    user.user_permissions.set(perms)
    return login(user)


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


# --- 营销活动 --------------------------------------------------------------------------------


def sold_flash():
    """A running flash sale with one paid order: 2 × ¥59.00 on a ¥99.00 product, 10 %
    level-1 commission."""
    product = make_product(price=9900)
    flash = make_flash(product, price=5900, name="秒杀")
    buyer = bound_buyer(make_distributor())
    pay_in_sandbox(place_order(buyer, [(product.skus.get().pk, 2)], address_id=make_address(buyer).pk))
    return flash


def test_the_promotion_list_exports_each_promotions_figures_in_yuan(boss):
    flash = sold_flash()
    make_spend([(10000, 500)], name="=上月满减", starts_in=timedelta(days=-30), hours=24)
    stopped = make_flash(make_product(), price=100, name="停掉的秒杀")
    manage.end_early(stopped, None)
    assert 'id="list-export"' in boss.get(changelist("promotion")).content.decode()

    reply = boss.get(export("promotion"))
    assert table(reply)[0] == [
        "活动名称",
        "类型",
        "状态",
        "开始时间",
        "结束时间",
        "提前结束时间",
        "订单数",
        "下单人数",
        "成交额（元）",
        "优惠成本（元）",
        "活动商品佣金（元）",
    ]
    rows = by_first_column(reply)
    assert rows["秒杀"] == [
        "秒杀",
        "限时折扣",
        "进行中",
        local(flash.starts_at),
        local(flash.ends_at),
        "",
        "1",
        "1",
        "118.00",
        "80.00",
        "11.80",
    ]
    # A name that reads as a formula is written as text.
    assert rows["'=上月满减"][1:3] == ["满减", "已结束"] and rows["'=上月满减"][6:] == [
        "0",
        "0",
        "0.00",
        "0.00",
        "0.00",
    ]
    stopped.refresh_from_db()
    assert rows["停掉的秒杀"][2] == "已结束" and rows["停掉的秒杀"][5] == local(stopped.ended_at)

    # The file is the list as filtered.
    assert set(by_first_column(boss.get(export("promotion"), {"state": "ended"}))) == {
        "'=上月满减",
        "停掉的秒杀",
    }
    xlsx = boss.get(export("promotion", "xlsx"))
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_the_start_date_filter_narrows_the_promotion_list_and_its_file(boss):
    recent = make_flash(make_product(), price=100, name="本周秒杀")
    old = make_spend([(10000, 500)], name="上月满减", starts_in=timedelta(days=-30), hours=24)
    query = {"starts_at_from": day(old.starts_at), "starts_at_to": day(old.starts_at)}

    assert listed(boss.get(changelist("promotion"), query)) == {"上月满减"}
    assert set(by_first_column(boss.get(export("promotion"), query))) == {"上月满减"}
    since = {"starts_at_from": day(recent.starts_at)}
    assert listed(boss.get(changelist("promotion"), since)) == {"本周秒杀"}


# --- 优惠券 ----------------------------------------------------------------------------------


def test_the_coupon_list_exports_each_coupon_with_its_counts(boss):
    fixed = make_coupon(amount=1000, min_spend=5000, valid_days=7, total_quantity=100, name="新人券")
    start = timezone.now()
    percent = make_coupon(
        discount_bp=1000,
        max_discount=3000,
        valid_from=start,
        valid_until=start + timedelta(days=30),
        name="九折券",
    )
    for _ in range(2):
        give_coupon(make_buyer(), fixed)
    used = give_coupon(make_buyer(), fixed)
    used.status = BuyerCouponStatus.USED
    used.save()

    reply = boss.get(export("coupon"))
    assert table(reply)[0] == [
        "券名称",
        "类型",
        "优惠",
        "面额（元）",
        "折扣",
        "最多优惠（元）",
        "使用门槛（元）",
        "有效期开始",
        "有效期结束",
        "领取后有效天数",
        "启用",
        "领券中心展示",
        "发行量",
        "已发放",
        "已领取",
        "已使用",
        "优惠金额（元）",
        "创建时间",
    ]
    rows = by_first_column(reply)
    assert rows["新人券"] == [
        "新人券",
        "满减券",
        "满¥50.00减¥10.00",
        "10.00",
        "",
        "",
        "50.00",
        "",
        "",
        "7",
        "是",
        "是",
        "100",
        "0",
        "3",
        "1",
        "0.00",
        local(fixed.created_at),
    ]
    assert rows["九折券"][1:13] == [
        "折扣券",
        "无门槛9折，最多减¥30.00",
        "",
        "9折",
        "30.00",
        "0.00",
        local(percent.valid_from),
        local(percent.valid_until),
        "",
        "是",
        "是",
        "不限",
    ]


def test_the_creation_date_filter_narrows_the_coupon_list_and_its_file(boss):
    make_coupon(amount=1000, valid_days=7, name="本月券")
    old = make_coupon(amount=500, valid_days=7, name="去年券")
    Coupon.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    old.refresh_from_db()
    query = {"created_at_to": day(old.created_at)}

    assert listed(boss.get(changelist("coupon"), query)) == {"去年券"}
    assert set(by_first_column(boss.get(export("coupon"), query))) == {"去年券"}


# --- 发券记录 --------------------------------------------------------------------------------


def hand_out(coupon, when=None):
    issue = CouponIssue.objects.create(
        coupon=coupon,
        staff=make_staff("op"),
        audience="手动发放：2 个手机号（13800001234、13900005678）",
        requested=2,
        issued=1,
        note="老客回访",
    )
    if when:
        CouponIssue.objects.filter(pk=issue.pk).update(created_at=when)
        issue.refresh_from_db()
    return issue


def test_the_issue_log_exports_with_phones_masked_unless_the_staff_member_may_see_them():
    issue = hand_out(make_coupon(amount=1000, valid_days=7, name="回馈券"))
    masked = table(marketing(phones=False).get(export("couponissue")))
    assert masked[0] == ["发放时间", "优惠券", "发放对象", "计划发放", "实际发放", "操作人", "备注"]
    assert masked[1][:5] == [
        local(issue.created_at),
        "回馈券",
        "手动发放：2 个手机号（138****1234、139****5678）",
        "2",
        "1",
    ]
    assert masked[1][6] == "老客回访" and masked[1][5].startswith("op")
    assert "13800001234" not in str(masked)

    whole = table(marketing(phones=True).get(export("couponissue")))
    assert whole[1][2] == "手动发放：2 个手机号（13800001234、13900005678）"


def test_a_large_issue_log_becomes_a_job_whose_file_masks_phones(settings, monkeypatch):
    from fenxiao.core.admin_exports import ExportMixin
    from fenxiao.core.models import Job

    settings.STORAGES = {
        **settings.STORAGES,
        "jobs": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    monkeypatch.setattr(ExportMixin, "export_direct_limit", 0)  # every list is "large" here
    hand_out(make_coupon(amount=1000, valid_days=7, name="回馈券"))
    client = marketing(phones=False)

    assert client.get(export("couponissue")).status_code == 302
    job = Job.objects.get()
    assert (job.kind, job.status) == ("export.promotions.couponissue", "succeeded")
    reply = client.get(reverse("admin:core_job_download", args=[job.pk]))
    text = b"".join(reply.streaming_content).decode("utf-8-sig")
    assert "138****1234" in text and "13800001234" not in text


def test_the_issue_date_filter_narrows_the_log(boss):
    hand_out(make_coupon(amount=1000, valid_days=7, name="本周券"))
    old = hand_out(make_coupon(amount=500, valid_days=7, name="上月券"), timezone.now() - timedelta(days=40))
    query = {"created_at_from": day(old.created_at), "created_at_to": day(old.created_at)}

    assert listed(boss.get(changelist("couponissue"), query)) == {"上月券"}
    assert [row[1] for row in table(boss.get(export("couponissue"), query))[1:]] == ["上月券"]


# --- cost ------------------------------------------------------------------------------------


def test_the_files_cost_the_same_queries_for_any_number_of_rows(boss):
    def cost():
        counts = []
        for name in ("promotion", "coupon", "couponissue"):
            with CaptureQueriesContext(connection) as queries:
                table(boss.get(export(name)))
            counts.append(len(queries))
        return counts

    def add_one(n):
        make_flash(make_product(), price=100, name=f"秒杀{n}")
        coupon = make_coupon(amount=100, valid_days=7, name=f"券{n}")
        give_coupon(make_buyer(), coupon)
        hand_out(coupon)

    sold_flash()
    add_one(0)
    before = cost()
    for n in range(1, 8):
        add_one(n)
    assert cost() == before
