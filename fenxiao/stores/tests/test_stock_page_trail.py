"""The store's 门店库存 page names the store in the header's trail (门店 › 湖滨店), the
store's own page a click away: the trail stopped at the store list, so a merchant stocking
one of 12 stores saw no store named up there and had no way back but the list."""

import re

import pytest

from fenxiao.stores.testing import make_store
from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


def test_the_header_trail_leads_back_to_the_store():
    store = make_store("湖滨店")
    page = login(make_staff(superuser=True)).get(f"/backend/stores/store/{store.pk}/stock/")
    assert page.status_code == 200
    html = page.content.decode()
    trail = [
        (href, re.sub(r"\s+", " ", name).strip())
        for href, name in re.findall(
            r'<a href="([^"]*)" class="align-middle inline-block leading-5[^"]*">(.*?)</a', html, re.S
        )
    ]
    assert trail == [  # the app, named 门店 as its model is, is left out
        ("/backend/stores/store/", "门店"),
        (f"/backend/stores/store/{store.pk}/change/", "湖滨店"),
    ]
