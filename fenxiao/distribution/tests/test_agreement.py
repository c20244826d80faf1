"""分销商协议: the merchant's terms are versioned as they are saved; an application agrees to
the version it was shown (refused without the tick, or when the terms changed since); those
who join with no form agree later in the center, without it ever holding back their money."""

import pytest

from fenxiao.distribution.errors import AgreementNotAccepted, AgreementOutdated
from fenxiao.distribution.models import DistributorAgreement, DistributorStatus, SettingsChange
from fenxiao.distribution.services import agreement, distributors
from fenxiao.distribution.services.agreement import DEFAULT_TEXT
from fenxiao.testing import api_for, make_buyer, make_staff

from .helpers import configure, earn, ledger_sum, make_distributor

pytestmark = pytest.mark.django_db

TERMS = "一、佣金只来自真实销售。\n\n二、不收取任何费用。"


def test_each_saved_text_is_a_new_version_kept_as_written():
    boss = make_staff("boss", superuser=True)
    assert agreement.current() is None
    from fenxiao.distribution.services import config

    config.update_settings(boss, agreement_text="一、佣金。\r\n\r\n二、费用。  ")
    first = agreement.current()
    assert (first.version, first.text, first.created_by) == (1, "一、佣金。\n\n二、费用。", boss)

    configure(level1_bp=1200)  # another setting: the terms stay at version 1
    configure(agreement_text="一、佣金。\n\n二、费用。")  # the same words: no new version
    assert agreement.current() == first

    configure(agreement_text=TERMS)
    assert agreement.current().version == 2
    assert list(DistributorAgreement.objects.values_list("version", flat=True)) == [2, 1]
    assert "agreement_text" in SettingsChange.objects.first().changes

    configure(agreement_text="")  # no terms: nobody is asked to agree, the versions stay
    assert agreement.current() is None and DistributorAgreement.objects.count() == 2


def test_terms_longer_than_the_limit_are_refused():
    from fenxiao.distribution.errors import SettingsInvalid

    with pytest.raises(SettingsInvalid):
        configure(agreement_text="字" * (agreement.MAX_TEXT + 1))
    assert agreement.current() is None


def test_an_application_must_tick_the_current_version_and_records_it():
    configure(enable_mode="apply", review_mode="manual", require_real_name=False, agreement_text=TERMS)
    buyer = make_buyer()
    with pytest.raises(AgreementNotAccepted) as refused:
        distributors.apply(buyer)
    assert (refused.value.status, refused.value.code) == (400, "AGREEMENT_NOT_ACCEPTED")
    configure(agreement_text=TERMS + "\n\n三、依法纳税。")  # version 2 while the page showed 1
    with pytest.raises(AgreementOutdated) as stale:
        distributors.apply(buyer, agreed_version=1)
    assert (stale.value.status, stale.value.details) == (409, {"current_version": 2})
    assert distributors.for_user(buyer) is None

    applied = distributors.apply(buyer, agreed_version=2)
    assert applied.status == DistributorStatus.PENDING
    assert applied.agreement.version == 2 and applied.agreed_at is not None


def test_a_rejected_applicant_applying_again_agrees_again():
    configure(enable_mode="apply", require_real_name=False, agreement_text=TERMS)
    buyer = make_buyer()
    first = distributors.apply(buyer, agreed_version=1)
    distributors.reject(first, None, reason="资料不全")
    configure(agreement_text=TERMS + "\n\n三、依法纳税。")
    again = distributors.apply(buyer, agreed_version=2)
    again.refresh_from_db()
    assert (again.status, again.agreement.version) == (DistributorStatus.PENDING, 2)


def test_without_the_switch_an_application_needs_no_tick():
    configure(enable_mode="apply", require_real_name=False, agreement_text=TERMS, agreement_required=False)
    plain = distributors.apply(make_buyer())
    assert plain.agreement is None
    agreed = distributors.apply(make_buyer(), agreed_version=1)
    assert agreed.agreement.version == 1


def test_a_shop_without_terms_asks_nothing():
    configure(enable_mode="apply", require_real_name=False)
    assert distributors.apply(make_buyer()).agreement is None


def test_joining_without_a_form_records_nothing_and_the_center_asks_once():
    configure(agreement_text=TERMS)
    designated = make_distributor()
    assert designated.agreement is None
    assert agreement.needs_agreement(designated) == agreement.current()

    configure(agreement_text=TERMS + "\n\n三、依法纳税。")
    with pytest.raises(AgreementOutdated):
        agreement.agree(designated, 1)
    agreement.agree(designated, 2)
    designated.refresh_from_db()
    agreed_at = designated.agreed_at
    assert designated.agreement.version == 2 and agreement.needs_agreement(designated) is None
    agreement.agree(designated, 2)  # again: the first time stands
    designated.refresh_from_db()
    assert designated.agreed_at == agreed_at


def test_everyone_and_store_accounts_record_nothing_at_join():
    configure(agreement_text=TERMS, enable_mode="everyone")
    everyone = distributors.ensure_for_everyone_mode(make_buyer())
    store = distributors.join_through_store(make_buyer())
    assert everyone.agreement is None and store.agreement is None
    assert agreement.needs_agreement(everyone) is not None


def test_not_having_agreed_never_holds_back_earning_or_the_balance():
    configure(agreement_text=TERMS)
    distributor = make_distributor()
    earn(distributor, 10000)
    assert ledger_sum(distributor) == 1000
    client = api_for(distributor.user)
    taken = client.post("/distribution/withdrawals", {"amount": 1000, "method": "store_credit"})
    assert taken.status_code == 201, taken.json()


def test_the_switch_off_asks_nobody_in_the_center():
    configure(agreement_text=TERMS, agreement_required=False)
    assert agreement.needs_agreement(make_distributor()) is None


def test_the_api_shows_the_terms_and_refuses_a_missing_or_stale_version():
    configure(enable_mode="apply", require_real_name=False, agreement_text=TERMS)
    client = api_for(make_buyer())
    profile = client.get("/distribution/profile").json()
    assert profile["agreement"]["version"] == 1 and profile["agreement"]["text"] == TERMS
    assert profile["agreement"]["url"] == "/d/agreement/" and profile["agreement"]["required"] is True
    assert profile["needs_agreement"] is False and profile["agreed_version"] is None

    missing = client.post("/distribution/apply", {})
    assert missing.status_code == 400 and missing.json()["code"] == "AGREEMENT_NOT_ACCEPTED"
    assert "分销商协议" in missing.json()["message"]
    configure(agreement_text=TERMS + "\n\n三、依法纳税。")
    stale = client.post("/distribution/apply", {"agreed_version": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "AGREEMENT_OUTDATED" and stale.json()["details"] == {"current_version": 2}
    done = client.post("/distribution/apply", {"agreed_version": 2})
    assert done.status_code == 201 and done.json()["agreed_version"] == 2
    assert client.post("/distribution/apply", {"agreed_version": 0}).status_code in (400, 422)


def test_a_designated_distributor_agrees_through_the_api():
    configure(agreement_text=TERMS)
    client = api_for(make_distributor().user)
    assert client.get("/distribution/profile").json()["needs_agreement"] is True
    configure(agreement_text=TERMS + "\n\n三、依法纳税。")
    stale = client.post("/distribution/agreement", {"version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "AGREEMENT_OUTDATED"
    done = client.post("/distribution/agreement", {"version": 2}).json()
    assert (done["needs_agreement"], done["agreed_version"]) == (False, 2) and done["agreed_at"]
    assert api_for(make_buyer()).post("/distribution/agreement", {"version": 2}).status_code == 403


def test_the_default_text_says_what_the_shop_really_does():
    for promise in ("真实销售", "不收取任何费用", "售后期结束后结算", "暂停或取消", "个人所得税"):
        assert promise in DEFAULT_TEXT


def test_terms_scheduled_for_later_become_a_version_when_they_take_effect():
    from datetime import timedelta

    from django.utils import timezone

    from fenxiao.distribution.services import scheduled

    boss = make_staff("boss", superuser=True)
    when = timezone.now() + timedelta(hours=1)
    scheduled.schedule_settings(boss, when, {"agreement_text": TERMS})
    assert agreement.current() is None and not DistributorAgreement.objects.exists()  # checked, not kept
    scheduled.apply_due(now=when)
    terms = agreement.current()
    assert (terms.version, terms.text, terms.created_by) == (1, TERMS, boss)
