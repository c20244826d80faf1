"""导出 on the order and after-sale lists (`core/admin_exports.py`): each list's admin adds
its mixin to its bases, nothing else."""

from fenxiao.core.admin_exports import ExportMixin

from ..services.exports import AFTER_SALES, ORDERS


class OrderExports(ExportMixin):
    """Orders with their lines, buyer, address, attribution and commission per level."""

    export = ORDERS


class AfterSaleExports(ExportMixin):
    export = AFTER_SALES
