"""复制商品 is addressed by the product's id: an id that is not a number (letters, a sign,
full-width digits) or names no product is a 404 page, never a 500."""

import pytest

from fenxiao.testing import login, make_product, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad_id", ["xyz", "999999", "-1", "%EF%BC%91"])
def test_copying_an_unknown_or_malformed_product_is_a_404(bad_id):
    client = login(make_staff(superuser=True))
    url = f"/backend/catalog/product/{bad_id}/copy/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"confirm": "1"}).status_code == 404


def test_a_real_product_still_opens_its_copy_page():
    product = make_product(name="红茶")
    client = login(make_staff(superuser=True))
    page = client.get(f"/backend/catalog/product/{product.pk}/copy/")
    assert page.status_code == 200 and "红茶" in page.content.decode()
