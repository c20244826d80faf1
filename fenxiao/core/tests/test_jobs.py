"""Background jobs: a job runs once through the queue with its progress, its file is served
only to staff allowed to see its kind, and a job a killed worker left behind is run again."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fenxiao.core import jobs
from fenxiao.core.models import Job, JobStatus
from fenxiao.testing import make_staff

pytestmark = pytest.mark.django_db

MEMORY = "django.core.files.storage.InMemoryStorage"
calls: list[int] = []


def count_to_five(run: jobs.JobRun) -> None:
    calls.append(run.job.pk)
    text = run.open_input("file").read().decode()
    run.progress(0, total=5, stage="数数")
    for i in range(1, 6):
        run.progress(i)
    run.save_result("结果.csv", f"收到:{text}".encode())
    run.succeed(summary={"figures": [["数到", 5]]}, message="数完了")


def refuse(run: jobs.JobRun) -> None:
    run.progress(1, total=2)
    raise jobs.JobFailed("文件有误", errors=[{"row": 2, "column": "售价(元)", "message": "格式不对"}])


@pytest.fixture(autouse=True)
def kinds(settings):
    settings.STORAGES = {**settings.STORAGES, "jobs": {"BACKEND": MEMORY}}
    calls.clear()
    jobs.register("test.count", label="数数", permission="auth.view_group", handler=count_to_five)
    jobs.register("test.refuse", label="拒绝", permission="auth.view_group", handler=refuse)
    jobs.register("test.secret", label="机密", permission="auth.delete_group", handler=count_to_five)
    yield
    for key in ("test.count", "test.refuse", "test.secret"):
        jobs._KINDS.pop(key, None)


def staff_client(*perms):
    staff = make_staff("jobs", perms=list(perms))
    client = Client()
    client.force_login(staff)
    return staff, client


def test_a_job_runs_through_the_queue_with_progress_and_its_file_downloads():
    staff, client = staff_client("auth.view_group")
    job = jobs.create("test.count", user=staff, title="数到五", files={"file": ("in.txt", b"hello")})
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and calls == [job.pk]
    assert (job.done, job.total, job.percent, job.attempts) == (5, 5, 100, 1)

    page = client.get(f"/backend/core/job/{job.pk}/change/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "已完成" in text and "数完了" in text and "下载 结果.csv" in text
    partial = client.get(f"/backend/core/job/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial  # finished: polling stops

    download = client.get(f"/backend/core/job/{job.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode() == "收到:hello"
    assert "no-store" in download["Cache-Control"]

    listing = client.get("/backend/core/job/").content.decode()
    assert "数到五" in listing and "数数" in listing


def test_a_running_job_polls_every_second():
    staff, client = staff_client("auth.view_group")
    job = Job.objects.create(kind="test.count", title="进行中", status=JobStatus.RUNNING, total=10, done=4)
    partial = client.get(f"/backend/core/job/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "已处理 4 / 10（40%）" in partial


def test_files_and_jobs_are_only_for_staff_allowed_to_see_the_kind():
    owner, _ = staff_client("auth.delete_group")
    secret = jobs.create("test.secret", user=owner, title="机密导出", files={"file": ("in.txt", b"x")})
    _, other = staff_client("auth.view_group")  # may see test.count, not test.secret
    assert other.get(f"/backend/core/job/{secret.pk}/download/").status_code == 404
    assert other.get(f"/backend/core/job/{secret.pk}/progress/").status_code == 404
    assert "机密导出" not in other.get("/backend/core/job/").content.decode()
    _, nobody = staff_client()
    assert nobody.get("/backend/core/job/").status_code == 403
    anonymous = Client().get(f"/backend/core/job/{secret.pk}/download/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    # Starting a job of a kind one may not run is refused.
    stranger = make_staff("stranger")
    with pytest.raises(jobs.DomainError):
        jobs.create("test.secret", user=stranger, title="x")


def test_a_failed_job_keeps_its_row_errors_and_changes_nothing_else():
    staff, client = staff_client("auth.view_group")
    job = jobs.create("test.refuse", user=staff, title="坏文件")
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.message == "文件有误"
    assert job.errors == [{"row": 2, "column": "售价(元)", "message": "格式不对"}]
    text = client.get(f"/backend/core/job/{job.pk}/change/").content.decode()
    assert "第 2 行" in text and "格式不对" in text


def test_a_draft_waits_for_confirmation_and_runs_once():
    staff, _ = staff_client("auth.view_group")
    job = jobs.create("test.count", user=staff, title="待确认", files={"file": ("a.txt", b"a")}, draft=True)
    assert Job.objects.get(pk=job.pk).status == JobStatus.DRAFT and calls == []
    jobs.confirm(job, staff)
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED and calls == [job.pk]
    with pytest.raises(jobs.DomainError):
        jobs.confirm(job, staff)  # a second click changes nothing
    jobs.run_job(job.pk)  # a duplicate queue entry finds nothing to do
    assert calls == [job.pk]


def test_a_job_left_by_a_killed_worker_is_run_again_and_the_old_run_cannot_finish():
    staff, _ = staff_client("auth.view_group")
    job = jobs.create("test.count", user=staff, title="中断", files={"file": ("a.txt", b"a")}, draft=True)
    long_ago = timezone.now() - timedelta(hours=1)
    # The worker claimed it, reported once and was killed.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, heartbeat_at=long_ago, done=2)
    dead_run = jobs.JobRun(Job.objects.get(pk=job.pk))
    assert jobs.sweep() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2 and calls == [job.pk]
    with pytest.raises(jobs.JobLost):
        dead_run.progress(3, force=True)
    with pytest.raises(jobs.JobLost):
        dead_run.succeed()
    assert jobs.sweep() == 0  # nothing left to do


def test_a_job_interrupted_too_often_fails_and_a_lost_queue_entry_is_queued_again():
    staff, _ = staff_client("auth.view_group")
    long_ago = timezone.now() - timedelta(hours=1)
    worn = Job.objects.create(
        kind="test.count", title="多次中断", status=JobStatus.RUNNING, attempts=3, heartbeat_at=long_ago
    )
    forgotten = jobs.create(
        "test.count", user=staff, title="丢失", files={"file": ("a.txt", b"a")}, draft=True
    )
    Job.objects.filter(pk=forgotten.pk).update(status=JobStatus.PENDING, queued_at=long_ago)
    assert jobs.sweep() == 1
    worn.refresh_from_db()
    assert worn.status == JobStatus.FAILED and "多次中断" in worn.message
    assert Job.objects.get(pk=forgotten.pk).status == JobStatus.SUCCEEDED


def test_old_unconfirmed_drafts_are_cleared_with_their_files():
    staff, _ = staff_client("auth.view_group")
    draft = jobs.create("test.count", user=staff, title="未确认", files={"file": ("a.txt", b"a")}, draft=True)
    name = draft.inputs["file"]["name"]
    assert jobs.storage().exists(name)
    Job.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=2))
    jobs.sweep()
    assert not Job.objects.filter(pk=draft.pk).exists() and not jobs.storage().exists(name)


def test_files_of_old_jobs_are_removed_but_the_record_stays():
    staff, client = staff_client("auth.view_group")
    job = jobs.create("test.count", user=staff, title="旧任务", files={"file": ("a.txt", b"a")})
    job.refresh_from_db()
    names = [job.inputs["file"]["name"], job.result_name]
    assert all(jobs.storage().exists(n) for n in names)
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=31))
    jobs.sweep()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result_name == "" and job.inputs == {}
    assert not any(jobs.storage().exists(n) for n in names)
    assert client.get(f"/backend/core/job/{job.pk}/download/").status_code == 404
    assert "下载" not in client.get(f"/backend/core/job/{job.pk}/progress/").content.decode()
