"""The 运费模板 page as a merchant sees it: fees in ¥, provinces ticked, region rows."""

import pytest

from fenxiao.shipping import regions
from fenxiao.shipping.models import ChargeBy, ShippingRule, ShippingTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_template_page_shows_yuan_and_provinces(operations_desk):
    template = ShippingTemplate.objects.create(
        name="大件",
        charge_by=ChargeBy.WEIGHT,
        first_units=3,
        first_fee=1000,
        additional_fee=400,
        undelivered_provinces=[regions.HONG_KONG, regions.MACAO, regions.TAIWAN],
    )
    ShippingRule.objects.create(
        template=template, provinces=[regions.TIBET, regions.XINJIANG], first_fee=3000, additional_fee=1500
    )
    page = operations_desk.page
    page.goto(f"/backend/shipping/shippingtemplate/{template.pk}/change/")
    assert page.get_by_label("首费（元）", exact=True).input_value() == "10.00"
    assert page.locator(".select2-selection__choice", has_text="香港特别行政区").count() == 1
    operations_desk.shot("shipping-template")
    page.get_by_label("续费（元）", exact=True).fill("5")
    # A new region row: search a province and pick it.
    page.get_by_text("再添加一个指定地区运费").click()
    page.locator("#id_rules-1-provinces + .select2 .select2-search__field").fill("青海")
    page.locator(".select2-results__option", has_text="青海省").click()
    page.locator("input[name=rules-1-first_fee]").fill("20")
    page.locator("input[name=rules-1-additional_fee]").fill("8")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url("**/shippingtemplate/")
    assert "首3kg ¥10.00，每增加1kg ¥5.00" in page.content()
    operations_desk.shot("shipping-templates")
    qinghai = ShippingRule.objects.get(provinces=["63"])
    assert (qinghai.first_fee, qinghai.additional_fee) == (2000, 800)
