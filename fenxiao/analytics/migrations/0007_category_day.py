from django.db import migrations, models


def rebuild_on_next_refresh(apps, schema_editor):
    """Days already aggregated have no category rows: without its watermark, the next
    refresh rebuilds the whole history, as a shop's first refresh does."""
    apps.get_model("analytics", "ReportWatermark").objects.filter(name="reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0006_coupon_visit_source"),
    ]

    operations = [
        migrations.CreateModel(
            name="CategoryDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="日期")),
                ("category_id", models.BigIntegerField(verbose_name="分类")),
                ("orders", models.PositiveIntegerField(db_default=0, verbose_name="订单数")),
            ],
            options={
                "verbose_name": "分类日订单",
                "verbose_name_plural": "分类日订单",
                "constraints": [
                    models.UniqueConstraint(fields=("day", "category_id"), name="one_category_day")
                ],
            },
        ),
        migrations.RunPython(rebuild_on_next_refresh, migrations.RunPython.noop),
    ]
