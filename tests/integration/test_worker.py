"""The RQ worker with scheduler runs jobs on the real Redis, including ones scheduled with enqueue_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import JobStatus

from runtime.worker import ContactCentreWorker


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


def _redis_lost_while_recording(monkeypatch) -> None:
    """Make RQ fail the way it does when Redis restarts just as it records a job's end."""

    def lose_redis(self, job, queue):
        raise redis.exceptions.ConnectionError("Connection closed by server.")

    monkeypatch.setattr(SimpleWorker, "execute_job", lose_redis)


def test_a_worker_that_loses_redis_mid_job_waits_for_it_instead_of_quitting(app, monkeypatch):
    services = app.extensions["contact_centre"]
    job = services.queue.enqueue("tests.integration.jobs_for_tests.add", 1, 1)
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    _redis_lost_while_recording(monkeypatch)
    answers = iter(
        [redis.exceptions.ConnectionError("refused"), redis.exceptions.ConnectionError("refused"), True]
    )

    def ping():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(worker.connection, "ping", ping)
    worker.execute_job(job, services.queue)  # no exception: the work loop carries on once Redis answers
    assert next(answers, "all used") == "all used"


def test_a_worker_whose_redis_stays_away_still_exits_to_be_restarted(app, monkeypatch):
    services = app.extensions["contact_centre"]
    job = services.queue.enqueue("tests.integration.jobs_for_tests.add", 1, 1)
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    worker.redis_return_wait_seconds = 0.3
    _redis_lost_while_recording(monkeypatch)

    def refuse():
        raise redis.exceptions.ConnectionError("refused")

    monkeypatch.setattr(worker.connection, "ping", refuse)
    with pytest.raises(redis.exceptions.ConnectionError):
        worker.execute_job(job, services.queue)


def test_a_heartbeat_that_finds_redis_away_waits_for_it_instead_of_ending_the_worker(app, monkeypatch):
    services = app.extensions["contact_centre"]
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    real_hset, failures = services.redis.hset, iter([redis.exceptions.ConnectionError("closed")])

    def hset(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_hset(*args, **kwargs)

    monkeypatch.setattr(services.redis, "hset", hset)
    worker.heartbeat()  # Redis answered the wait's ping: the heartbeat is retried, the worker carries on
    assert services.redis.hget(worker.key, "last_heartbeat") is not None
