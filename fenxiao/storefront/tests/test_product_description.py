"""A product page's 商品详情 says so when the merchant wrote none (an empty editor saves
<p><br></p>), instead of an empty card; text or pictures show as written."""

import pytest
from django.test import Client

from fenxiao.testing import make_product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "description, empty",
    [
        ("", True),
        ("<p><br></p>", True),
        ("<p>&nbsp; </p>", True),
        ("<p>明前龙井，一芽一叶</p>", False),
        ('<p><img src="/media/products/tea.jpg" alt=""></p>', False),
    ],
)
def test_an_empty_description_says_so(description, empty):
    product = make_product("明前龙井", price=12800)
    product.description = description
    product.save(update_fields=["description"])
    page = Client().get(f"/products/{product.pk}/").content.decode()
    assert ("商家暂未填写商品详情" in page) is empty
    assert ('class="description"' in page) is not empty
