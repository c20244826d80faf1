import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fenxiao.core.demo import build_demo_shop, shop_has_products
from fenxiao.core.demo.summary import render


class Command(BaseCommand):
    help = "载入演示商城：商品与图片、员工与买家账号、各种状态的订单与售后。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="商城已有商品时不做任何事（供 make run 使用）"
        )

    def handle(self, *args, if_empty=False, **options):
        if shop_has_products():
            if if_empty:
                self.stdout.write("商城已有商品数据，跳过演示数据载入。")
                return
            raise CommandError(
                "商城已有商品数据，演示数据只能载入空的数据库。"
                "如需重新载入，请先删除数据库并重新执行 migrate。"
            )
        started = time.monotonic()
        summary = build_demo_shop()
        if options["verbosity"] > 0:
            self.stdout.write(render(summary, settings.SITE_URL))
            self.stdout.write(f"\n用时 {time.monotonic() - started:.1f} 秒。")
