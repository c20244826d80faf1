"""Backend addresses that carry a commission rule's id: an id that is not a number or names
no rule is a 404 page, never a 500."""

import pytest

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad_id", ["xyz", "999999", "-1", "%EF%BC%91"])
def test_simulating_an_unknown_or_malformed_rule_is_a_404(bad_id):
    client = login(make_staff(superuser=True))
    url = f"/backend/distribution/commissionrule/{bad_id}/simulate/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"months": "1"}).status_code == 404
