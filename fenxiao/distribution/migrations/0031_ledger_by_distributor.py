# The plain distributor index gives way to one by distributor and id (with the amount):
# added before the old one is dropped.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0030_binding_by_distributor"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["distributor", "-id"], include=("amount",), name="ledger_distributor_newest"
            ),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="distributor",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ledger",
                to="distribution.distributor",
                verbose_name="分销商",
            ),
        ),
    ]
