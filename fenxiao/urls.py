from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.cache import cache_control
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve

from fenxiao.api import api
from fenxiao.core import private_files
from fenxiao.distribution.views import referral
from fenxiao.payments.views import payment_page, sandbox_pay
from fenxiao.stores.views import store_qr

# Apps whose static scripts have translated strings.
SCRIPT_CATALOGS = ["fenxiao.storefront", "fenxiao.catalog", "fenxiao.shipping"]

urlpatterns = [
    # The 数据 section's report pages (custom admin views, before the admin's catch-all).
    path("backend/data/", include("fenxiao.analytics.admin.urls")),
    path("backend/setup/", include("fenxiao.shopsetup.urls")),
    path("backend/catalog/product/import/", include("fenxiao.catalog.product_import_admin")),
    path("backend/distribution/compliance/", include("fenxiao.distribution.admin.compliance")),
    path("backend/stores/pickup-verify/", include("fenxiao.stores.admin_pickup")),
    path("backend/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", RedirectView.as_view(pattern_name="api:openapi-view")),
    path("r/<str:code>", referral, name="referral"),
    # Store QR codes: counted like referral landings (source 门店) by the traffic middleware.
    path("s/<str:store_code>/", store_qr, name="store_qr"),
    path("s/<str:store_code>/<str:staff_code>/", store_qr, name="store_qr"),
    path("sandbox-pay/<str:out_trade_no>/", sandbox_pay, name="sandbox_pay"),
    # No trailing slash: the page's directory is /pay/, which the merchant registers once as
    # WeChat Pay's JSAPI 支付授权目录 (WeChat matches a multi-level directory exactly).
    path("pay/<str:out_trade_no>", payment_page, name="payment_page"),
    # Private files (after-sale photos) through signed links that expire.
    path("files/<str:token>", private_files.serve, name="private_file"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The English for scripts' strings; pages load it only when English is chosen (a
    # script's Chinese msgid is already what a Chinese page shows).
    path(
        "jsi18n/",
        cache_control(max_age=3600)(JavaScriptCatalog.as_view(packages=SCRIPT_CATALOGS)),
        name="javascript-catalog",
    ),
    path("", include("fenxiao.storefront.urls")),
]

if settings.SERVE_MEDIA:
    # Product images on local disk; deployments on object storage serve media from there.
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
        ),
    ]

handler400 = "fenxiao.core.error_pages.bad_request"
handler403 = "fenxiao.core.error_pages.permission_denied"
handler404 = "fenxiao.core.error_pages.page_not_found"
handler500 = "fenxiao.core.error_pages.server_error"
