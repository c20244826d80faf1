"""A distributor the automatic check moves up a grade hears of it in 消息中心 (and on WeChat
where set up), once per grade reached, in their language; the notices of a chunk are written
together, so the statements of a run do not grow with the distributors upgraded."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fenxiao.distribution.models import Distributor, DistributorGrade
from fenxiao.distribution.services import config, grades
from fenxiao.notices.models import Kind, Message

from .helpers import make_distributor

pytestmark = pytest.mark.django_db


@pytest.fixture
def senior():
    config.save_grade(DistributorGrade(name="普通", weight=1, is_default=True))
    return config.save_grade(DistributorGrade(name="金牌推广官", weight=2, logic="any", min_own_orders=0))


def test_an_upgraded_distributor_is_told_once(senior):
    leader = make_distributor()
    grades.upgrade()
    message = Message.objects.get(user=leader.user, kind=Kind.GRADE_UPGRADED)
    assert message.title == "分销等级已提升" and "「金牌推广官」" in message.body and message.link == "/d/"
    Distributor.objects.filter(pk=leader.pk).update(grade=DistributorGrade.objects.get(weight=1))
    grades.upgrade()  # staff set the grade back; the same upgrade again is not told twice
    assert Message.objects.filter(user=leader.user, kind=Kind.GRADE_UPGRADED).count() == 1
    with translation.override("en"):
        assert message.body_text.startswith("Congratulations, you are now 金牌推广官: your referred orders")


def test_no_notice_without_an_upgrade(senior):
    make_distributor(grade=senior)
    grades.upgrade()
    assert not Message.objects.filter(kind=Kind.GRADE_UPGRADED).exists()


def test_the_notices_of_a_chunk_go_in_together(senior, settings):
    # In-site only: each WeChat send is a task of its own after the commit, not the run's.
    settings.NOTICE_EVENT_CHANNELS = {"*": []}

    def run(n: int) -> int:
        Message.objects.all().delete()
        Distributor.objects.update(grade=DistributorGrade.objects.get(weight=1))
        with CaptureQueriesContext(connection) as ctx:
            assert len(grades.upgrade(chunk_size=1000)) == Distributor.objects.count()
        assert Message.objects.filter(kind=Kind.GRADE_UPGRADED).count() == Distributor.objects.count()
        return len(ctx.captured_queries)

    for _ in range(3):
        make_distributor()
    few = run(3)
    for _ in range(20):
        make_distributor()
    assert run(23) == few
