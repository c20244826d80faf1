"""What buyers type is not always Chinese with spaces: an address detail, a note, an
after-sale message or a nickname can be one long run of letters. At 375 px it wraps inside
the screen, and the bars at the bottom (提交订单 and the order's actions) stay on screen
and tappable."""

import pytest

from fenxiao.distribution.services import distributors
from fenxiao.orders.services import after_sales, checkout
from fenxiao.storefront.tests.test_browser_english_script import signed_in_phone
from fenxiao.testing import make_address, make_buyer, make_product, make_staff, pay_in_sandbox
from fenxiao.testing_browser import UNCOVERED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_DETAIL = "Room1203-" + "X" * 150
LONG_NOTE = "Note-" + "N" * 190
LONG_MESSAGE = "A" * 300


def page_width(page) -> int:
    # Not against window.innerWidth: a phone's browser widens its layout viewport (zooming
    # out) to fit a page that overflows, so that difference reads 0 on a broken page.
    return page.evaluate("document.documentElement.scrollWidth")


def on_screen(button) -> None:
    """Inside the 375 px screen, and the tap lands on it."""
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert button.evaluate(UNCOVERED)


def test_long_unbroken_text_wraps_at_375(phones, live_server):
    buyer = make_buyer(nickname="W" * 40)
    distributors.designate(buyer, make_staff())
    address = make_address(buyer, recipient="R" * 40, detail=LONG_DETAIL)
    tea = make_product("Oolong" + "T" * 70, price=12800)
    sku = tea.skus.get()
    order = checkout.place_order(buyer, [(sku.pk, 1)], address_id=address.pk, note=LONG_NOTE)
    pay_in_sandbox(order)
    sale = after_sales.request_after_sale(
        order,
        buyer,
        kind="refund_only",
        reason="不想要了",
        description="D" * 500,
        lines=[{"line_id": order.lines.get().pk}],
    )
    after_sales.add_message(sale, buyer, message=LONG_MESSAGE)

    phone = signed_in_phone(phones, live_server, buyer, "long-text")
    page = phone.page
    pages = {
        "checkout": f"/checkout/?sku={sku.pk}&qty=1",
        "order": f"/orders/{order.number}/",
        "after-sale": f"/orders/{order.number}/after-sales/{sale.number}/",
        "after-sale-form": f"/orders/{order.number}/after-sale/",
        "addresses": "/me/addresses/",
        "orders": "/orders/",
        "me": "/me/",
        "distribution": "/d/",
        "share": f"/d/share/?product={tea.pk}",
    }
    widths = {}
    for name, url in pages.items():
        assert page.goto(url).status == 200, url
        widths[name] = page_width(page)
        phone.shot(name)
    assert widths == dict.fromkeys(pages, 375)

    # The long texts are all there, wrapped, not cut off.
    page.goto(pages["checkout"])
    assert LONG_DETAIL in page.get_by_test_id("checkout-address").inner_text().replace("\n", "")
    on_screen(page.get_by_role("button", name="提交订单"))
    page.goto(pages["order"])
    assert LONG_DETAIL in page.get_by_test_id("order-address").inner_text().replace("\n", "")
    on_screen(page.get_by_role("button", name="取消订单并退款"))
    page.goto(pages["after-sale"])
    assert LONG_MESSAGE in page.locator("#history").inner_text().replace("\n", "")


# The height of an element's text, not of its box (a table cell is as tall as its row).
TEXT_HEIGHT = """el => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getBoundingClientRect().height;
}"""


def test_a_spec_table_keeps_its_headings_whole_at_375(phones, live_server):
    """A 规格参数 table in a product's description: next to a long value its headings broke one
    character a line (商品名 / 称); they stay on one line and the page keeps its width."""
    long_value = "颜色：白色、黑色、雾霾蓝、燕麦灰、豆沙粉；尺码：S、M、L、XL、XXL、XXXL；" * 2
    rows = [("商品名称", "新疆长绒棉圆领短袖T恤"), ("可选规格", long_value), ("重量", "约 220 克")]
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    product = make_product("长绒棉T恤", price=5900)
    product.description = f"<h3>规格参数</h3><table><tbody>{table}</tbody></table>"
    product.save(update_fields=["description"])

    phone = phones("spec-table")
    page = phone.page
    page.goto(f"/products/{product.pk}/")
    headings = page.locator(".description th")
    line = float(headings.first.evaluate("th => getComputedStyle(th).lineHeight").removesuffix("px"))
    for th in headings.all():
        text = th.evaluate(TEXT_HEIGHT)
        assert text < 2 * line, th.inner_text()
    assert page_width(page) <= 375
    phone.shot("product")
