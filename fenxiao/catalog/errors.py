from django.utils.translation import gettext_lazy as _

from fenxiao.core.errors import DomainError


class SkuNotFound(DomainError):
    code = "SKU_NOT_FOUND"
    message = _("商品规格不存在")
    status = 404


class ProductNotFound(DomainError):
    code = "PRODUCT_NOT_FOUND"
    message = _("商品不存在或已下架")
    status = 404


class ProductDelisted(DomainError):
    code = "PRODUCT_DELISTED"
    message = _("商品已下架")
    status = 409


class StockInsufficient(DomainError):
    code = "STOCK_INSUFFICIENT"
    message = _("库存不足")
    status = 409


class InvalidQuantity(DomainError):
    code = "INVALID_QUANTITY"
    message = _("购买数量必须大于0")
    status = 400


class CatalogInvalid(DomainError):
    code = "CATALOG_INVALID"
    message = _("商品信息有误")
    status = 400
