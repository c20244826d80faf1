"""Background jobs: imports and exports that run in a worker with a progress bar.

A `Job` row is the whole state. A domain app registers what a kind does:

    jobs.register("catalog.product_import", label="导入商品", permission="catalog.add_product",
                  handler=run_product_import)

(core imports no app, so the registry is filled by the apps, from their `ready()`). The
handler receives a `JobRun` and:

- reads its uploaded files (`run.open_input("file")`) and `run.job.params`;
- reports progress with `run.progress(done, total=…, stage=…)`. Each report is its own
  short write in autocommit mode, so the page polling the job sees it at once; call it
  OUTSIDE any long transaction of yours (inside one it would be invisible to other
  connections until the commit on PostgreSQL, and would wait for the write lock that your
  own transaction holds on SQLite). A long all-or-nothing write is a last stage after the
  progress reports: `run.progress(..., stage="写入数据库")`, then the atomic block;
- writes a result file with `run.save_result(filename, bytes)` (exports);
- ends with `run.succeed(summary=…, message=…)`, or raises `JobFailed(message, errors)`.
  An all-or-nothing writer calls `run.hold()` first thing inside its atomic block and
  `run.succeed()` last inside it, so the writes and "succeeded" commit together.

Starting one: `jobs.create(kind, user=…, title=…, params=…, files={"file": (name, bytes)})`
queues it on commit (`draft=True` keeps it for a confirmation, then `jobs.confirm`). The
job's page in the 任务中心 is `admin:core_job_change`; `core.admin.job_progress_html(job,
request)` renders its progress block (polling every second until finished, with the
download link and `summary["figures"]` / `summary["links"]`) for any page of your own.
Tests keep the files in memory: `settings.STORAGES = {**settings.STORAGES, "jobs":
{"BACKEND": "django.core.files.storage.InMemoryStorage"}}`; Huey runs at once there.

A job runs at least once and counts once: `run_job` claims it with a conditional update
(pending → running, one more attempt), and every later write of the run is conditional on
that attempt, so a run the sweeper has given up on (its heartbeat stopped: the worker was
killed) can change nothing after its replacement started (`JobLost`). Handlers must be
idempotent: an import writes in one transaction (a killed run wrote nothing), an export
overwrites its file.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError, NotFound
from .models import JOB_MACHINE, Job, JobStatus

logger = logging.getLogger(__name__)

# A running job writes its progress at most this often (the page polls every second).
PROGRESS_INTERVAL = 0.5
SWEEP_CHUNK = 100
DRAFTS_KEPT = timedelta(days=1)
# Uploads and results (exports hold personal data) are deleted this long after the job ended;
# the job's row, counts and errors stay.
FILES_KEPT = timedelta(days=30)


class JobFailed(DomainError):
    """The handler's verdict: the job failed, with a message and optional per-row errors."""

    code = "JOB_FAILED"
    message = "任务失败"

    def __init__(self, message: str | None = None, *, errors: list | None = None, **details):
        super().__init__(message, **details)
        self.errors = errors or []


class JobLost(Exception):
    """This run no longer owns the job (the sweeper handed it to another run): stop."""


@dataclass(frozen=True)
class JobKind:
    key: str
    label: str
    # The Django permission ("app.codename") a staff member needs to start the job, see it
    # in the job centre and download its files.
    permission: str | tuple[str, ...]
    handler: Callable[["JobRun"], None]

    @property
    def perms(self) -> tuple[str, ...]:
        # One permission, or several that must all be held (an export with full phones).
        return (self.permission,) if isinstance(self.permission, str) else tuple(self.permission)


_KINDS: dict[str, JobKind] = {}


def register(key: str, *, label: str, permission: str, handler: Callable[["JobRun"], None]) -> JobKind:
    kind = JobKind(key=key, label=label, permission=permission, handler=handler)
    _KINDS[key] = kind
    return kind


def kind_of(key: str) -> JobKind | None:
    return _KINDS.get(key)


def kind_label(key: str) -> str:
    kind = _KINDS.get(key)
    return kind.label if kind else key


# --- who may see what ---------------------------------------------------------------------


def visible_kinds(user) -> list[str]:
    if not (user and user.is_active and user.is_staff):
        return []
    return [key for key, kind in _KINDS.items() if user.has_perms(kind.perms)]


def may_see(user, job: Job) -> bool:
    return job.kind in visible_kinds(user)


def may_open_job_center(user) -> bool:
    return bool(visible_kinds(user))


# --- files ----------------------------------------------------------------------------------


def storage():
    return storages["jobs"]


def _store(job_key: str, role: str, filename: str, content) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    name = f"jobs/{job_key}/{role}-{uuid.uuid4().hex}{suffix}"
    if isinstance(content, bytes):
        content = ContentFile(content)
    return storage().save(name, content)


def open_file(name: str):
    return storage().open(name, "rb")


def delete_files(job: Job) -> None:
    names = [entry.get("name") for entry in (job.inputs or {}).values()] + [job.result_name]
    for name in filter(None, names):
        try:
            storage().delete(name)
        except OSError:
            logger.warning("could not delete job file %s", name)


# --- starting -------------------------------------------------------------------------------


def create(
    kind: str,
    *,
    user,
    title: str,
    params: dict | None = None,
    files: dict | None = None,
    draft: bool = False,
    summary: dict | None = None,
) -> Job:
    """A new job of `kind` for `user`, queued unless it is a `draft` (an upload waiting for
    its dry run to be confirmed). `files` maps a role to (original filename, bytes or File).
    Refuses staff without the kind's permission."""
    job_kind = _KINDS.get(kind)
    if job_kind is None:
        raise NotFound(_("未知的任务类型"))
    if not user.has_perms(job_kind.perms):
        raise DomainError(_("没有权限执行此操作"), code="PERMISSION_DENIED", status=403)
    key = uuid.uuid4().hex
    inputs = {
        role: {"name": _store(key, role, filename, content), "filename": str(filename)[:200]}
        for role, (filename, content) in (files or {}).items()
    }
    now = timezone.now()
    job = Job.objects.create(
        kind=kind,
        title=title[:200],
        status=JobStatus.DRAFT if draft else JobStatus.PENDING,
        params=params or {},
        inputs=inputs,
        summary=summary or {},
        created_by=user,
        queued_at=None if draft else now,
    )
    if not draft:
        _enqueue_on_commit(job.pk)
    return job


def confirm(job: Job, user) -> Job:
    """Queue a draft job (the staff member confirmed its dry run)."""
    if not may_see(user, job):
        raise DomainError(_("没有权限执行此操作"), code="PERMISSION_DENIED", status=403)
    JOB_MACHINE.move(job, JobStatus.PENDING, stale=_("任务已开始，请勿重复提交"), queued_at=timezone.now())
    _enqueue_on_commit(job.pk)
    return job


def retry(job: Job, user) -> Job:
    """Run a failed job again from the start."""
    if not may_see(user, job):
        raise DomainError(_("没有权限执行此操作"), code="PERMISSION_DENIED", status=403)
    JOB_MACHINE.move(
        job,
        JobStatus.PENDING,
        queued_at=timezone.now(),
        done=0,
        stage="",
        message="",
        errors=[],
        finished_at=None,
    )
    _enqueue_on_commit(job.pk)
    return job


def _enqueue_on_commit(job_id: int) -> None:
    from .tasks import run_job

    transaction.on_commit(lambda: run_job(job_id))


# --- running --------------------------------------------------------------------------------


class JobRun:
    """One run of one job: what a handler uses to read inputs and report."""

    def __init__(self, job: Job):
        self.job = job
        self.attempt = job.attempts
        self.finished = False
        self._last_report = 0.0

    def _mine(self):
        return Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING, attempts=self.attempt)

    def open_input(self, role: str):
        entry = (self.job.inputs or {}).get(role)
        return open_file(entry["name"]) if entry else None

    def input_filename(self, role: str) -> str:
        return ((self.job.inputs or {}).get(role) or {}).get("filename", "")

    def progress(self, done: int, *, total: int | None = None, stage: str | None = None, force=False) -> None:
        """Report progress (throttled; always written when `force`, a new stage or total,
        or the end). Raises JobLost when the sweeper has handed the job to another run."""
        import time

        now = time.monotonic()
        fields = {"done": done}
        changed = (
            force
            or (total is not None and total != self.job.total)
            or (stage is not None and stage != self.job.stage)
        )
        if total is not None:
            fields["total"] = total
        if stage is not None:
            fields["stage"] = stage
        reached_end = done >= (total if total is not None else self.job.total)
        if not (changed or reached_end or now - self._last_report >= PROGRESS_INTERVAL):
            return
        self._last_report = now
        if not self._mine().update(heartbeat_at=timezone.now(), **fields):
            raise JobLost
        for name, value in fields.items():
            setattr(self.job, name, value)

    def hold(self) -> None:
        """Inside the handler's atomic block: lock the job row for this run (PostgreSQL), so
        the sweeper skips it while the writes are under way. Raises JobLost if it is gone."""
        if not self._mine().select_for_update().exists():
            raise JobLost

    def save_result(self, filename: str, content) -> None:
        name = _store(f"{self.job.pk}", "result", filename, content)
        if not self._mine().update(result_name=name, result_filename=filename[:200]):
            storage().delete(name)
            raise JobLost
        old = self.job.result_name
        self.job.result_name, self.job.result_filename = name, filename[:200]
        if old and old != name:
            storage().delete(old)

    def succeed(self, *, summary: dict | None = None, message: str = "") -> None:
        JOB_MACHINE.check(JobStatus.RUNNING, JobStatus.SUCCEEDED)
        fields = {
            "status": JobStatus.SUCCEEDED,
            "finished_at": timezone.now(),
            "message": message[:500],
            "done": F("total"),
        }
        if summary is not None:
            fields["summary"] = summary
        if not self._mine().update(**fields):
            raise JobLost
        self.finished = True

    def fail(self, message: str, errors: list | None = None) -> None:
        moved = self._mine().update(
            status=JobStatus.FAILED,
            finished_at=timezone.now(),
            message=message[:500],
            errors=errors or [],
        )
        self.finished = bool(moved)


def run_job(job_id: int) -> None:
    """The worker's body: claim the job, run its handler, record the outcome."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, done=0
    )
    if not claimed:
        return  # already run, running elsewhere, or not confirmed
    job = Job.objects.get(pk=job_id)
    run = JobRun(job)
    kind = _KINDS.get(job.kind)
    if kind is None:
        run.fail("未知的任务类型")
        return
    try:
        kind.handler(run)
    except JobLost:
        logger.info("job %s: attempt %s lost to another run", job_id, run.attempt)
        return
    except JobFailed as exc:
        run.fail(exc.message, exc.errors)
        return
    except DomainError as exc:
        run.fail(exc.message)
        return
    except Exception:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        run.fail("任务执行出错，请稍后在任务中心重试")
        return
    if not run.finished:
        run.succeed()


def stale_cutoff(now=None):
    return (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)


def sweep(now=None) -> int:
    """Re-drive jobs a worker dropped: running ones whose heartbeat stopped go back to the
    queue (or fail after JOB_MAX_ATTEMPTS runs), pending ones queued long ago (their queue
    entry was lost) are queued again, unconfirmed drafts older than a day are deleted, and
    the files of jobs finished more than FILES_KEPT ago are removed.
    Returns how many jobs were queued."""
    now = now or timezone.now()
    cutoff = stale_cutoff(now)
    queued: list[int] = []
    while True:
        with transaction.atomic():
            ids = list(
                Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:SWEEP_CHUNK]
            )
            if not ids:
                break
            dead = Job.objects.filter(pk__in=ids, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff)
            dead.filter(attempts__gte=settings.JOB_MAX_ATTEMPTS).update(
                status=JobStatus.FAILED, finished_at=now, message="任务多次中断未能完成，请重新发起"
            )
            again = list(dead.filter(attempts__lt=settings.JOB_MAX_ATTEMPTS).values_list("pk", flat=True))
            Job.objects.filter(pk__in=again).update(status=JobStatus.PENDING, queued_at=now)
            queued += again
    while True:
        with transaction.atomic():
            ids = list(
                Job.objects.filter(status=JobStatus.PENDING, queued_at__lt=cutoff)
                .select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", flat=True)[:SWEEP_CHUNK]
            )
            if not ids:
                break
            Job.objects.filter(pk__in=ids, status=JobStatus.PENDING).update(queued_at=now)
            queued += ids
    for draft in Job.objects.filter(status=JobStatus.DRAFT, created_at__lt=now - DRAFTS_KEPT)[:SWEEP_CHUNK]:
        delete_files(draft)
        draft.delete()
    expired = (
        Job.objects.filter(
            status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED], finished_at__lt=now - FILES_KEPT
        )
        .filter(~Q(result_name="") | ~Q(inputs={}))
        .order_by("pk")[:SWEEP_CHUNK]
    )
    for job in expired:
        delete_files(job)
        Job.objects.filter(pk=job.pk).update(result_name="", inputs={})
    from .tasks import run_job as run_job_task

    for job_id in queued:
        run_job_task(job_id)
    return len(queued)
