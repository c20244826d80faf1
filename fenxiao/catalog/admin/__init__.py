"""Backend pages for the catalog: categories, and the product editor (rich-text description,
spec matrix, gallery, copy, list tabs, batch price/stock). Every rule is a catalog service."""

from .categories import CategoryAdmin, category_tree, label_categories_by_path
from .products import ProductAdmin

__all__ = ["CategoryAdmin", "ProductAdmin", "category_tree", "label_categories_by_path"]
