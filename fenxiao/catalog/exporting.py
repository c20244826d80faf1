"""导出 on the product list (`core/admin_exports.py`): the product admin adds this mixin to
its bases, nothing else. The file is the import's format (`services/product_export.py`)."""

from fenxiao.core.admin_exports import ExportMixin

from .services.product_export import PRODUCTS


class ProductExports(ExportMixin):
    export = PRODUCTS
