"""定向推送's 内容 box is drawn like the form's other inputs: it was a bare textarea (no
border, no class), so on the new-push page the required 内容 field looked empty of any
input and only its resize handle showed."""

import re

import pytest
from django.urls import reverse

from fenxiao.testing import login, make_staff

pytestmark = pytest.mark.django_db


def test_the_body_box_is_styled_like_the_title_input():
    page = login(make_staff("boss", superuser=True)).get(reverse("admin:promotions_push_add"))
    assert page.status_code == 200
    html = page.content.decode()
    body = re.search(r"<textarea[^>]*name=\"body\"[^>]*>", html).group()
    title = re.search(r"<input[^>]*name=\"title\"[^>]*>", html).group()
    assert 'class="' in body
    assert "border" in re.search(r'class="([^"]*)"', body).group(1)
    assert "border" in re.search(r'class="([^"]*)"', title).group(1)
