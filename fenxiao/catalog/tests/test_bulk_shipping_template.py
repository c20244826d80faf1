"""修改运费模板 on the product list: the ticked products onto one 运费模板, or back to the
shop's flat fee (默认运费), in one UPDATE whatever the selection's size; the page says what
they use now, and a missing or unknown choice is refused on the page in Chinese."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fenxiao.catalog.models import Product
from fenxiao.shipping.models import ShippingTemplate
from fenxiao.testing import backend_content, chinese_left, in_english, login, make_product, make_staff

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")
ACTION = "change_shipping_template"


@pytest.fixture
def boss():
    return login(make_staff(superuser=True))


@pytest.fixture
def templates():
    return ShippingTemplate.objects.create(name="普通快递"), ShippingTemplate.objects.create(name="大件物流")


def on_template(template, name=None, **kwargs):
    product = make_product(name, **kwargs)
    Product.objects.filter(pk=product.pk).update(shipping_template=template)
    return product


def post(client, products, **data):
    return client.post(CHANGELIST, {"action": ACTION, "_selected_action": [p.pk for p in products], **data})


def template_of(product):
    return Product.objects.values_list("shipping_template_id", flat=True).get(pk=product.pk)


def said(reply) -> list[str]:
    return [str(m) for m in get_messages(reply.wsgi_request)]


def test_the_page_shows_what_the_chosen_products_use_now(boss, templates):
    express, bulky = templates
    two_colours = [{"颜色": "红"}, {"颜色": "蓝"}]
    shirts = [on_template(express, specs_list=two_colours) for _ in range(2)]
    sofa = on_template(None)

    page = post(boss, [*shirts, sofa])

    assert page.status_code == 200
    body = page.content.decode()
    assert "修改运费模板（已选 3 个商品）" in body
    # Counted per product, not per SKU row of the list's query.
    assert "普通快递：2 个" in body and "默认运费（订单设置）：1 个" in body
    offered = dict(page.context["form"].fields["template"].choices)
    assert list(offered.values()) == ["请选择", "默认运费（订单设置）", "大件物流", "普通快递"]


def test_applying_moves_every_chosen_product_onto_the_template_and_says_so(boss, templates):
    express, bulky = templates
    tee = on_template(None, listed=True, price=5900)
    mug = on_template(express, listed=False)
    sofa = on_template(bulky)
    untouched = on_template(express)

    reply = post(boss, [tee, mug, sofa], _apply="1", template=str(bulky.pk))

    assert reply.status_code == 302
    assert said(reply) == ["已将 2 个商品的运费模板改为“大件物流”", "1 个商品原本就用这个运费模板，未改动"]
    assert template_of(tee) == template_of(mug) == template_of(sofa) == bulky.pk
    assert template_of(untouched) == express.pk
    tee.refresh_from_db()
    assert (tee.is_listed, tee.price) == (True, 5900)


def test_the_flat_fee_takes_the_products_off_any_template(boss, templates):
    express, bulky = templates
    tee, sofa = on_template(express), on_template(bulky)

    reply = post(boss, [tee, sofa], _apply="1", template="none")

    assert said(reply) == ["已将 2 个商品的运费模板改为“默认运费（订单设置）”"]
    assert template_of(tee) is None and template_of(sofa) is None


def test_nothing_to_change_says_so_without_claiming_a_change(boss, templates):
    express, _bulky = templates
    tee = on_template(express)

    reply = post(boss, [tee], _apply="1", template=str(express.pk))

    assert said(reply) == ["1 个商品原本就用这个运费模板，未改动"]


def test_the_page_and_the_change_cost_the_same_queries_for_3_or_30_products(
    boss, templates, django_assert_max_num_queries
):
    express, bulky = templates

    def queries_for(count):
        products = [on_template(express, specs_list=[{"颜色": "红"}, {"颜色": "蓝"}]) for _ in range(count)]
        with django_assert_max_num_queries(50) as page:
            assert post(boss, products).status_code == 200
        with django_assert_max_num_queries(50) as change:
            reply = post(boss, products, _apply="1", template=str(bulky.pk))
        assert reply.status_code == 302
        assert {template_of(p) for p in products} == {bulky.pk}
        writes = [
            q["sql"] for q in change.captured_queries if q["sql"].startswith('UPDATE "catalog_product"')
        ]
        return len(page.captured_queries), len(change.captured_queries), len(writes)

    few = queries_for(3)
    assert queries_for(30) == few
    assert few[2] == 1  # one UPDATE writes them all


@pytest.mark.parametrize(
    "choice, message",
    [
        ("", "请选择要改用的运费模板"),
        ("98765", "所选运费模板不存在，请重新选择"),
        ("abc", "所选运费模板不存在"),
    ],
)
def test_a_missing_or_unknown_choice_is_refused_on_the_page(boss, templates, choice, message):
    express, _bulky = templates
    tee = on_template(express)

    page = post(boss, [tee], _apply="1", template=choice)

    assert page.status_code == 200
    assert message in page.content.decode()
    assert template_of(tee) == express.pk


def test_a_template_deleted_after_the_page_was_drawn_is_refused(boss, templates, monkeypatch):
    from fenxiao.catalog.admin import batch

    express, bulky = templates
    tee = on_template(express)
    offered = batch.ShippingTemplateForm.__init__

    def deleted_meanwhile(form, *args, **kwargs):
        offered(form, *args, **kwargs)
        ShippingTemplate.objects.filter(pk=bulky.pk).delete()  # no product uses it: allowed

    monkeypatch.setattr(batch.ShippingTemplateForm, "__init__", deleted_meanwhile)
    page = post(boss, [tee], _apply="1", template=str(bulky.pk))

    assert page.status_code == 200
    assert "所选运费模板已被删除，请重新选择" in page.content.decode()
    assert template_of(tee) == express.pk


def test_staff_who_may_only_view_products_neither_see_nor_use_the_action(templates):
    express, bulky = templates
    viewer = login(make_staff(perms=["catalog.view_product"]))
    tee = on_template(express)

    listed = viewer.get(CHANGELIST)
    assert listed.status_code == 200
    assert ACTION not in dict(listed.context["action_form"].fields["action"].choices)
    post(viewer, [tee], _apply="1", template=str(bulky.pk))

    assert template_of(tee) == express.pk


def test_the_page_in_english(boss, templates):
    express, _bulky = templates
    tee = on_template(express, "Cotton T-shirt")
    ShippingTemplate.objects.filter(pk=express.pk).update(name="Standard")

    reply = post(in_english(boss), [tee])

    assert reply.status_code == 200
    body = reply.content.decode()
    assert chinese_left(backend_content(body), "大件物流") == []
    assert "Change shipping template (1 products selected)" in body
    assert "Standard: 1" in body and "Default shipping (order settings)" in body


def test_a_refusal_in_english(boss, templates):
    express, _bulky = templates
    tee = on_template(express)

    body = post(in_english(boss), [tee], _apply="1", template="").content.decode()

    assert "Choose the shipping template to use" in body
