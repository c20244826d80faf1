from django.db import migrations
from django.db.models import F


def grant_on_receipt(apps, schema_editor):
    """Returns received automatically kept the approval's time as their decision: the refund
    was granted at the receipt, which is when the reports (and the running totals) count it."""
    apps.get_model("orders", "AfterSale").objects.filter(received_at__gt=F("decided_at")).update(
        decided_at=F("received_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_after_sale_photos_private"),
    ]

    operations = [migrations.RunPython(grant_on_receipt, migrations.RunPython.noop)]
