"""The demo catalog: categories, products with SKUs, descriptions and pictures."""

import itertools
from html import escape
from random import Random

from django.core.files.base import ContentFile

from fenxiao.catalog.models import Category, Product, ProductImage, Sku
from fenxiao.catalog.services.products import refresh_summary, save_product, set_listed

from . import images
from .catalog_data import CATEGORIES, PRODUCTS, DemoCategory, DemoProduct


def build_catalog(rng: Random) -> list[Sku]:
    """Create the catalog; returns the SKUs a buyer can order."""
    leaves = _categories()
    made = [
        (_product(index, item, *leaves[item.category], rng), item)
        for index, item in enumerate(PRODUCTS, start=1)
    ]
    refresh_summary([product.pk for product, _ in made])
    for product, item in made:
        if item.listed:
            set_listed(product, True)
    return list(
        Sku.objects.filter(product__is_listed=True, is_active=True).select_related("product").order_by("code")
    )


def _categories() -> dict[str, tuple[Category, DemoCategory]]:
    leaves = {}
    for position, top in enumerate(CATEGORIES, start=1):
        parent = Category.objects.create(name=top.name, sort_order=position * 10)
        for offset, name in enumerate(top.children, start=1):
            leaf = Category.objects.create(name=name, parent=parent, sort_order=position * 10 + offset)
            leaves[name] = (leaf, top)
    return leaves


def _product(index: int, item: DemoProduct, category: Category, top: DemoCategory, rng: Random) -> Product:
    product = save_product(
        Product(
            name=item.name,
            subtitle=item.subtitle,
            category=category,
            description=_describe(item, top),
            weight_grams=item.weight,
        )
    )
    _skus(product, index, item, rng)
    pictures = _pictures(product, index, item, top, rng)
    if list(item.options)[:1] == ["颜色"]:
        # Each colour's picture is its 规格图, as the editor sets it on the first spec.
        skus = list(Sku.objects.filter(product=product))
        for sku in skus:
            sku.image = pictures.get(sku.specs["颜色"])
        Sku.objects.bulk_update(skus, ["image"])
    return product


def _skus(product: Product, index: int, item: DemoProduct, rng: Random) -> None:
    """One SKU per combination of option values, e.g. 颜色 × 尺码."""
    names = list(item.options)
    skus = []
    for n, values in enumerate(itertools.product(*item.options.values()), start=1):
        extra = _extra(item, values)
        skus.append(
            Sku(
                product=product,
                code=f"FX{index:03d}-{n:02d}",
                specs=dict(zip(names, values, strict=True)),
                price=item.price + extra,
                list_price=item.list_price + extra,
                stock=_stock(rng),
                weight_grams=item.weight,
            )
        )
    Sku.objects.bulk_create(skus)


def _pictures(
    product: Product, index: int, item: DemoProduct, top: DemoCategory, rng: Random
) -> dict[str, ProductImage]:
    """One picture per colour on offer (at most three), else one or two in the accent colour.
    Returns each colour value's picture."""
    motif = item.motif or top.children[item.category]
    values = list(item.options.get("颜色", []))[:3]
    colours = [images.shade_for(value) for value in values]
    drawn = {}
    for position, colour in enumerate(colours or [None] * rng.randint(1, 2)):
        picture = images.render(motif, top.palette, colour, rng)
        # Saving the model (not image.save) lets ProductImage.save name the file by its uuid.
        image = ProductImage(
            product=product,
            sort_order=position,
            image=ContentFile(picture, name=f"demo-{index:03d}-{position}.jpg"),
        )
        image.save()
        if values:
            drawn[values[position]] = image
    return drawn


def _extra(item: DemoProduct, values: tuple[str, ...]) -> int:
    return sum(item.surcharge.get(value, 0) for value in values)


def _stock(rng: Random) -> int:
    roll = rng.random()
    if roll < 0.04:
        return 0  # sold out
    if roll < 0.10:
        return rng.randint(1, 8)  # running low
    return rng.randrange(50, 500, 10)


def _describe(item: DemoProduct, top: DemoCategory) -> str:
    points = "".join(f"<li>{escape(point)}</li>" for point in item.points)
    options = "；".join(f"{name}：{'、'.join(values)}" for name, values in item.options.items())
    rows = [("商品名称", item.name), ("可选规格", options), ("重量", f"约 {item.weight} 克")]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    return (
        f"<h3>商品亮点</h3><ul>{points}</ul>"
        f"<h3>规格参数</h3><table><tbody>{table}</tbody></table>"
        f"<p>{escape(top.note)}</p>"
    )
