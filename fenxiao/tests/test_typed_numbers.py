"""A number typed into an address (an id, a limit, a threshold) that `str.isdigit()` passes but
`int()` does not read ("²"), or a full-width one, is no number: each page ignores it, refuses
it as it refuses any bad value, or answers 404 — never a 500 (`fenxiao.core.numbers`)."""

import pytest

from fenxiao.testing import api_for, assert_refused, login, make_buyer, make_staff

pytestmark = pytest.mark.django_db

SUPERSCRIPT, FULL_WIDTH = "²", "１２"


@pytest.fixture
def boss():
    return login(make_staff("boss", superuser=True))


@pytest.mark.parametrize("typed", [SUPERSCRIPT, FULL_WIDTH, "9" * 40])
@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/backend/customers/customer/", "tag"),  # 标签 filter: ignored
        ("/backend/catalog/product/", "stock_below"),  # the 库存预警 link's threshold: ignored
        ("/backend/orders/order/packing-list/", "ids"),  # 打印配货单: no such order
        ("/backend/promotions/push/preview/", "segment"),  # 推送 audience preview: no segment
        ("/backend/distribution/commission/", "order"),  # 订单号或订单 ID: matches no order
    ],
)
def test_a_number_int_cannot_read_is_ignored_by_backend_filters(boss, path, param, typed):
    reply = boss.get(path, {param: typed})
    assert reply.status_code == 200, (path, reply.status_code)


@pytest.mark.parametrize("typed", [SUPERSCRIPT, FULL_WIDTH, "9" * 40])
def test_a_customer_profile_with_such_an_id_is_not_found(boss, typed):
    assert boss.get(f"/backend/customers/customer/{typed}/change/").status_code == 404


@pytest.mark.parametrize("typed", [SUPERSCRIPT, FULL_WIDTH, "0", "201", "9" * 40])
def test_a_report_limit_int_cannot_read_is_refused_like_any_bad_limit(boss, typed):
    page = boss.get("/backend/data/sales/", {"range": "7d", "limit": typed})
    assert page.status_code == 400
    assert "排行条数应为 1 至 200" in page.content.decode()
    client = api_for(make_staff(superuser=True))
    assert_refused(client.get("/staff/reports/sales", limit=typed), 400, "REPORT_LIMIT_INVALID")


def test_the_distribution_api_order_filter_ignores_such_an_id():
    from fenxiao.distribution.tests.helpers import make_distributor

    distributor = make_distributor(user=make_buyer())
    reply = api_for(distributor.user).get("/distribution/commissions", order=SUPERSCRIPT)
    assert reply.status_code == 200, reply.content


def test_a_gallery_order_naming_such_a_picture_skips_it():
    import json

    from fenxiao.catalog.admin.widgets import GalleryWidget
    from fenxiao.catalog.models import ProductImage
    from fenxiao.catalog.services.images import save_gallery
    from fenxiao.catalog.tests.test_editor import picture
    from fenxiao.testing import make_product

    product = make_product()
    kept = ProductImage.objects.create(product=product, image=picture("a.png"), sort_order=0)
    order = [f"id:{SUPERSCRIPT}", f"new:{SUPERSCRIPT}", f"id:{kept.pk}"]
    save_gallery(product, order, [])
    assert list(product.images.values_list("pk", flat=True)) == [kept.pk]
    # A form shown again with that order keeps the pictures it can name.
    context = GalleryWidget(images=[(kept.pk, "/a.png")]).get_context("gallery", json.dumps(order), {})
    assert [image["token"] for image in context["widget"]["images"]] == [f"id:{kept.pk}"]
