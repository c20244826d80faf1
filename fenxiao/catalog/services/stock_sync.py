"""Stock levels pushed by an ERP or warehouse system (库存同步), by SKU code.

The system that counts the goods sends each SKU's sellable stock (what is on hand less
what it already holds for orders not yet shipped); the mall takes it as the SKU's stock,
from which orders keep taking. All or nothing and set-based: the rows are locked in id
order as every writer of SKU rows locks them, one UPDATE writes every level, and an
unknown code refuses the whole push, so a half-applied sync never leaves the shop's
stock part old and part new.
"""

from collections.abc import Mapping

from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _

from ..errors import CatalogInvalid, SkuNotFound
from ..models import Sku

MAX_CODES = 500
MAX_LISTED = 20


@transaction.atomic
def set_levels(levels: Mapping[str, int]) -> dict[str, int]:
    """Set each SKU's stock to the level given for its code; {code: stock} as written."""
    if not levels:
        raise CatalogInvalid(_("请至少提供一个 SKU 编码"), code="STOCK_SYNC_EMPTY")
    if len(levels) > MAX_CODES:
        raise CatalogInvalid(
            _("一次最多同步 %(count)s 个 SKU") % {"count": MAX_CODES}, code="STOCK_SYNC_TOO_MANY"
        )
    if any(level < 0 for level in levels.values()):
        raise CatalogInvalid(_("库存不能为负数"), code="STOCK_NEGATIVE")
    found = dict(
        Sku.objects.select_for_update().filter(code__in=list(levels)).order_by("pk").values_list("code", "pk")
    )
    missing = sorted(set(levels) - set(found))
    if missing:
        listed = "、".join(missing[:MAX_LISTED]) + (_("等") if len(missing) > MAX_LISTED else "")
        raise SkuNotFound(
            _("以下 SKU 编码不存在，未做任何修改：%(codes)s") % {"codes": listed},
            missing=missing[:MAX_LISTED],
        )
    Sku.objects.filter(pk__in=found.values()).update(
        stock=Case(
            *(When(pk=found[code], then=Value(level)) for code, level in levels.items()),
            output_field=IntegerField(),
        )
    )
    return dict(Sku.objects.filter(pk__in=found.values()).order_by("code").values_list("code", "stock"))
