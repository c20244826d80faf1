"""运费模板 in the backend: fees typed in yuan, provinces ticked, rules as rows; the product
page names a template."""

import pytest
from django.contrib.auth.models import Group

from fenxiao.customers.services.staff import OPERATIONS, ensure_staff_groups
from fenxiao.shipping.models import ChargeBy, ShippingFreeRule, ShippingRule, ShippingTemplate
from fenxiao.testing import in_english, login, make_product, make_staff

pytestmark = pytest.mark.django_db

ADD = "/backend/shipping/shippingtemplate/add/"


@pytest.fixture
def operations():
    ensure_staff_groups()
    staff = make_staff()
    staff.groups.add(Group.objects.get(name=OPERATIONS))
    return login(staff)


def _inline(prefix: str, rows: list[dict]) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


def _form(rules=(), free_rules=(), **fields) -> dict:
    data = {
        "name": "大件",
        "charge_by": ChargeBy.WEIGHT,
        "first_units": "2",
        "first_fee": "12.50",
        "additional_units": "1",
        "additional_fee": "4",
        "free_over_amount": "",
        "free_over_units": "0",
        "undelivered_provinces": ["71", "81", "82"],
        **fields,
    }
    data.update(_inline("rules", list(rules)))
    data.update(_inline("free_rules", list(free_rules)))
    return data


def test_operations_creates_a_template_in_yuan_with_region_rows(operations):
    page = operations.get(ADD)
    assert page.status_code == 200
    text = page.content.decode()
    assert "新疆维吾尔自治区" in text and "首费（元）" in text and "不配送地区" in text
    reply = operations.post(
        ADD,
        _form(
            rules=[
                {
                    "provinces": ["54", "65"],
                    "first_units": "1",
                    "first_fee": "30",
                    "additional_units": "1",
                    "additional_fee": "15.00",
                }
            ],
            free_rules=[{"provinces": ["31"], "over_amount": "199", "over_units": "0"}],
        ),
    )
    assert reply.status_code == 302, reply.content.decode()[:3000]
    template = ShippingTemplate.objects.get()
    assert (template.first_fee, template.additional_fee, template.free_over_amount) == (1250, 400, 0)
    assert template.undelivered_provinces == ["81", "82", "71"]  # in the data's order
    rule = ShippingRule.objects.get()
    assert (rule.provinces, rule.first_fee, rule.additional_fee) == (["54", "65"], 3000, 1500)
    assert ShippingFreeRule.objects.get().over_amount == 19900
    listing = operations.get("/backend/shipping/shippingtemplate/").content.decode()
    assert "首2kg ¥12.50，每增加1kg ¥4.00" in listing and "香港特别行政区、澳门特别行政区、台湾省" in listing


def test_a_province_in_two_rules_or_a_free_rule_without_a_condition_is_refused(operations):
    row = {"first_units": "1", "first_fee": "30", "additional_units": "1", "additional_fee": "15"}
    reply = operations.post(
        ADD, _form(rules=[{**row, "provinces": ["65"]}, {**row, "provinces": ["54", "65"]}])
    )
    assert (
        reply.status_code == 200
        and "同一地区只能出现在一条规则中：新疆维吾尔自治区" in reply.content.decode()
    )
    reply = operations.post(
        ADD, _form(free_rules=[{"provinces": ["31"], "over_amount": "", "over_units": "0"}])
    )
    assert reply.status_code == 200 and "请填写满额或满件/满重中的至少一项" in reply.content.decode()
    reply = operations.post(ADD, _form(first_fee="12.345"))
    assert reply.status_code == 200 and "最多两位小数" in reply.content.decode()
    assert not ShippingTemplate.objects.exists()


def test_the_product_page_names_a_template(operations):
    template = ShippingTemplate.objects.create(name="普通快递")
    product = make_product("羊毛围巾")
    page = operations.get(f"/backend/catalog/product/{product.pk}/change/").content.decode()
    assert "运费模板" in page and "普通快递" in page
    listing = operations.get("/backend/shipping/shippingtemplate/")
    assert listing.status_code == 200 and "普通快递" in listing.content.decode()
    assert template.products.count() == 0


def test_counts_and_fees_out_of_range_are_refused_next_to_their_field(operations):
    """A 0 step or a number past the column's bound: said on the field, in words, never
    by the name of a database constraint above the form."""
    row = {"first_units": "1", "first_fee": "30", "additional_units": "1", "additional_fee": "15"}
    for fields, rules, free_rules, where, words in (
        ({"first_units": "0"}, (), (), "first_units", "不能小于 1"),
        ({"additional_units": "0"}, (), (), "additional_units", "不能小于 1"),
        ({"first_units": "100001"}, (), (), "first_units", "不能超过 100000"),
        ({"free_over_units": "100001"}, (), (), "free_over_units", "不能超过 100000"),
        ({"first_fee": "100000.01"}, (), (), "first_fee", "金额不能大于 ¥100000.00"),
        ({}, [{**row, "provinces": ["65"], "first_units": "0"}], (), "rules.first_units", "不能小于 1"),
        (
            {},
            [{**row, "provinces": ["65"], "additional_fee": "200000"}],
            (),
            "rules.additional_fee",
            "¥100000.00",
        ),
        (
            {},
            (),
            [{"provinces": ["31"], "over_amount": "0", "over_units": "100001"}],
            "free_rules.over_units",
            "100000",
        ),
    ):
        reply = operations.post(ADD, _form(rules=rules, free_rules=free_rules, **fields))
        assert reply.status_code == 200
        page = reply.content.decode()
        assert "约束" not in page and "constraint" not in page.lower()
        if "." in where:
            prefix, name = where.split(".")
            formset = next(
                f.formset for f in reply.context["inline_admin_formsets"] if f.formset.prefix == prefix
            )
            errors = formset.errors[0].get(name, [])
        else:
            errors = reply.context["adminform"].form.errors.get(where, [])
        assert any(words in str(e) for e in errors), (where, errors)
    assert not ShippingTemplate.objects.exists()


def test_a_free_rule_amount_too_large_is_not_also_called_missing(operations):
    reply = operations.post(
        ADD, _form(free_rules=[{"provinces": ["31"], "over_amount": "99999999", "over_units": "0"}])
    )
    page = reply.content.decode()
    assert "金额不能大于" in page and "请填写满额或满件/满重中的至少一项" not in page


def test_a_templates_product_count_opens_those_products(operations):
    """使用商品数 opens the product list narrowed to the template's products (which goods
    ship this way?); it was a bare number."""
    template, unused = (
        ShippingTemplate.objects.create(name="大件"),
        ShippingTemplate.objects.create(name="冷链"),
    )
    heavy = [make_product(f"沙发{i}") for i in range(2)]
    make_product("袜子")
    for product in heavy:
        product.shipping_template = template
        product.save(update_fields=["shipping_template"])
    listing = operations.get("/backend/shipping/shippingtemplate/").content.decode()
    products = f"/backend/catalog/product/?shipping_template__id__exact={template.pk}"
    assert f'href="{products}"' in listing
    assert f"shipping_template__id__exact={unused.pk}" not in listing  # no product to see
    shown = operations.get(products).context["cl"].result_list
    assert {p.pk for p in shown} == {p.pk for p in heavy}


def test_a_template_in_use_is_not_deleted_and_the_page_says_how_to_move_its_products(operations):
    """Deleting a template products use listed every product (with 500 products, 500 lines)
    and no way forward; it now says how many use it and opens them."""
    used, unused = ShippingTemplate.objects.create(name="大件"), ShippingTemplate.objects.create(name="冷链")
    for i in range(3):
        product = make_product(f"沙发{i}")
        product.shipping_template = used
        product.save(update_fields=["shipping_template"])
    page = operations.get(f"/backend/shipping/shippingtemplate/{used.pk}/delete/").content.decode()
    assert "运费模板“大件”正被 3 个商品使用，不能删除" in page and "修改运费模板" in page
    assert f'href="/backend/catalog/product/?shipping_template__id__exact={used.pk}"' in page
    assert "沙发1" not in page
    # Ticked with an unused one on the list: the bulk delete refuses the same way, deleting nothing.
    bulk = {"action": "delete_selected", "_selected_action": [used.pk, unused.pk], "post": "yes"}
    page = operations.post("/backend/shipping/shippingtemplate/", bulk).content.decode()
    assert "运费模板“大件”正被 3 个商品使用" in page and "冷链" not in page.split("正被")[1]
    assert ShippingTemplate.objects.count() == 2
    # Unused, it goes.
    reply = operations.post(f"/backend/shipping/shippingtemplate/{unused.pk}/delete/", {"post": "yes"})
    assert reply.status_code == 302 and not ShippingTemplate.objects.filter(pk=unused.pk).exists()
    page = in_english(operations).get(f"/backend/shipping/shippingtemplate/{used.pk}/delete/")
    assert "is used by 3 products and cannot be deleted" in page.content.decode()


def test_the_template_list_reads_a_fixed_number_of_queries(operations, django_assert_max_num_queries):
    for i in range(8):
        template = ShippingTemplate.objects.create(name=f"模板{i}", undelivered_provinces=["65"])
        ShippingRule.objects.create(template=template, provinces=["54"], first_fee=2500)
        product = make_product(f"商品{i}")
        product.shipping_template = template
        product.save(update_fields=["shipping_template"])
    with django_assert_max_num_queries(12):
        page = operations.get("/backend/shipping/shippingtemplate/")
    assert page.status_code == 200 and "模板7" in page.content.decode()
    # Each template's region prices (偏远地区) show on its row, read with the rest.
    assert page.content.decode().count("西藏自治区：首1件 ¥25.00，每增加1件 ¥0.00") == 8


def test_copying_a_template_keeps_its_fees_and_regions_and_opens_the_copy(operations):
    """A variant (大件, 偏远加价) started from an empty form, every province ticked again."""
    template = ShippingTemplate.objects.create(
        name="普通快递",
        first_fee=800,
        additional_fee=200,
        free_over_amount=9900,
        undelivered_provinces=["71"],
    )
    ShippingRule.objects.create(
        template=template, provinces=["65", "54"], first_fee=2500, additional_fee=1000
    )
    ShippingFreeRule.objects.create(template=template, provinces=["33"], over_amount=5900)
    sofa = make_product("沙发")
    sofa.shipping_template = template
    sofa.save(update_fields=["shipping_template"])
    chosen = {"action": "copy_selected", "_selected_action": [template.pk]}
    reply = operations.post("/backend/shipping/shippingtemplate/", chosen)
    copy = ShippingTemplate.objects.get(name="普通快递 副本")
    assert (
        reply.status_code == 302
        and reply["Location"] == f"/backend/shipping/shippingtemplate/{copy.pk}/change/"
    )
    assert (copy.first_fee, copy.additional_fee, copy.free_over_amount) == (800, 200, 9900)
    assert copy.undelivered_provinces == ["71"]
    assert [(r.provinces, r.first_fee, r.additional_fee) for r in copy.rules.all()] == [
        (["65", "54"], 2500, 1000)
    ]
    assert [(r.provinces, r.over_amount) for r in copy.free_rules.all()] == [(["33"], 5900)]
    assert not copy.products.exists()
    page = operations.get(reply["Location"]).content.decode()
    assert "已复制为：普通快递 副本" in page
    # Copied again (both ticked), each gets a name of its own.
    chosen["_selected_action"] = [template.pk, copy.pk]
    operations.post("/backend/shipping/shippingtemplate/", chosen)
    names = set(ShippingTemplate.objects.values_list("name", flat=True))
    assert names == {"普通快递", "普通快递 副本", "普通快递 副本2", "普通快递 副本 副本"}


def test_a_long_names_copy_still_fits(operations):
    template = ShippingTemplate.objects.create(name="长" * 40)
    chosen = {"action": "copy_selected", "_selected_action": [template.pk]}
    operations.post("/backend/shipping/shippingtemplate/", chosen)
    assert ShippingTemplate.objects.filter(name="长" * 37 + " 副本").exists()


def test_copying_in_english_says_so_in_english(operations):
    template = ShippingTemplate.objects.create(name="Standard")
    chosen = {"action": "copy_selected", "_selected_action": [template.pk]}
    reply = in_english(operations).post("/backend/shipping/shippingtemplate/", chosen, follow=True)
    assert "Copied as: Standard copy." in reply.content.decode()
    assert "Copy as a new template" in operations.get("/backend/shipping/shippingtemplate/").content.decode()


def test_the_list_says_what_prices_products_without_a_template(operations):
    """Products with no template chosen pay the 订单设置 fee; the list did not say so."""
    page = operations.get("/backend/shipping/shippingtemplate/").content.decode()
    assert "未选运费模板的商品按订单设置中的运费和满额包邮计费" in page
    assert 'href="/backend/catalog/product/?shipping_template__id__exact=none"' in page
    english = in_english(operations).get("/backend/shipping/shippingtemplate/").content.decode()
    assert "Products with no shipping template chosen" in english
