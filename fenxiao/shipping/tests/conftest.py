"""A shop with two fee templates (by piece with regions, by weight) and a product on each,
plus one on the shop's flat fee."""

import pytest

from fenxiao.catalog.models import Sku
from fenxiao.orders.models import OrderSettings
from fenxiao.shipping import regions
from fenxiao.shipping.models import ChargeBy, ShippingFreeRule, ShippingRule, ShippingTemplate
from fenxiao.testing import make_product


@pytest.fixture
def shop():
    settings = OrderSettings.current()
    settings.shipping_fee, settings.free_shipping_threshold = 1000, 9900
    settings.save()
    parcel = ShippingTemplate.objects.create(
        name="普通快递",
        first_units=1,
        first_fee=800,
        additional_units=2,
        additional_fee=500,
        free_over_amount=20000,
        undelivered_provinces=[regions.HONG_KONG],
    )
    ShippingRule.objects.create(
        template=parcel, provinces=[regions.XINJIANG], first_fee=2000, additional_fee=1000
    )
    ShippingFreeRule.objects.create(template=parcel, provinces=[regions.XINJIANG], over_amount=50000)
    bulky = ShippingTemplate.objects.create(
        name="大件",
        charge_by=ChargeBy.WEIGHT,
        first_units=2,
        first_fee=1500,
        additional_units=1,
        additional_fee=600,
    )
    scarf = make_product("羊毛围巾", price=3000)
    scarf.shipping_template = parcel
    scarf.save()
    sofa = make_product("懒人沙发", price=5000)
    sofa.shipping_template = bulky
    sofa.save()
    Sku.objects.filter(product=sofa).update(weight_grams=2500)
    plain = make_product("帆布袋", price=2000)
    return {
        "scarf": scarf.skus.get(),
        "sofa": sofa.skus.get(),
        "plain": plain.skus.get(),
        "parcel": parcel,
        "bulky": bulky,
    }
