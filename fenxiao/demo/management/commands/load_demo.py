import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from fenxiao.demo.shop import build_demo_shop, delete_shop_media, shop_has_products
from fenxiao.demo.shop.summary import render, render_addresses


class Command(BaseCommand):
    help = "载入演示商城：商品与图片、员工与买家账号、各种状态的订单与售后。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="商城已有商品时不做任何事（供 make run 使用）"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="先清空整个数据库（全部商品、订单、账号）和商品图片，再重新载入演示数据",
        )

    def handle(self, *args, if_empty=False, reset=False, **options):
        if not settings.DEMO_MODE:
            # Its staff and buyer passwords are printed in the README.
            raise CommandError("演示数据只能在演示模式下载入（设置环境变量 FENXIAO_DEMO=1）。")
        if reset:
            delete_shop_media()
            call_command("flush", interactive=False, verbosity=0)
        if shop_has_products():
            if if_empty:
                self.stdout.write("商城已有商品数据，跳过演示数据载入。")
                if options["verbosity"] > 0:
                    self.stdout.write("\n".join(["", *render_addresses(settings.SITE_URL)]))
                return
            raise CommandError(
                "商城已有商品数据，演示数据只能载入空的数据库。"
                "如需清空后重新载入，请执行 make reset-demo（manage.py load_demo --reset）。"
            )
        started = time.monotonic()
        summary = build_demo_shop()
        if options["verbosity"] > 0:
            self.stdout.write(render(summary, settings.SITE_URL))
            self.stdout.write(f"\n用时 {time.monotonic() - started:.1f} 秒。")
