"""manage.py setup_shop --template starter|smb|chain [--dry-run] [--force] [--demo-products]"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from fenxiao.core.errors import DomainError

from ...services import items
from ...services import plan as setup
from ...spec import TEMPLATES


def both_languages(text) -> str:
    """A status in Chinese and English, as the command's other lines are written."""
    with translation.override(settings.LANGUAGE_CODE):
        chinese = str(text)
    with translation.override("en"):
        english = str(text)
    return f"{chinese} / {english}"


class Command(BaseCommand):
    help = "快速开店：按模板配置商城 / Quick setup: configure the shop from a template"

    def add_arguments(self, parser):
        parser.add_argument("--template", required=True, choices=sorted(TEMPLATES))
        parser.add_argument("--dry-run", action="store_true", help="只显示计划，不写入 / show the plan only")
        parser.add_argument(
            "--force",
            action="store_true",
            help="覆盖商家已修改的设置 / override settings the merchant changed",
        )
        parser.add_argument(
            "--demo-products",
            action="store_true",
            help="添加示例商品/示例门店 / add demo products or a sample store",
        )

    def handle(self, *args, template, dry_run, force, demo_products, **options):
        confirmed = True if force else None
        try:
            if dry_run:
                rows = [
                    r.as_log() for r in setup.build(template, demo=demo_products, confirmed=confirmed).rows
                ]
            else:
                rows = setup.apply(template, demo=demo_products, confirmed=confirmed).changes
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        tpl = TEMPLATES[template]
        self.stdout.write(f"模板 Template: {tpl.title}（{tpl.key}）— {tpl.subtitle}")
        for row in rows:
            status = both_languages(items.STATUS_TEXT[row["status"]])
            if row["status"] == items.INFO:
                line = f"  [{status}] {row['label']}: {row['old_text']}"
            else:
                line = f"  [{status}] {row['label']}: {row['old_text']} → {row['new_text']}"
            if row.get("note"):
                line += f"（{row['note']}）"
            self.stdout.write(line)
        written = sum(1 for r in rows if r["status"] in items.WRITES)
        conflicts = sum(1 for r in rows if r["status"] == items.CONFLICT)
        if dry_run:
            self.stdout.write(
                f"试运行，未写入 / Dry run, nothing written: 将写入 {written} 项 / {written} to write"
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"已应用 / Applied: 写入 {written} 项 / {written} written"))
        if conflicts:
            self.stdout.write(
                self.style.WARNING(
                    f"{conflicts} 项商家已修改，已跳过；加 --force 覆盖 / "
                    f"{conflicts} changed by the merchant, skipped; use --force to override"
                )
            )
