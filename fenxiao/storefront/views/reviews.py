"""商品评价 on the H5: the buyer's form for one line of a completed order, and a product's
reviews page by page (the product page shows the figures and the latest few)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from fenxiao.catalog.models import Product
from fenxiao.core.errors import DomainError
from fenxiao.distribution.paging import page_before
from fenxiao.orders.models import MAX_RATING, MAX_TEXT, OrderLine, ProductReview
from fenxiao.orders.services import reviews

from .common import int_or_none

PAGE_SIZE = 20


@login_required
def write_page(request, number: str, line_id: int):
    line = get_object_or_404(
        OrderLine.objects.select_related("order"), pk=line_id, order__number=number, order__buyer=request.user
    )
    back = reverse("storefront:order_detail", args=[number])
    existing = ProductReview.objects.filter(order_line=line).first()
    rating, text, error = None, "", ""
    if request.method == "POST" and existing is None:
        rating, text = int_or_none(request.POST.get("rating")), request.POST.get("text", "")
        try:
            reviews.write(request.user, line.pk, rating, text)
        except DomainError as refusal:
            error = refusal.message
        else:
            messages.success(request, _("评价成功，感谢您的分享"))
            return redirect(back)
    return render(
        request,
        "storefront/reviews/write.html",
        {
            "line": line,
            "order": line.order,
            "review": existing,
            "refusal": "" if existing else reviews.refusal(line),
            "error": error,
            "rating": rating,
            "text": text,
            "stars": range(MAX_RATING, 0, -1),
            "max_text": MAX_TEXT,
            "back": back,
        },
        status=400 if error else 200,
    )


def product_reviews(request, product_id: int):
    product = Product.objects.filter(pk=product_id, is_listed=True).only("pk", "name").first()
    if product is None:
        raise Http404("商品不存在或已下架")
    before = int_or_none(request.GET.get("before"))
    rows, cursor = page_before(
        reviews.shown(product.pk).select_related("buyer", "order_line"),
        before if before and before > 0 else None,
        PAGE_SIZE,
    )
    return render(
        request,
        "storefront/reviews/list.html",
        {
            "product": product,
            "figures": reviews.figures(product.pk),
            "reviews": rows,
            "next": cursor,
            "older": before is not None,
        },
    )
