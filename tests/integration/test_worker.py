"""The RQ worker: runs jobs (enqueue_at ones too), waits out a lost Redis, keeps a scheduler running."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue, SimpleWorker, Worker
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from structlog.testing import capture_logs

import runtime.worker
from runtime.worker import ContactCentreWorker, wait_for_redis


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


def test_a_worker_waiting_for_redis_mid_job_still_stops_when_asked(app, monkeypatch):
    services = app.extensions["contact_centre"]
    job = services.queue.enqueue("tests.integration.jobs_for_tests.add", 1, 1)
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    worker.redis_retry_seconds = 0
    _redis_lost_while_recording(monkeypatch)
    pings = []

    def refuse():
        pings.append(1)
        if len(pings) == 3:
            worker._stop_requested = True  # what RQ's SIGTERM handler sets while a job runs
        raise redis.exceptions.ConnectionError("refused")

    monkeypatch.setattr(worker.connection, "ping", refuse)
    with pytest.raises(redis.exceptions.ConnectionError):
        worker.execute_job(job, services.queue)
    assert len(pings) == 3


def _fails_once_with_redis_away(answer):
    calls = []

    def step(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise redis.exceptions.ConnectionError("Connection closed by server.")
        return answer

    return step, calls


@pytest.mark.parametrize(
    ("step", "patched", "call"),
    [
        ("check for rq suspend", "rq.worker.base.is_suspended", lambda w: w.check_for_suspension(False)),
        (
            "wait for a job",
            "rq.SimpleWorker.dequeue_job_and_maintain_ttl",
            lambda w: w.dequeue_job_and_maintain_ttl(1),
        ),
    ],
)
def test_a_worker_that_finds_redis_away_between_jobs_waits_for_it_instead_of_quitting(
    app, monkeypatch, step, patched, call
):
    services = app.extensions["contact_centre"]
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    fails_once, calls = _fails_once_with_redis_away(None)
    monkeypatch.setattr(patched, fails_once)

    assert call(worker) is None  # RQ's work loop would have ended the worker here
    assert len(calls) == 2, f"{step}: tried again once Redis answered"


def test_maintenance_that_finds_redis_away_is_left_for_the_next_round_instead_of_ending_the_worker(
    app, monkeypatch
):
    services = app.extensions["contact_centre"]
    monkeypatch.setattr(runtime.worker, "_services", services)  # what run_worker sets up for the jobs
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    fails_once, calls = _fails_once_with_redis_away(None)
    monkeypatch.setattr(SimpleWorker, "run_maintenance_tasks", fails_once)
    scheduled = ScheduledJobRegistry(queue=services.queue)

    worker.run_maintenance_tasks()  # RQ's work loop would have ended the worker here
    assert scheduled.get_job_ids() == []
    worker.run_maintenance_tasks()  # the next round, Redis back
    assert len(calls) == 2 and [j for j in scheduled.get_job_ids() if j.startswith("callbacks-reconcile-")]


def test_waiting_for_redis_warns_once_however_long_it_is_away():
    answers = iter([redis.exceptions.ConnectionError("refused")] * 5 + [True])

    class Connection:
        def ping(self):
            answer = next(answers)
            if isinstance(answer, Exception):
                raise answer
            return answer

    with capture_logs() as logs:
        assert wait_for_redis(Connection(), lambda: False, retry_seconds=0)
    assert [(entry["log_level"], entry["event"]) for entry in logs] == [
        ("warning", "worker.waiting_for_redis"),
        ("info", "worker.redis_back"),
    ]


def test_building_a_worker_keeps_the_services_redis_timeout_instead_of_rqs_seven_minutes(app):
    services = app.extensions["contact_centre"]
    ContactCentreWorker([services.queue], connection=services.redis)
    assert services.redis.connection_pool.connection_kwargs["socket_timeout"] == 5


def test_the_first_heartbeat_after_redis_forgot_a_worker_registers_it_again(app):
    services = app.extensions["contact_centre"]
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    worker.register_birth()
    services.redis.flushdb()  # Redis restarted empty: RQ's heartbeat alone re-creates only part of the record
    assert Worker.all(connection=services.redis) == []

    worker.heartbeat()
    assert [found.name for found in Worker.all(connection=services.redis)] == [worker.name]
    assert not worker.register_again_if_forgotten()  # registered: nothing more to do


@pytest.fixture
def stopped_schedulers() -> Iterator[list[RQScheduler]]:
    started: list[RQScheduler] = []
    yield started
    for scheduler in started:
        if scheduler._process is not None and scheduler._process.is_alive():
            scheduler._process.kill()
            scheduler._process.join(timeout=5)


def _worker_with_scheduler(services, started: list[RQScheduler]) -> ContactCentreWorker:
    worker = ContactCentreWorker([services.queue], connection=services.redis)
    worker.scheduler = RQScheduler(worker.queues, connection=worker.connection)  # as work() sets it up
    started.append(worker.scheduler)
    return worker


def test_a_worker_whose_scheduler_died_starts_another_unless_a_second_worker_holds_the_lock(
    app, stopped_schedulers
):
    services = app.extensions["contact_centre"]
    first = _worker_with_scheduler(services, stopped_schedulers)
    second = _worker_with_scheduler(services, stopped_schedulers)

    assert first.keep_scheduler_running()
    assert not first.keep_scheduler_running()  # it is running
    assert not second.keep_scheduler_running()  # the first worker holds the lock
    dead = first.scheduler._process
    dead.kill()
    dead.join(timeout=5)

    assert not second.keep_scheduler_running()  # the lock outlives its process ...
    assert first.keep_scheduler_running()  # ... but its own worker takes it straight back
    assert first.scheduler._process.pid != dead.pid and first.scheduler._process.is_alive()
    services.redis.flushdb()  # a Redis restarted empty: no lock any more
    first.stop_scheduler_that_lost_redis()
    assert second.keep_scheduler_running()  # whichever worker comes round first runs the scheduler
    assert not first.keep_scheduler_running()


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
