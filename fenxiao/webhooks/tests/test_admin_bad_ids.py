"""测试推送, 更换签名密钥 and 重新投递 are addressed by a row's id: an id that is not a number
or names no row is a 404 page, never a 500; the row's own page still opens."""

import pytest

from fenxiao.testing import login, make_staff

from .helpers import make_endpoint

pytestmark = pytest.mark.django_db

ACTIONS = [
    "/backend/webhooks/endpoint/{id}/ping/",
    "/backend/webhooks/endpoint/{id}/rotate-secret/",
    "/backend/webhooks/delivery/{id}/redeliver/",
]


@pytest.mark.parametrize("url", ACTIONS)
@pytest.mark.parametrize("bad_id", ["xyz", "999999"])
def test_an_unknown_or_malformed_id_is_a_404(url, bad_id):
    client = login(make_staff(superuser=True))
    assert client.get(url.format(id=bad_id)).status_code == 404
    assert client.post(url.format(id=bad_id), {"confirm": "1"}).status_code == 404


def test_an_existing_endpoint_still_opens_its_confirmation():
    endpoint = make_endpoint("https://hooks.example.com/in")
    client = login(make_staff(superuser=True))
    page = client.get(f"/backend/webhooks/endpoint/{endpoint.pk}/rotate-secret/")
    assert page.status_code == 200
    assert endpoint.url in page.content.decode()
