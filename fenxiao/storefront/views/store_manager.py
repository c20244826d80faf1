"""The store page for store staff (/store/): a 店长 sees the store's members, sales, pickups
and each 导购's figures, with the store's poster; a 导购 sees their own, with their personal
store QR and poster.

The QR and poster images answer only for the signed-in staff member's own code: the address
names no staff member, so nobody can fetch another 导购's, and one who left fetches nothing."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from fenxiao.stores.services import figures, qr

from .common import int_or_none


@login_required
def store_page(request):
    managed, guide = figures.stores_for(request.user)
    if not managed and guide is None:
        return render(request, "storefront/store/none.html", status=403)
    if managed:
        chosen = int_or_none(request.GET.get("store"))
        store = next((s for s in managed if s.pk == chosen), managed[0])
        data = figures.store_figures(store)
    else:
        store = guide.store
        data = figures.store_figures(store, only=guide)
    return render(
        request,
        "storefront/store/page.html",
        {
            "figures": data,
            "stores": managed,
            "guide": guide,
            "store": store,
            "url": qr.store_url(store, guide),
        },
    )


def _own_code(request):
    """(store, staff) of the code the signed-in user hands out, as the page shows it: a
    店长's store (?store= picks one of theirs; any other is refused, not swapped), a 导购's
    personal code. 404 for anyone else, a 导购 who has left included."""
    managed, guide = figures.stores_for(request.user)
    if managed:
        asked = request.GET.get("store")
        if asked is None:
            return managed[0], None
        store = next((s for s in managed if s.pk == int_or_none(asked)), None)
        if store is None:
            raise Http404
        return store, None
    if guide is not None:
        return guide.store, guide
    raise Http404


@login_required
def my_store_qr(request):
    """The signed-in 导购's personal store QR (or the store's, for a 店长) as a PNG."""
    store, staff = _own_code(request)
    response = HttpResponse(qr.store_qr_png(store, staff), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
def my_store_poster(request):
    """The printable poster of the same code (the backend's 海报), to long-press-save or
    download. A closed store's is refused: its QR joins nobody."""
    store, staff = _own_code(request)
    if not store.is_open:
        raise Http404
    name = f"store-{store.code}" + (f"-{staff.code}" if staff else "") + ".png"
    response = HttpResponse(qr.poster_png(store, staff), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "private, max-age=3600"
    return response
