"""The store page for store staff (/store/): a 店长 sees the store's members, sales, pickups
and each 导购's figures; a 导购 sees their own, with their personal store QR."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from fenxiao.stores.models import StoreStaff
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


@login_required
def my_store_qr(request):
    """The signed-in 导购's personal store QR (or the store's, for a 店长) as a PNG."""
    role = (
        StoreStaff.objects.select_related("store", "user").filter(user=request.user, is_active=True).first()
    )
    if role is None:
        raise Http404
    staff = role if role.role == StoreStaff.Role.GUIDE else None
    response = HttpResponse(qr.store_qr_png(role.store, staff), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response
