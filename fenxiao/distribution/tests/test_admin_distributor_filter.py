"""The commission and withdrawal lists filter by one distributor, by referral code or phone
(as typed, full-width too), as a filter the page shows; the distributor's pages link there."""

import pytest

from fenxiao.distribution.models import Commission, Withdrawal

from .backend import credit, list_url, request_withdrawal, url

pytestmark = pytest.mark.django_db


def shown(boss, model, query):
    page = boss.get(list_url(model), query)
    assert page.status_code == 200
    return {obj.distributor_id for obj in page.context["cl"].result_list}


@pytest.mark.parametrize("model", [Commission, Withdrawal])
def test_one_distributors_records_by_code_or_phone(world, boss, model):
    a, b = world["a"], world["b"]
    if model is Withdrawal:
        credit(a, 5000)
        request_withdrawal(a, amount=1000)
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
