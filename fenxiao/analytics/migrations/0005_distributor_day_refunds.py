from django.db import migrations, models


def rebuild_on_next_refresh(apps, schema_editor):
    """Days already aggregated have no refunds in the new column: without its watermark, the
    next refresh rebuilds the whole history, as a shop's first refresh does."""
    apps.get_model("analytics", "ReportWatermark").objects.filter(name="reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_stores_report_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="distributorday",
            name="refunds",
            field=models.BigIntegerField(db_default=0, verbose_name="一级推广退款"),
        ),
        migrations.RunPython(rebuild_on_next_refresh, migrations.RunPython.noop),
    ]
