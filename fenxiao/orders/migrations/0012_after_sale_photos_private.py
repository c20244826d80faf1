from django.db import migrations, models

import fenxiao.core.private_files
import fenxiao.orders.models


def _move(apps, source: str, target: str):
    """Each after-sale photo moves, under the same name, from one storage to the other."""
    from django.core.files.storage import storages

    source, target = storages[source], storages[target]
    photos = apps.get_model("orders", "AfterSaleImage").objects.order_by("pk").values_list("image", flat=True)
    for name in photos.iterator(chunk_size=500):
        if not name or target.exists(name) or not source.exists(name):
            continue
        with source.open(name) as handle:
            target.save(name, handle)
        source.delete(name)


def move_photos_to_private_storage(apps, schema_editor):
    """Photos uploaded before were in the public media storage under unguessable names."""
    _move(apps, "default", "private")


def move_photos_back_to_media(apps, schema_editor):
    _move(apps, "private", "default")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0011_pickup_fulfilment"),
    ]

    operations = [
        migrations.AlterField(
            model_name="aftersaleimage",
            name="image",
            field=models.ImageField(
                storage=fenxiao.core.private_files.storage,
                upload_to=fenxiao.orders.models.evidence_image_path,
                verbose_name="图片",
            ),
        ),
        migrations.RunPython(move_photos_to_private_storage, move_photos_back_to_media),
    ]
