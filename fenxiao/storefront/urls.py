from django.urls import path

from .views import account, cart, checkout, coupons, distribution, groups, orders, shop, trail

app_name = "storefront"

urlpatterns = [
    path("", shop.home, name="home"),
    path("favicon.ico", shop.favicon),
    path("categories/", shop.categories, name="categories"),
    path("search/", shop.search, name="search"),
    path("products/<int:product_id>/", shop.product_detail, name="product"),
    path("groups/mine/", groups.my_groups, name="my_groups"),
    path("groups/<int:group_id>/", groups.group_page, name="group"),
    path("cart/", cart.cart_page, name="cart"),
    path("cart/add/", cart.add, name="cart_add"),
    path("cart/lines/<int:line_id>/", cart.update, name="cart_update"),
    path("checkout/", checkout.checkout_page, name="checkout"),
    path("checkout/buy/", checkout.buy_now, name="buy_now"),
    path("orders/", orders.order_list, name="orders"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/pay/", checkout.pay, name="order_pay"),
    path("orders/<str:number>/result/", checkout.result, name="order_result"),
    path("orders/<str:number>/cancel/", orders.cancel, name="order_cancel"),
    path("orders/<str:number>/confirm/", orders.confirm, name="order_confirm"),
    path("orders/<str:number>/after-sale/", orders.after_sale, name="order_after_sale"),
    path(
        "orders/<str:number>/after-sale/<str:after_sale_number>/withdraw/",
        orders.withdraw_after_sale,
        name="after_sale_withdraw",
    ),
    # Promotions (issue 9): coupons.
    path("coupons/", coupons.center, name="coupons"),
    path("coupons/<int:coupon_id>/claim/", coupons.claim, name="coupon_claim"),
    path("me/coupons/", coupons.mine, name="my_coupons"),
    path("login/", account.login_page, name="login"),
    path("register/", account.register_page, name="register"),
    path("logout/", account.logout_view, name="logout"),
    path("me/", account.me, name="me"),
    path("me/trail/", trail.trail_page, name="trail"),
    path("me/trail/clear/", trail.clear, name="trail_clear"),
    path("me/addresses/", account.address_list, name="addresses"),
    path("me/addresses/new/", account.address_form, name="address_new"),
    path("me/addresses/<int:address_id>/edit/", account.address_form, name="address_edit"),
    path("me/addresses/<int:address_id>/delete/", account.address_delete, name="address_delete"),
    path("d/", distribution.center, name="distribution"),
    path("d/commissions/", distribution.commissions, name="commissions"),
    path("d/team/", distribution.team, name="team"),
    path("d/rankings/", distribution.rankings, name="rankings"),
    path("d/withdraw/", distribution.withdraw, name="withdraw"),
    path("d/share/", distribution.share, name="share"),
    path("d/share/qr.png", distribution.qr_image, name="share_qr"),
    path("d/share/poster/<int:product_id>.png", distribution.poster_image, name="share_poster"),
]
