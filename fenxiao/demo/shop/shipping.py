"""Two shipping-fee templates, as a small shop sets them up: 普通快递 by piece for most
goods, 大件 by weight for home goods; 新疆/西藏 cost more, 港澳台 are not delivered.
A single ordinary item still costs the shop's usual ¥10."""

from fenxiao.catalog.models import Product
from fenxiao.shipping import regions
from fenxiao.shipping.models import ChargeBy, ShippingFreeRule, ShippingRule, ShippingTemplate

REMOTE = [regions.TIBET, regions.XINJIANG]
NOT_DELIVERED = [regions.TAIWAN, regions.HONG_KONG, regions.MACAO]
HEAVY_CATEGORY = "家居日用"


def create_shipping_templates() -> tuple[ShippingTemplate, ShippingTemplate]:
    parcel = ShippingTemplate.objects.create(
        name="普通快递",
        charge_by=ChargeBy.PIECE,
        first_units=1,
        first_fee=1000,
        additional_units=1,
        additional_fee=300,
        free_over_amount=9900,
        undelivered_provinces=NOT_DELIVERED,
    )
    ShippingRule.objects.create(
        template=parcel,
        provinces=REMOTE,
        first_units=1,
        first_fee=2500,
        additional_units=1,
        additional_fee=1000,
    )
    ShippingFreeRule.objects.create(template=parcel, provinces=REMOTE, over_amount=29900)
    bulky = ShippingTemplate.objects.create(
        name="大件",
        charge_by=ChargeBy.WEIGHT,
        first_units=3,
        first_fee=1000,
        additional_units=1,
        additional_fee=400,
        undelivered_provinces=NOT_DELIVERED,
    )
    ShippingRule.objects.create(
        template=bulky,
        provinces=REMOTE,
        first_units=1,
        first_fee=3000,
        additional_units=1,
        additional_fee=1500,
    )
    heavy = Product.objects.filter(category__parent__name=HEAVY_CATEGORY)
    heavy.update(shipping_template=bulky)
    Product.objects.exclude(category__parent__name=HEAVY_CATEGORY).update(shipping_template=parcel)
    return parcel, bulky
