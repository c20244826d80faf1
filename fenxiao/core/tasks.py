"""Huey tasks for background jobs (see `core.jobs`). The state lives in the job row; the
sweeper re-drives a job whose worker died."""

from huey import crontab
from huey.contrib.djhuey import db_task

from .periodic import once_per_slot


@db_task()
def run_job(job_id: int) -> None:
    from . import jobs

    jobs.run_job(job_id)


@once_per_slot(crontab(minute="*"))
def sweep_jobs() -> None:
    """Every minute: queue again the jobs a killed worker left running or pending."""
    from . import jobs

    jobs.sweep()
