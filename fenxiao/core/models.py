from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .statemachine import StateMachine


class PeriodicRun(models.Model):
    """One row per scheduled task and schedule slot: the claim that lets exactly one of the
    task consumers run it (see `core.periodic`). Rows older than a week are pruned."""

    task = models.CharField(_("任务"), max_length=120)
    slot = models.DateTimeField(_("计划时间"))
    claimed_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    claimed_by = models.CharField(_("执行节点"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("定时任务执行记录")
        verbose_name_plural = pgettext_lazy("plural", "定时任务执行记录")
        constraints = [models.UniqueConstraint(fields=["task", "slot"], name="periodic_run_once_per_slot")]

    def __str__(self):
        return f"{self.task} @ {self.slot:%Y-%m-%d %H:%M}"


class JobStatus(models.TextChoices):
    DRAFT = "draft", _("待确认")
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


FINAL_JOB_STATUSES = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class Job(models.Model):
    """A batch job (an import or an export) run by a worker, with its progress and files.

    What a kind does lives in the domain app that registers it (`core.jobs.register`); this
    row is the job's whole state, so a worker killed mid-run strands nothing: the sweeper
    hands a job whose heartbeat stopped back to the queue (see `core.jobs`). Files live in
    the private "jobs" storage and are only ever served through a view that checks the
    kind's permission, never by a public media URL.
    """

    kind = models.CharField(_("任务类型"), max_length=60, db_index=True)
    title = models.CharField(_("任务"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=12, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    # Options for the handler (an export's filters, an import's choices).
    params = models.JSONField(_("参数"), default=dict, blank=True)
    # Uploaded files by role, e.g. {"file": {"name": <storage name>, "filename": "商品.xlsx"}}.
    inputs = models.JSONField(_("上传文件"), default=dict, blank=True)
    stage = models.CharField(_("当前步骤"), max_length=40, blank=True)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    attempts = models.PositiveIntegerField(_("执行次数"), default=0)
    result_name = models.CharField(_("结果文件"), max_length=255, blank=True)
    result_filename = models.CharField(_("结果文件名"), max_length=200, blank=True)
    # What the job did (counts by what, shown on its page) or why it failed.
    summary = models.JSONField(_("结果"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    # Per-row problems: [{"row": 3, "column": "售价(元)", "message": "…"}].
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(_("排队时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    # Written with every progress report; a running job whose heartbeat stops is re-driven.
    heartbeat_at = models.DateTimeField(_("最近进度"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = pgettext_lazy("plural", "任务")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self):
        return self.title

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_JOB_STATUSES

    @property
    def percent(self) -> int:
        if self.status == JobStatus.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


JOB_MACHINE = StateMachine(
    JobStatus,
    {
        # A draft is an upload waiting for the staff member to confirm its dry run.
        JobStatus.DRAFT: {JobStatus.PENDING},
        JobStatus.PENDING: {JobStatus.RUNNING, JobStatus.FAILED},
        # Back to pending: the sweeper re-drives a run whose worker died.
        JobStatus.RUNNING: {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.PENDING},
        # Staff may run a failed job again (an export that hit a transient error).
        JobStatus.FAILED: {JobStatus.PENDING},
    },
)
