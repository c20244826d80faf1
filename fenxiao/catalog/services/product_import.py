"""Importing products from a spreadsheet (CSV or .xlsx, format in `product_import_columns`).

Two steps, both reading the same `plan`:

1. `dry_run(file, filename, zip)`: parse every row, check it (per-row errors with row
   number, column and a Chinese message) and say what would be created or updated. Nothing
   is written; pictures named by URL are not downloaded yet (their address is checked), zip
   pictures are opened and verified.
2. The import job (`run_import`, a background job of kind IMPORT_KIND): plans again (the
   catalog may have moved since the dry run), downloads the URL pictures through the safe
   fetcher (each failure is a row error), reports progress, then writes everything in ONE
   transaction with set-based statements (bulk_create / bulk_update in chunks). Any error
   → nothing is written. Progress is reported before that transaction (validation and
   downloads are where the time goes); the write itself is a last stage, because a
   progress row written from inside it would stay invisible to the polling page until the
   commit (PostgreSQL) or wait for the write lock the transaction holds (SQLite).

Matching: the SKU编码 finds an existing SKU (and through it its product); rows are grouped
into products by 商品名称. Re-importing the same file updates, never duplicates.
Pictures downloaded for a run are saved to media storage before the transaction; a run
that fails deletes them again.
"""

import logging
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from fenxiao.core import jobs, safe_fetch

from ..errors import CatalogInvalid
from ..models import Product, ProductImage, Sku
from . import product_import_columns as spec
from .product_import_files import (
    ImageZip,
    ImportFileInvalid,
    read_rows,
)
from .product_import_plan import CHUNK, ImageRef, Plan, plan_rows

logger = logging.getLogger(__name__)

IMPORT_KIND = "catalog.product_import"
IMPORT_PERMISSION = "catalog.add_product"
WRITE_STAGE = "写入数据库"
FETCH_WORKERS = 8


# --- the dry run (a request) and the job --------------------------------------------------------


def dry_run(data: bytes, filename: str, zip_data: bytes | None = None) -> Plan:
    """What importing this file would do, and every problem it has. Writes nothing.
    Raises ImportFileInvalid for a file that cannot be read at all."""
    return plan_rows(read_rows(data, filename), ImageZip(zip_data))


def start(user, data: bytes, filename: str, zip_data: bytes | None = None, zip_filename: str = "") -> tuple:
    """Check an upload and keep it as a draft job for the staff member to confirm.
    Returns (job, plan); a plan with errors can still be shown, but never confirmed."""
    plan = dry_run(data, filename, zip_data)
    files = {"file": (filename, data)}
    if zip_data:
        files["images"] = (zip_filename or "images.zip", zip_data)
    job = jobs.create(
        IMPORT_KIND,
        user=user,
        title=f"导入商品：{filename}",
        files=files,
        draft=True,
        summary={
            "dry_run": {
                "counts": plan.counts,
                "errors": [e.as_dict() for e in plan.errors[:1000]],
                "error_count": len(plan.errors),
            }
        },
    )
    return job, plan


def confirm(job, user):
    dry = (job.summary or {}).get("dry_run") or {}
    if dry.get("error_count"):
        raise CatalogInvalid("文件有错误，请修改后重新上传")
    return jobs.confirm(job, user)


def run_import(run: jobs.JobRun) -> None:
    """The job: plan again, fetch pictures (progress), write all in one transaction."""
    with run.open_input("file") as handle:
        data = handle.read()
    zip_handle = run.open_input("images")
    zip_data = None
    if zip_handle is not None:
        with zip_handle:
            zip_data = zip_handle.read()
    try:
        rows = read_rows(data, run.input_filename("file"))
        images = ImageZip(zip_data)
    except ImportFileInvalid as exc:
        raise jobs.JobFailed(exc.message) from exc
    run.progress(0, total=len(rows), stage="校验数据", force=True)
    plan = plan_rows(rows, images)
    if plan.errors:
        raise jobs.JobFailed(
            f"文件有 {len(plan.errors)} 处错误，未导入任何数据",
            errors=[e.as_dict() for e in plan.errors[:1000]],
        )
    stored: list[str] = []
    try:
        _fetch_images(run, plan, images, stored)
        if plan.errors:
            raise jobs.JobFailed(
                f"有 {len(plan.errors)} 张图片无法使用，未导入任何数据",
                errors=[e.as_dict() for e in plan.errors[:1000]],
            )
        run.progress(len(rows), stage=WRITE_STAGE, force=True)
        counts, figures = plan.counts, plan.figures()  # before the write gives new ones ids
        try:
            with transaction.atomic():
                run.hold()
                product_ids = write(plan)
                run.succeed(
                    summary={
                        "counts": counts,
                        "figures": figures,
                        "links": [["查看商品", reverse("admin:catalog_product_changelist")]],
                        "product_ids": product_ids[:2000],
                    },
                    message=f"导入完成：{len(rows)} 行",
                )
        except IntegrityError as exc:
            logger.warning("product import %s refused by the database: %s", run.job.pk, exc)
            raise jobs.JobFailed("导入期间有其他人修改了相同的SKU编码，未导入任何数据，请重新导入") from exc
    except BaseException:
        for name in stored:  # pictures of a run that wrote nothing
            default_storage.delete(name)
        raise


def _fetch_images(run: jobs.JobRun, plan: Plan, images: ImageZip, stored: list[str]) -> None:
    """Download / unpack the pictures the plan needs into media storage (before the write
    transaction), reporting progress. Downloads run FETCH_WORKERS at a time (they wait on
    other servers); each distinct URL is fetched once and saved once per product using it.
    Failures become row errors."""
    by_url: dict[str, list[ImageRef]] = defaultdict(list)
    from_zip: list[ImageRef] = []
    for product in plan.products:
        for ref in product.images or []:
            if ref.source == "url":
                by_url[ref.value].append(ref)
            elif ref.source == "zip":
                from_zip.append(ref)
    count = len(by_url) + len(from_zip)
    if not count:
        return
    run.progress(0, stage="下载图片", force=True)
    batch = f"products/import-{run.job.pk}-{uuid.uuid4().hex[:8]}"
    finished = 0

    def keep(refs: list[ImageRef], content: bytes, extension: str) -> None:
        for ref in refs:
            ref.stored = default_storage.save(f"{batch}/{uuid.uuid4().hex}.{extension}", ContentFile(content))
            stored.append(ref.stored)

    def refused(refs: list[ImageRef], exc: safe_fetch.FetchRefused) -> None:
        for ref in refs:
            plan.error(ref.row, "images", f"图片“{ref.value}”：{exc.message}")

    def advance() -> None:
        nonlocal finished
        finished += 1
        run.progress(min(plan.rows - 1, plan.rows * finished // count))

    with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
        futures = {pool.submit(safe_fetch.fetch_image, url): url for url in by_url}
        try:
            for future in as_completed(futures):
                refs = by_url[futures[future]]
                try:
                    fetched = future.result()
                except safe_fetch.FetchRefused as exc:
                    refused(refs, exc)
                else:
                    keep(refs, fetched.content, fetched.extension)
                advance()
        except BaseException:
            for future in futures:
                future.cancel()  # the run is over (lost or failed): no more downloads
            raise
    for ref in from_zip:
        try:
            content = images.read(images.find(ref.value))
            extension = safe_fetch.check_image(content)[1]
        except safe_fetch.FetchRefused as exc:
            refused([ref], exc)
        else:
            keep([ref], content, extension)
        advance()


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def write(plan: Plan) -> list[int]:
    """Write the plan with set-based statements; call inside a transaction. Returns the ids
    of the products written."""
    new_products = [p for p in plan.products if p.product_id is None]
    for chunk in _chunks(new_products):
        created = Product.objects.bulk_create(
            [
                Product(
                    name=p.name,
                    subtitle=p.subtitle or "",
                    category_id=p.category_id,
                    description=p.description or "",
                    is_listed=bool(p.listed),
                    shipping_template_id=p.shipping_template_id or None,
                )
                for p in chunk
            ]
        )
        for p, obj in zip(chunk, created, strict=True):
            p.product_id = obj.pk

    existing_products = [p for p in plan.products if p not in new_products]
    now = timezone.now()  # bulk_update leaves auto_now fields alone
    for chunk in _chunks(existing_products):
        objs = {o.pk: o for o in Product.objects.filter(pk__in=[p.product_id for p in chunk])}
        for p in chunk:
            obj = objs[p.product_id]
            obj.name, obj.updated_at = p.name, now
            if p.category_id is not None:
                obj.category_id = p.category_id
            if p.subtitle is not None:
                obj.subtitle = p.subtitle
            if p.description is not None:
                obj.description = p.description
            if p.listed is not None:
                obj.is_listed = p.listed
            if p.shipping_template_id is not None:
                obj.shipping_template_id = p.shipping_template_id or None
        Product.objects.bulk_update(
            list(objs.values()),
            ["name", "category", "subtitle", "description", "is_listed", "shipping_template", "updated_at"],
        )

    _write_images(plan)  # first: a SKU's 规格图 is one of them
    new_skus, old_skus = [], []
    for p in plan.products:
        for s in p.skus:
            sku = Sku(
                image_id=s.picture_id(),
                product_id=p.product_id,
                code=s.code,
                specs=s.specs,
                price=s.price,
                list_price=s.list_price,
                stock=s.stock,
                weight_grams=s.weight,
                is_active=s.active,
            )
            if s.sku_id is None:
                new_skus.append(sku)
            else:
                sku.pk = s.sku_id
                old_skus.append(sku)
    for chunk in _chunks(new_skus):
        Sku.objects.bulk_create(chunk)
    fields = ["specs", "price", "list_price", "stock", "weight_grams", "is_active"]
    for chunk in _chunks(old_skus):
        Sku.objects.bulk_update(chunk, [*fields, "image"] if plan.sku_images else fields)
    product_ids = [p.product_id for p in plan.products]
    refresh_summaries(product_ids)
    return product_ids


def _write_images(plan: Plan) -> None:
    replacing = [p for p in plan.products if p.images is not None]
    if not replacing:
        return
    keep_ids = {int(i.value) for p in replacing for i in p.images if i.source == "keep"}
    existing_ids = [p.product_id for p in replacing if p.product_id]
    dropped = []
    for chunk in _chunks(existing_ids):
        dropped += list(
            ProductImage.objects.filter(product_id__in=chunk)
            .exclude(pk__in=keep_ids)
            .values_list("pk", "image")
        )
    for chunk in _chunks(dropped):
        ProductImage.objects.filter(pk__in=[pk for pk, _ in chunk]).delete()
    names = [name for _, name in dropped]
    if names:
        transaction.on_commit(lambda: [default_storage.delete(n) for n in names])
    new_images, kept = [], []
    for p in replacing:
        for order, ref in enumerate(p.images):
            if ref.source == "keep":
                ref.image_id = int(ref.value)
                kept.append(ProductImage(pk=ref.image_id, product_id=p.product_id, sort_order=order))
            elif ref.stored:
                new_images.append(
                    (ref, ProductImage(product_id=p.product_id, image=ref.stored, sort_order=order))
                )
    for chunk in _chunks(kept):
        ProductImage.objects.bulk_update(chunk, ["sort_order"])
    for chunk in _chunks(new_images):
        ProductImage.objects.bulk_create([image for _, image in chunk])
        for ref, image in chunk:
            ref.image_id = image.pk  # set by the insert (RETURNING) on both databases


def refresh_summaries(product_ids) -> None:
    """`products.refresh_summary` for many products, set-based: the cheapest active SKU's
    price, list price and weight onto each product, a few statements per chunk."""
    for chunk in _chunks(list(dict.fromkeys(product_ids))):
        cheapest: dict[int, tuple[int, int, int]] = {}
        for product_id, price, list_price, weight in (
            Sku.objects.filter(product_id__in=chunk, is_active=True)
            .order_by("product_id", "price", "id")
            .values_list("product_id", "price", "list_price", "weight_grams")
        ):
            cheapest.setdefault(product_id, (price, list_price, weight))
        products = list(Product.objects.filter(pk__in=chunk).only("pk", "weight_grams"))
        for product in products:
            price, list_price, weight = cheapest.get(product.pk, (0, 0, product.weight_grams))
            product.price, product.list_price, product.weight_grams = price, list_price, weight
        Product.objects.bulk_update(products, ["price", "list_price", "weight_grams"])


def register() -> None:
    jobs.register(IMPORT_KIND, label="导入商品", permission=IMPORT_PERMISSION, handler=run_import)


def template_file(fmt: str) -> tuple[str, bytes, str]:
    """(filename, content, content type) of the import template."""
    if fmt == "csv":
        return "商品导入模板.csv", spec.template_csv(), "text/csv; charset=utf-8"
    return (
        "商品导入模板.xlsx",
        spec.template_xlsx(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
