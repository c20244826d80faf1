"""Optional demo content a template adds on request: idempotent by natural keys (the demo
category's name, the SKU codes, the sample store's name), so a second run adds nothing."""

from django.db import transaction
from django.utils.translation import gettext as _

DEMO_CATEGORY = "示例商品"
# (SKU code, product name, price in fen): a shop with something to share on day one.
DEMO_PRODUCTS = [
    ("DEMO-TEA-001", "示例商品·明前龙井 250g", 12800),
    ("DEMO-MUG-001", "示例商品·陶瓷马克杯", 3900),
    ("DEMO-BAG-001", "示例商品·帆布托特包", 5900),
]
SAMPLE_STORE = "示例门店（请修改地址）"


def demo_products(apply: bool, staff):
    from fenxiao.catalog.models import Category, Product, Sku

    have = set(Sku.objects.filter(code__in=[row[0] for row in DEMO_PRODUCTS]).values_list("code", flat=True))
    missing = [row for row in DEMO_PRODUCTS if row[0] not in have]
    current = _("已有 %(count)s 件示例商品") % {"count": len(have)}
    if not missing:
        return "same", current, current
    if apply:
        with transaction.atomic():
            category, _created = Category.objects.get_or_create(name=DEMO_CATEGORY, parent=None)
            for code, name, price in missing:
                product = Product.objects.create(name=name, category=category, is_listed=True, price=price)
                Sku.objects.create(product=product, code=code, price=price, stock=100)
    return "create", current, _("新建 %(count)s 件上架示例商品（库存各 100）") % {"count": len(missing)}


def sample_store(apply: bool, staff):
    """A sample store only when the merchant has none: theirs are never touched."""
    from fenxiao.stores.models import Store

    count = Store.objects.count()
    if count:
        return "same", _("已有 %(count)s 家门店") % {"count": count}, _("保留商家的门店")
    if apply:
        Store.objects.get_or_create(
            name=SAMPLE_STORE,
            defaults={
                "province": "浙江省",
                "city": "杭州市",
                "district": "西湖区",
                "address_detail": "请在后台“门店”中改为真实地址",
                "hours": "09:00-21:00",
                "pickup_enabled": True,
                "is_open": False,  # closed until the merchant fills in the real address
            },
        )
    return "create", _("尚无门店"), _("新建示例门店（暂停营业，改好地址后开启）")
