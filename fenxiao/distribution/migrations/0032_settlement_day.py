# 周结日 and 月结日: the merchant chooses the settlement day (Monday and the 1st, as before, by default).

import fenxiao.distribution.models.config
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_sku_image"),
        ("distribution", "0031_ledger_by_distributor"),
    ]

    operations = [
        migrations.AddField(
            model_name="distributionsettings",
            name="settlement_monthday",
            field=models.PositiveSmallIntegerField(
                choices=fenxiao.distribution.models.config.monthday_choices,
                default=1,
                help_text="结算周期为月结时，每月哪天结算（1–28 日，29–31 日并非每月都有），如选“15日”：每月15日 02:30 结算已过冻结期的佣金",
                verbose_name="月结日",
            ),
        ),
        migrations.AddField(
            model_name="distributionsettings",
            name="settlement_weekday",
            field=models.PositiveSmallIntegerField(
                choices=[
                    (0, "周一"),
                    (1, "周二"),
                    (2, "周三"),
                    (3, "周四"),
                    (4, "周五"),
                    (5, "周六"),
                    (6, "周日"),
                ],
                default=0,
                help_text="结算周期为周结时，每周哪天结算，如选“周五”：每周五 02:30 结算已过冻结期的佣金",
                verbose_name="周结日",
            ),
        ),
        migrations.AddConstraint(
            model_name="distributionsettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("settlement_weekday__lte", 6)),
                name="distribution_settlement_weekday_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="distributionsettings",
            constraint=models.CheckConstraint(
                condition=models.Q(("settlement_monthday__gte", 1), ("settlement_monthday__lte", 28)),
                name="distribution_settlement_monthday_1_to_28",
            ),
        ),
    ]
