from django.db import models


class PeriodicRun(models.Model):
    """One row per scheduled task and schedule slot: the claim that lets exactly one of the
    task consumers run it (see `core.periodic`). Rows older than a week are pruned."""

    task = models.CharField("任务", max_length=120)
    slot = models.DateTimeField("计划时间")
    claimed_at = models.DateTimeField("开始时间", auto_now_add=True)
    claimed_by = models.CharField("执行节点", max_length=120, blank=True)

    class Meta:
        verbose_name = "定时任务执行记录"
        verbose_name_plural = "定时任务执行记录"
        constraints = [models.UniqueConstraint(fields=["task", "slot"], name="periodic_run_once_per_slot")]

    def __str__(self):
        return f"{self.task} @ {self.slot:%Y-%m-%d %H:%M}"
