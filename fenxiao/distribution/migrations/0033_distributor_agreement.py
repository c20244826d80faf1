# 分销商协议: its versions, the settings text and switch, and the version each distributor agreed to.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("distribution", "0032_settlement_day"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="distributionsettings",
            name="agreement_required",
            field=models.BooleanField(
                default=True,
                help_text="填写了分销商协议时生效：申请须勾选“我已阅读并同意《分销商协议》”",
                verbose_name="申请时须同意协议",
            ),
        ),
        migrations.AddField(
            model_name="distributionsettings",
            name="agreement_text",
            field=models.TextField(
                blank=True,
                default="",
                help_text="申请成为分销商时展示的协议（纯文本，空行分段）；每次修改保存为新版本，已同意旧版本的分销商会在分销中心看到新版本并被提示同意。留空则不展示协议",
                verbose_name="分销商协议",
            ),
        ),
        migrations.AddField(
            model_name="distributor",
            name="agreed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="同意协议时间"),
        ),
        migrations.CreateModel(
            name="DistributorAgreement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField(unique=True, verbose_name="版本")),
                ("text", models.TextField(verbose_name="协议内容")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发布时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发布人",
                    ),
                ),
            ],
            options={
                "verbose_name": "分销商协议",
                "verbose_name_plural": "分销商协议",
                "ordering": ["-version"],
            },
        ),
        migrations.AddField(
            model_name="distributor",
            name="agreement",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="distribution.distributoragreement",
                verbose_name="已同意的协议版本",
            ),
        ),
    ]
