"""An after-sale's item rows are titled by the product, not the order line's database id."""

from fenxiao.orders.models import AfterSaleLine, OrderLine


def test_an_after_sale_item_reads_as_the_product_and_quantity():
    item = AfterSaleLine(order_line=OrderLine(product_name="保温杯", spec_text="红色 500ml"), quantity=1)
    assert str(item) == "保温杯 红色 500ml ×1"
    plain = AfterSaleLine(order_line=OrderLine(product_name="保温杯", spec_text=""), quantity=2)
    assert str(plain) == "保温杯 ×2"
