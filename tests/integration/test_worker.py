"""The RQ worker with scheduler runs jobs on the real Redis, including ones scheduled with enqueue_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rq import Queue, Worker
from rq.job import JobStatus


def test_worker_runs_an_enqueued_job(app):
    services = app.extensions["contact_centre"]
    job = services.queue.enqueue("tests.integration.jobs_for_tests.add", 2, 3, job_id="add-2-3")
    Worker([services.queue], connection=services.redis).work(burst=True, with_scheduler=True)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 5


def test_scheduler_moves_a_due_scheduled_job_onto_the_queue(app):
    services = app.extensions["contact_centre"]
    queue: Queue = services.queue
    due = datetime.now(UTC) - timedelta(seconds=1)
    job = queue.enqueue_at(due, "tests.integration.jobs_for_tests.add", 20, 22, job_id="scheduled-add")
    assert job.get_status() == JobStatus.SCHEDULED
    Worker([queue], connection=services.redis).work(burst=True, with_scheduler=True)
    job.refresh()
    assert job.get_status() == JobStatus.FINISHED
    assert job.return_value() == 42
