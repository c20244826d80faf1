"""The demo shop behind `manage.py load_demo`: a Chinese-language mall with a catalog,
staff, buyers, a distributor tree, orders and commission in every state and running
promotions, all built through the services."""

from random import Random

from django.db import transaction

from fenxiao.catalog.models import Product, ProductImage
from fenxiao.storefront.models import Banner

from .banners import create_banners
from .catalog import build_catalog
from .console import build_console
from .distribution import finish_distribution, setup_distribution
from .logistics import add_trails
from .orders import build_orders, configure_order_settings
from .people import create_people
from .promotions import create_promotions
from .shipping import create_shipping_templates
from .stores import create_stores
from .summary import Summary, summarize

SEED = 2026


def shop_has_products() -> bool:
    return Product.objects.exists()


def delete_shop_media() -> None:
    """Remove the picture files of every product image and banner, before the rows go."""
    for model in (ProductImage, Banner):
        for image in model.objects.exclude(image="").values_list("image", flat=True).iterator():
            model._meta.get_field("image").storage.delete(image)


def build_demo_shop() -> Summary:
    """Load the demo in one transaction; only picture files reach storage if it fails."""
    rng = Random(SEED)
    with transaction.atomic():
        settings = configure_order_settings()
        people = create_people()
        skus = build_catalog(rng)
        create_banners()
        tree = setup_distribution(people)
        build_orders(rng, people, skus, settings)
        add_trails()
        finish_distribution(people, tree)
        create_promotions(people)
        create_shipping_templates()  # after the demo orders, which keep the flat fee they paid
        build_console(rng, people)
        people.accounts.append(create_stores(skus))
        return summarize(people.accounts)
