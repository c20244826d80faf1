"""Saving the product editor: the product's own fields, its spec matrix, its gallery and
whether it is listed — in one transaction, so a refusal anywhere (a SKU code taken, stock
that moved, a bad picture) leaves the product exactly as it was.

Only the fields the form edits are written on an existing product: price, sales and listing
are kept by their own services and may have moved while the page was open.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from fenxiao.core.errors import DomainError

from ..models import Product
from .images import save_gallery
from .products import refresh_summary, sanitize_description, set_listed
from .spec_matrix import Matrix, save_matrix


@transaction.atomic
def save_edited_product(
    product: Product,
    *,
    fields: tuple[str, ...],
    matrix: Matrix,
    gallery_order: list[str],
    uploads: list,
    listed: bool,
) -> list[str]:
    """Returns warnings to show (the product is saved regardless), e.g. why it was not listed."""
    product.description = sanitize_description(product.description)
    if product.pk:
        product.save(update_fields=[*fields, "updated_at"])
    else:
        product.is_listed = False
        product.save()
    save_matrix(product, matrix)
    save_gallery(product, gallery_order, uploads)
    refresh_summary([product.pk])
    warnings = []
    current = Product.objects.filter(pk=product.pk).values_list("is_listed", flat=True).get()
    if listed != current:
        try:
            set_listed(product, listed)
        except DomainError as exc:
            warnings.append(_("商品已保存，但未能上架：%(message)s") % {"message": exc.message})
    return warnings
