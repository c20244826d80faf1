"""分销商协议 under concurrency (PostgreSQL): two merchants' saves at once number their versions
one after the other, and a distributor agreeing twice at once keeps one agreement."""

import pytest

from fenxiao.distribution.models import DistributorAgreement
from fenxiao.distribution.services import agreement, config
from fenxiao.testing import postgres_only_marks, run_together

from .helpers import make_distributor

pytestmark = postgres_only_marks()


@pytest.mark.parametrize("_round", range(3))
def test_two_saves_at_once_make_two_numbered_versions(_round):
    results = run_together(
        2, lambda i: config.update_settings(None, agreement_text=f"第{i}份协议：只按真实销售计佣。")
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert sorted(DistributorAgreement.objects.values_list("version", flat=True)) == [1, 2]
    # The version in force is the text the settings hold: the later save's.
    assert agreement.current().text == config.current().agreement_text


def test_agreeing_twice_at_once_keeps_one_time():
    config.update_settings(None, agreement_text="只按真实销售计佣。")
    distributor = make_distributor()
    results = run_together(
        2, lambda i: agreement.agree(distributor.__class__.objects.get(pk=distributor.pk), 1)
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    distributor.refresh_from_db()
    assert distributor.agreement.version == 1
    assert {r.agreed_at for r in results} == {distributor.agreed_at}
