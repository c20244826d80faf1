from django.db import migrations
from django.db.models import F


def grant_on_receipt(apps, schema_editor):
    """Returns received automatically kept the approval's time (and approver) as their
    decision: the refund was granted at the receipt, by the system, which is when the reports
    (and the running totals) count it. The reports' watermark goes, so their next refresh
    rebuilds the whole history with the corrected days."""
    apps.get_model("orders", "AfterSale").objects.filter(received_at__gt=F("decided_at")).update(
        decided_at=F("received_at"), decided_by=None
    )
    apps.get_model("analytics", "ReportWatermark").objects.filter(name="reports").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_after_sale_photos_private"),
        ("analytics", "0005_distributor_day_refunds"),
    ]

    operations = [migrations.RunPython(grant_on_receipt, migrations.RunPython.noop)]
