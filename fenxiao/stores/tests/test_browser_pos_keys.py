"""门店 › 收银系统密钥 in a browser: 运营 creates a store's POS key, reads the secret once, and
revokes the key from the list."""

import pytest

from fenxiao.stores.models import PosApiKey
from fenxiao.stores.services import pos_keys
from fenxiao.stores.testing import make_store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operations_create_a_pos_key_see_the_secret_once_and_revoke_it(operations_desk):
    make_store("湖滨店")
    page = operations_desk.page
    page.goto("/backend/stores/posapikey/add/")
    page.get_by_label("门店").select_option(label="湖滨店")
    page.get_by_label("用途").fill("前台收银机")
    page.get_by_role("button", name="保存", exact=True).click()
    key = PosApiKey.objects.get()
    message = page.get_by_text("签名密钥只显示这一次")
    message.wait_for()
    assert pos_keys.secret_for(key) in message.inner_text()
    page.screenshot(path="/tmp/pos_key_created.png", full_page=True)
    page.goto("/backend/stores/posapikey/")
    assert key.key_id in page.content() and pos_keys.secret_for(key) not in page.content()
    page.locator(f"input[name=_selected_action][value='{key.pk}']").check()
    page.locator("select[name=action]").select_option("revoke_selected")
    page.locator("button[name=index]").click()
    page.get_by_text("已停用 1 个密钥").wait_for()
    page.screenshot(path="/tmp/pos_key_revoked.png", full_page=True)
    key.refresh_from_db()
    assert key.is_active is False
