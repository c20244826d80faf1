"""/store/ for someone who is not store staff reads like the error pages: what is wrong,
then the code on a line of its own (错误代码：…)."""

import pytest
from django.test import Client

from fenxiao.testing import make_buyer

pytestmark = pytest.mark.django_db


def test_a_buyer_is_told_plainly_with_the_code_apart():
    client = Client()
    client.force_login(make_buyer())
    page = client.get("/store/")
    text = page.content.decode()
    assert page.status_code == 403
    assert '<h1 style="font-size:20px;margin:0 0 8px">您还不是门店员工</h1>' in text
    assert '<p class="muted">错误代码：STORE_STAFF_ONLY</p>' in text
    assert "（STORE_STAFF_ONLY）" not in text
