"""佣金提现 at 375 px once the period's requests are used up: the date from which the
distributor may ask again reads as one date, never split over two lines."""

import pytest
from django.utils import timezone

from fenxiao.distribution.services import config, withdrawals
from fenxiao.distribution.tests.helpers import configure, earn, make_distributor
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The lines the date's characters sit on: the text node holding the date, measured
# character by character (a line box per distinct top).
DATE_LINES = """([root, date]) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.data.indexOf(date);
        if (at < 0) continue;
        const tops = new Set();
        for (let i = at; i < at + date.length; i++) {
            const range = document.createRange();
            range.setStart(node, i);
            range.setEnd(node, i + 1);
            for (const rect of range.getClientRects()) tops.add(Math.round(rect.top));
        }
        return tops.size;
    }
    return 0;
}"""


@pytest.mark.parametrize("language", [None, "en"])
def test_the_next_request_date_stays_on_one_line_at_375(phones, live_server, language):
    """每月最多提现 1 次，本月的次数已用完，2027-01-01 起可再申请: at 375 px the date broke after
    "2027-" and went on with "01-01" on the next line."""
    distributor = make_distributor()
    earn(distributor, 100000)
    configure(withdraw_limit=1, withdraw_period="monthly")
    withdrawals.request(distributor, amount=1000, method="store_credit", account={})
    day = timezone.localtime(withdrawals.reopens_at(distributor, config.current())).strftime("%Y-%m-%d")

    phone = signed_in_phone(
        phones, live_server, distributor.user, f"withdraw-limit-{language or 'zh'}", language
    )
    page = phone.page
    assert page.goto("/d/withdraw/").status == 200
    limit = page.get_by_test_id("withdraw-limit-reached")
    assert day in limit.inner_text()
    phone.shot("limit")

    assert page.evaluate(DATE_LINES, [limit.element_handle(), day]) == 1
    assert page.evaluate("document.documentElement.scrollWidth") == 375


def test_the_form_shows_the_fields_the_chosen_method_asks_for(phones, live_server):
    """A bank card asks for the bank, Alipay for an account, the mall balance for nothing:
    the fields follow the 提现方式 chosen (all of them showed, whatever was chosen)."""
    distributor = make_distributor()
    earn(distributor, 100000)
    configure(withdraw_methods=["bank", "alipay", "store_credit"])
    page = signed_in_phone(phones, live_server, distributor.user, "withdraw-fields").page
    assert page.goto("/d/withdraw/").status == 200

    def shown():
        return [
            name for name in ("name", "account", "bank") if page.locator(f"input[name={name}]").is_visible()
        ]

    assert page.get_by_label("提现方式").input_value() == "bank"
    assert shown() == ["name", "account", "bank"]
    page.get_by_label("提现方式").select_option("alipay")
    assert shown() == ["name", "account"]
    page.get_by_label("收款人姓名").fill("刘分享")
    page.get_by_label("收款账号（支付宝账号）").fill("liu@alipay.com")  # the chosen method's account
    page.get_by_label("提现方式").select_option("store_credit")
    assert shown() == []
    page.get_by_label("提现金额（元）").fill("20")
    page.get_by_role("button", name="申请提现").click()
    page.get_by_text("提现申请已提交").wait_for()
