"""What a request showed, for the traffic counts: views note it, analytics counts it.

Catalog and orders sit below analytics, so their views cannot call it; they note on the
request what the buyer saw or did (a product page, a cart add) and the analytics
middleware, which knows whether the response went out well and who the visitor is,
records it after the view returns. Noting costs no query.
"""


class Noted:
    """What a view saw worth counting on this request."""

    __slots__ = ("product_id", "cart_adds", "referral")

    def __init__(self):
        self.product_id: int | None = None
        self.cart_adds = 0
        self.referral: tuple[int, str] | None = None  # (distributor id, source)


def noted(request) -> Noted | None:
    return getattr(request, "_traffic", None)


def _note(request) -> Noted:
    found = getattr(request, "_traffic", None)
    if found is None:
        found = request._traffic = Noted()
    return found


def note_product_view(request, product_id: int) -> None:
    """A product page (H5 or API) was shown to the buyer."""
    _note(request).product_id = product_id


def note_cart_add(request) -> None:
    """The buyer put something in the cart (H5 or API)."""
    _note(request).cart_adds += 1


def note_referral(request, distributor_id: int, source: str) -> None:
    """The visitor came through a distributor's link / QR code / poster / store / shared
    coupon (`/r/<code>`)."""
    _note(request).referral = (distributor_id, source)
