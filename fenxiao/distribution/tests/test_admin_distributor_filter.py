"""The commission and withdrawal lists filter by one distributor, by referral code or phone
(as typed, full-width too), as a filter the page shows; the distributor's pages link there."""

import pytest

from fenxiao.distribution.models import Commission, CustomerBinding, Distributor, TouchSource, Withdrawal
from fenxiao.distribution.services import binding
from fenxiao.testing import make_buyer

from .backend import credit, list_url, request_withdrawal, url

pytestmark = pytest.mark.django_db


def shown(boss, model, query):
    page = boss.get(list_url(model), query)
    assert page.status_code == 200
    return {obj.distributor_id for obj in page.context["cl"].result_list}


@pytest.mark.parametrize("model", [Commission, Withdrawal, CustomerBinding])
def test_one_distributors_records_by_code_or_phone(world, boss, model):
    a, b = world["a"], world["b"]
    if model is Withdrawal:
        credit(a, 5000)
        request_withdrawal(a, amount=1000)
    if model is CustomerBinding:
        binding.record_touch(make_buyer(), a, TouchSource.LINK)
    assert {a.pk, b.pk} <= set(model.objects.values_list("distributor_id", flat=True))
    assert shown(boss, model, {"distributor": a.referral_code.lower()}) == {a.pk}
    assert shown(boss, model, {"distributor": " " + a.user.phone}) == {a.pk}
    full_width = a.user.phone.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    assert shown(boss, model, {"distributor": full_width}) == {a.pk}
    assert shown(boss, model, {"distributor": "NOSUCH"}) == set()
    assert shown(boss, model, {"distributor": "长" * 500}) == set()
    page = boss.get(list_url(model), {"distributor": a.referral_code}).content.decode()
    assert 'name="distributor"' in page and f'value="{a.referral_code}"' in page


def test_the_distributor_pages_link_to_the_filtered_lists(world, boss):
    a = world["a"]
    for page in (boss.get(url(a)), boss.get(url(a, "ledger"))):
        html = page.content.decode()
        assert f"/backend/distribution/commission/?distributor={a.referral_code}" in html
        assert f"/backend/distribution/withdrawal/?distributor={a.referral_code}" in html
        assert f"/backend/distribution/distributor/?parent={a.referral_code}" in html
    html = boss.get(url(a)).content.decode()
    assert f"/backend/distribution/customerbinding/?distributor={a.referral_code}" in html


def test_a_direct_team_by_the_parents_code_or_phone(world, boss):
    a, b = world["a"], world["b"]  # b is a's direct recruit
    for value in (a.referral_code, a.user.phone):
        page = boss.get(list_url(Distributor), {"parent": value})
        assert page.status_code == 200
        assert {d.pk for d in page.context["cl"].result_list} == {b.pk}


def test_payout_progress_names_its_empty_value(world, boss):
    credit(world["a"], 5000)
    manual = request_withdrawal(world["a"], amount=1000)  # not approved: no payout started
    Withdrawal.objects.exclude(pk=manual.pk).update(payout_status="failed")
    page = boss.get(list_url(Withdrawal))
    html = page.content.decode()
    assert "未发起自动打款" in html and "?payout=none" in html
    listed = boss.get(list_url(Withdrawal), {"payout": "none"}).context["cl"].result_list
    assert [w.pk for w in listed] == [manual.pk]
    failed = boss.get(list_url(Withdrawal), {"payout": "failed"}).context["cl"].result_list
    assert manual.pk not in {w.pk for w in failed} and len(failed) >= 1
    # An unknown value filters nothing out rather than failing.
    assert boss.get(list_url(Withdrawal), {"payout": "zz"}).status_code == 200
