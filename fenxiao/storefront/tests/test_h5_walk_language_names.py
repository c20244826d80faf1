"""The language switch (登录, 账号设置) names each language in itself: a buyer who reads
English finds "English" on the Chinese page, and 简体中文 on the English one."""

import re

import pytest
from django.test import Client

from fenxiao.testing import in_english, make_buyer

pytestmark = pytest.mark.django_db


def switch_buttons(html: str) -> dict[str, str]:
    """The switch's buttons: language code → the name shown on the button."""
    form = html[html.index('data-testid="language-switch"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'value="([\w-]+)" lang="[\w-]+"[^>]*>([^<]+)</button>', form))


@pytest.mark.parametrize("url", ["/login/", "/me/settings/"])
def test_chinese_page_names_english_in_english(url):
    """The Chinese page's button for English read 英语, which an English reader cannot find."""
    client = Client()
    client.force_login(make_buyer())
    html = client.get(url).content.decode()
    assert switch_buttons(html) == {"zh-hans": "简体中文", "en": "English"}


def test_english_page_names_chinese_in_chinese():
    """And the other way round: the English page keeps 简体中文 for the Chinese reader."""
    client = in_english(Client())
    client.force_login(make_buyer())
    html = client.get("/me/settings/").content.decode()
    assert switch_buttons(html) == {"zh-hans": "简体中文", "en": "English"}
