from django.db import migrations, models

import fenxiao.core.private_files
import fenxiao.orders.models


def move_photos_to_private_storage(apps, schema_editor):
    """Photos uploaded before were in the public media storage under unguessable names: each
    moves, under the same name, to the private storage, and leaves the public one."""
    from django.core.files.storage import storages

    public, private = storages["default"], storages["private"]
    photos = apps.get_model("orders", "AfterSaleImage").objects.order_by("pk").values_list("image", flat=True)
    for name in photos.iterator(chunk_size=500):
        if not name or private.exists(name) or not public.exists(name):
            continue
        with public.open(name) as handle:
            private.save(name, handle)
        public.delete(name)


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
        migrations.RunPython(move_photos_to_private_storage, migrations.RunPython.noop),
    ]
