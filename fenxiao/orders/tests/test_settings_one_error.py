"""订单设置: a number out of its range is refused with one message naming the range that
applies, not two at once (确保该值大于或等于0。 beside 确保该值大于或等于1。)."""

import pytest
from django.urls import reverse

from fenxiao.orders.models import OrderSettings

pytestmark = pytest.mark.django_db

OK = {
    "payment_timeout_minutes": "15",
    "auto_complete_days": "7",
    "signed_auto_complete_days": "2",
    "after_sale_days": "15",
    "shipping_fee": "8.5",
    "free_shipping_threshold": "99.00",
    "low_stock_threshold": "10",
    "after_sale_respond_days": "2",
    "return_ship_days": "7",
    "return_receive_days": "10",
}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("payment_timeout_minutes", "-5", "确保该值大于或等于1。"),
        ("payment_timeout_minutes", "0", "确保该值大于或等于1。"),
        ("auto_complete_days", "-1", "确保该值大于或等于1。"),
        ("after_sale_days", "-3", "确保该值大于或等于0。"),
        ("after_sale_days", "366", "确保该值小于或等于365。"),
        ("return_ship_days", "-2", "确保该值大于或等于1。"),
    ],
)
def test_an_out_of_range_number_gets_one_message(boss, field, value, message):
    settings = OrderSettings.current()
    page = boss.post(reverse("admin:orders_ordersettings_change", args=[settings.pk]), {**OK, field: value})
    assert page.status_code == 200
    assert page.context["adminform"].form.errors[field] == [message]
