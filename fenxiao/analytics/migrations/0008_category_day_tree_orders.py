from django.db import migrations, models


def rebuild_on_next_refresh(apps, schema_editor):
    """Days already aggregated have no subtree counts: without its watermark, the next
    refresh rebuilds the whole history, as a shop's first refresh does."""
    apps.get_model("analytics", "ReportWatermark").objects.filter(name="reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0007_category_day"),
    ]

    operations = [
        migrations.AddField(
            model_name="categoryday",
            name="tree_orders",
            field=models.PositiveIntegerField(db_default=0, verbose_name="含下级分类订单数"),
        ),
        migrations.RunPython(rebuild_on_next_refresh, migrations.RunPython.noop),
    ]
