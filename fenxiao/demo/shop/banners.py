"""Home-page banners of the demo shop."""

from fenxiao.catalog.models import Category
from fenxiao.storefront.models import Banner


def create_banners() -> None:
    first = {c.name: c.pk for c in Category.objects.filter(parent__isnull=True)}
    Banner.objects.bulk_create(
        [
            Banner(
                title="冬季焕新季",
                subtitle="满 99 包邮 · 新品 8 折起",
                color="#e4393c",
                link="/search/?sort=newest",
                sort_order=1,
            ),
            Banner(
                title="数码好物节",
                subtitle="耳机配件低至 5 折",
                color="#2563eb",
                link=f"/categories/?c={first.get('数码', '')}",
                sort_order=2,
            ),
            Banner(
                title="分享赚佣金",
                subtitle="成为分销商，好友下单你赚钱",
                color="#f59e0b",
                link="/d/",
                sort_order=3,
            ),
        ]
    )
