"""分销商协议 in the backend: written in 分销设置 (a saved change is a new version, a re-save
with the browser's line breaks is not), and the 分销商 list and page say who agreed to which."""

import pytest

from fenxiao.distribution.models import DistributionSettings, Distributor, DistributorAgreement
from fenxiao.distribution.services import agreement, config, distributors
from fenxiao.testing import english_backend_page, make_buyer

from .backend import list_url, url
from .helpers import make_distributor, settings_data

pytestmark = pytest.mark.django_db

TERMS = "一、佣金只来自真实销售。\n\n二、不收取任何费用。"


def test_the_merchant_writes_the_terms_and_each_saved_change_is_a_version(staff, boss):
    cfg = config.current()
    page = boss.get(url(cfg)).content.decode()
    assert 'name="agreement_text"' in page and "申请时须同意协议" in page

    reply = boss.post(url(cfg), settings_data(cfg, agreement_text=TERMS.replace("\n", "\r\n")))
    assert reply.status_code == 302, reply.context["adminform"].form.errors
    first = agreement.current()
    assert (first.version, first.text, first.created_by) == (1, TERMS, staff)

    cfg.refresh_from_db()
    version = cfg.version
    # The page posts the same words back with \r\n: nothing changed, no version, no log.
    boss.post(url(cfg), settings_data(cfg, agreement_text=TERMS.replace("\n", "\r\n")))
    cfg.refresh_from_db()
    assert (cfg.version, DistributorAgreement.objects.count()) == (version, 1)

    longer = TERMS + "\r\n\r\n三、佣金属于个人收入，依法缴纳个人所得税；本店依法代扣代缴。"
    boss.post(url(cfg), settings_data(cfg, agreement_text=longer))
    assert agreement.current().version == 2
    history = boss.get(url(cfg)).content.decode()
    assert "分销商协议：" in history and "（共 " in history  # the log names the terms briefly


def test_the_list_filters_by_agreement_and_the_page_shows_version_and_time(boss):
    config.update_settings(None, enable_mode="apply", require_real_name=False, agreement_text=TERMS)
    applied = distributors.apply(make_buyer(), agreed_version=1)
    designated = make_distributor()

    def shown(value):
        reply = boss.get(list_url(Distributor), {"agreement": value})
        assert reply.status_code == 200
        return {d.pk for d in reply.context["cl"].result_list}

    assert shown("current") == {applied.pk}
    assert shown("not") == {designated.pk}
    detail = boss.get(url(applied)).content.decode()
    assert "已同意第 1 版" in detail
    assert "未同意" in boss.get(url(designated)).content.decode()

    config.update_settings(None, agreement_text=TERMS + "\n\n三、依法纳税。")
    assert shown("current") == set()
    assert shown("not") == {applied.pk, designated.pk}
    assert "当前为第 2 版，尚未同意" in boss.get(url(applied)).content.decode()

    config.update_settings(None, agreement_text="")  # no terms: nobody has agreed to them
    assert shown("current") == set() and shown("not") == {applied.pk, designated.pk}


def test_the_list_with_the_filter_costs_the_same_however_many_rows(boss, django_assert_max_num_queries):
    config.update_settings(None, agreement_text=TERMS)
    for _ in range(2):
        agreement.agree(make_distributor(), 1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert boss.get(list_url(Distributor), {"agreement": "current"}).status_code == 200
        return len(queries)

    few = cost()
    for _ in range(6):
        agreement.agree(make_distributor(), 1)
    assert cost() == few


def test_the_backend_pages_read_in_english(boss):
    config.update_settings(None, agreement_text=TERMS)
    distributor = agreement.agree(make_distributor(), 1)
    html = english_backend_page(
        boss, url(config.current()), TERMS, *TERMS.split("\n\n"), "一、佣金只来自真实销售。…"
    )
    assert "Distributor terms" in html and "Applicants must agree to the terms" in html
    detail = english_backend_page(boss, url(distributor), distributor.user.display_name)
    assert "Agreed to version 1" in detail
    listing = english_backend_page(boss, list_url(Distributor) + "?agreement=not")
    assert "Agreed to the current version" in listing
    assert DistributionSettings.objects.get().agreement_required is True
