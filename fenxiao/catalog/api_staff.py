"""Staff catalog API for integrations: an ERP or warehouse system pushes stock levels."""

from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from fenxiao.core.errors import InvalidInput
from fenxiao.customers.auth import buyer_auth, require_perm

from .services import stock_sync

router = Router(tags=["商家：商品"], auth=buyer_auth)

MAX_STOCK = 99_999_999


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class StockLevelIn(Strict):
    code: str = Field(min_length=1, max_length=40, description="SKU 编码（商家编码）")
    stock: int = Field(ge=0, le=MAX_STOCK, description="可售库存：在库数量减去已占用（未发货订单）的数量")


class StockSyncIn(Strict):
    items: list[StockLevelIn] = Field(min_length=1, max_length=stock_sync.MAX_CODES)


class StockLevelOut(Schema):
    code: str
    stock: int


class StockSyncOut(Schema):
    updated: int
    items: list[StockLevelOut]


@router.put("/skus/stock", response=StockSyncOut)
def sync_stock(request, payload: StockSyncIn):
    """Set the stock of each SKU named by code, all or nothing: an unknown code refuses the
    whole push (404 `SKU_NOT_FOUND`, `details.missing` lists the codes) and nothing is
    written. Up to 500 SKUs a call."""
    require_perm(request, "catalog.change_product")
    levels = {item.code: item.stock for item in payload.items}
    if len(levels) < len(payload.items):
        raise InvalidInput(_("SKU 编码重复：每个编码只能出现一次"), code="STOCK_SYNC_DUPLICATE")
    written = stock_sync.set_levels(levels)
    return {
        "updated": len(written),
        "items": [{"code": code, "stock": stock} for code, stock in written.items()],
    }
