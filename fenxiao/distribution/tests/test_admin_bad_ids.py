"""Backend addresses that carry an id: a commission rule's id that is not a number or names no
rule is a 404 page, never a 500; a new rule's preset target that is no id is dropped."""

import pytest

from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad_id", ["xyz", "999999", "-1", "%EF%BC%91"])
def test_simulating_an_unknown_or_malformed_rule_is_a_404(bad_id):
    client = login(make_staff(superuser=True))
    url = f"/backend/distribution/commissionrule/{bad_id}/simulate/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"months": "1"}).status_code == 404


@pytest.mark.parametrize("query", ["product=abc", "category=abc", "product=1,abc", "sku=abc", "grade=x"])
def test_a_new_rule_drops_a_preset_target_that_is_no_id(query):
    client = login(make_staff(superuser=True))
    page = client.get(f"/backend/distribution/commissionrule/add/?{query}")
    assert page.status_code == 200
    name = query.split("=")[0]
    assert name not in page.context["adminform"].form.initial


def test_a_new_rule_keeps_a_preset_product():
    product = make_product("龙井礼盒")
    client = login(make_staff(superuser=True))
    page = client.get(f"/backend/distribution/commissionrule/add/?product={product.pk}")
    assert page.status_code == 200
    assert page.context["adminform"].form.initial["product"] == str(product.pk)
    assert "龙井礼盒" in page.content.decode()
