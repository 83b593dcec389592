"""The RQ worker (with scheduler) entry point: `python -m runtime.worker` or `flask --app app worker`."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any, TypeVar

import redis
from redis.client import Pipeline, PubSub
from rq import Queue, SimpleWorker, worker_registration
from rq.job import Job

from callbacks.lifecycle import (
    DIAL_SWEEP_SECONDS,
    keep_reconciling,
    reconcile,
    reconcile_if_forgotten,
    sweep_due_dials,
)
from config import Settings, load_settings, load_settings_or_exit
from runtime.logging import configure_logging, get_logger
from runtime.services import Services, build_services

log = get_logger(__name__)
_services: Services | None = None
REDIS_AWAY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
T = TypeVar("T")
# The longest a worker waits for a job before its loop comes round again (RQ's default: 405 s).
DEQUEUE_WAIT_SECONDS = 1
# While Redis is away, ask it again about this often.
REDIS_RETRY_SECONDS = 1.0


def wait_for_redis(
    connection: redis.Redis, stop_requested: Callable[[], bool], retry_seconds: float = REDIS_RETRY_SECONDS
) -> bool:
    """Ping Redis until it answers (True) or `stop_requested()` (False); one warning however long it is away."""
    away_since: float | None = None
    while not stop_requested():
        try:
            connection.ping()
        except REDIS_AWAY as error:
            if away_since is None:
                away_since = time.monotonic()
                log.warning("worker.waiting_for_redis", error=str(error))
            time.sleep(retry_seconds)
            continue
        if away_since is not None:
            log.info("worker.redis_back", seconds_away=round(time.monotonic() - away_since, 1))
        return True
    return False


def job_services() -> Services:
    """The worker process's services; jobs call this instead of receiving clients as arguments."""
    global _services
    if _services is None:
        _services = build_services(load_settings())
    return _services


class DialSweeper(threading.Thread):
    """Every DIAL_SWEEP_SECONDS, queue the dials of the next second that RQ lost or stalled (see sweep_due_dials).

    A thread of the worker process, not an RQ job: it must keep going exactly when RQ's queue, schedule or
    scheduler process is what failed, and while the worker's own thread is busy with a job. Each worker runs
    one; a short Redis lock lets one of them sweep per interval. Each tick also reconciles at once if Redis came
    back empty (reconcile_if_forgotten): the texts and dials whose jobs died with it go out within a moment,
    and the reconciler's chain is re-armed. Redis or the database being away is logged once and retried on the
    next tick.
    """

    LOCK_KEY = "callbacks:dial-sweep"

    def __init__(self, services: Services) -> None:
        super().__init__(name="dial-sweeper", daemon=True)
        self.services = services
        self.stopped = threading.Event()

    def run(self) -> None:
        failing = False
        while not self.stopped.wait(DIAL_SWEEP_SECONDS):
            try:
                report = reconcile_if_forgotten(self.services)
                if report is not None:
                    log.warning("callback.reconciled_after_redis_lost", **asdict(report))
                self.sweep_once(lock_ms=int(DIAL_SWEEP_SECONDS * 800))
                failing = False
            except REDIS_AWAY as error:
                if not failing:
                    log.warning("callback.dial_sweep_waiting_for_redis", error=str(error))
                failing = True
            except Exception:
                if not failing:
                    log.exception("callback.dial_sweep_failed")
                failing = True

    def sweep_once(self, lock_ms: int) -> int | None:
        """Sweep if no other worker swept in the last `lock_ms`; the number of dials queued, None if skipped."""
        if not self.services.redis.set(self.LOCK_KEY, os.getpid(), nx=True, px=lock_ms):
            return None
        recovered = sweep_due_dials(self.services)
        if recovered:
            log.warning("callback.dials_recovered", dials_enqueued=recovered)
        return recovered


class ContactCentreWorker(SimpleWorker):
    """RQ's non-forking worker, which also keeps RQ's scheduler and the callback reconciler going through outages.

    Non-forking: our jobs are short, idempotent database-and-HTTP steps, and a work-horse forked per job had to
    open new PostgreSQL and HTTP connections every time (a callback dial cost more in connecting than in
    dialling, so a busy hour's callbacks ran seconds late). Here every job reuses the process's pools. What a
    work-horse bought is not needed: job timeouts still work (SIGALRM in this main thread), and a worker killed
    mid-job is covered by the callback reconciler, as a killed work-horse was.

    Redis going away is waited out, however long, without exiting (a restart would not bring it back) and
    without filling the log: one warning, then a quiet retry every second. RQ's scheduler process dies when it
    loses Redis for longer than redis-py's retries, and RQ only restarts it in its maintenance round, which an
    idle worker reached once per dequeue wait (405 s): after a Redis restart no scheduled job ran for minutes. Here
    the wait is DEQUEUE_WAIT_SECONDS and every round looks after the scheduler (see look_after_background_work);
    the DialSweeper thread reconciles at once when Redis came back empty.
    """

    # One BLMOVE a second per idle worker (plus RQ's heartbeat, an HSET and two EXPIREs, and at most two
    # checks of ours): a few commands a second per worker, nothing to a Redis that serves ~100,000.
    dequeue_timeout = DEQUEUE_WAIT_SECONDS
    # RQ raises the process's Redis socket timeout to this (dequeue wait + 10 s, so 415 s by default): a command
    # to a Redis that vanished without closing the socket then hung for minutes. The services' 5 s is kept.
    connection_timeout = DEQUEUE_WAIT_SECONDS + 1
    # After losing Redis, retry every second rather than backing off to a minute: dials are due meanwhile.
    max_connection_wait_time = REDIS_RETRY_SECONDS
    redis_retry_seconds = REDIS_RETRY_SECONDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.looks_after_scheduler = False
        self._next_look = 0.0

    def work(self, burst: bool = False, **options: Any) -> bool:
        """RQ's work loop; a burst run (tests, one-off drains) never starts a scheduler process of its own."""
        self.looks_after_scheduler = not burst
        return bool(super().work(burst, **options))

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run the job; if Redis goes away while RQ records its end, wait for Redis instead of quitting.

        RQ lets that error end the worker, and a restart costs seconds in which due dials wait. What the job did
        is in the database (the truth); only RQ's record of it is lost, with the Redis that lost it.
        """
        try:
            super().execute_job(job, queue)
        except REDIS_AWAY:
            log.warning("worker.redis_lost_mid_job", job_id=job.id)
            if not self.wait_for_redis():
                raise

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        """RQ's heartbeat, waiting for Redis if it is away (RQ would log each second, or end the worker).

        RQ beats before every dequeue wait and after every job, so this is also where the worker looks after
        its background work once Redis answers.
        """
        if pipeline is not None:
            super().heartbeat(timeout, pipeline)
            return
        self.until_redis_answers(partial(super().heartbeat, timeout))
        self.look_after_background_work()

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's check for `rq suspend`, between jobs: Redis away there would end the worker."""
        self.until_redis_answers(partial(super().check_for_suspension, burst))

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """RQ's wait for a job, whose first and last steps (worker state, heartbeat) would end the worker too."""
        return self.until_redis_answers(partial(super().dequeue_job_and_maintain_ttl, timeout, max_idle_time))

    def until_redis_answers(self, step: Callable[[], T]) -> T:
        """Run `step`; each time Redis is away, wait for it and run `step` again (raises only on a stop)."""
        while True:
            try:
                return step()
            except REDIS_AWAY:
                if not self.wait_for_redis():
                    raise

    def wait_for_redis(self) -> bool:
        """Wait until Redis answers (True) or a stop is asked for (False)."""
        return wait_for_redis(self.connection, lambda: self._stop_requested, self.redis_retry_seconds)

    def look_after_background_work(self) -> None:
        """At most once a DEQUEUE_WAIT_SECONDS: be in RQ's worker registry, and have a scheduler running somewhere.

        A Redis restarted empty has forgotten both; this worker's scheduler process has then died (its Redis
        retries ran out) or, if it lived through the restart, is replaced, since it may be stuck. A Redis that
        is away again is left to the next heartbeat.
        """
        now = time.monotonic()
        if now < self._next_look:
            return
        self._next_look = now + DEQUEUE_WAIT_SECONDS
        try:
            forgotten = self.register_again_if_forgotten()
            if self.looks_after_scheduler:
                if forgotten:
                    self.stop_scheduler_that_lost_redis()
                self.keep_scheduler_running()
        except REDIS_AWAY:
            pass

    def register_again_if_forgotten(self) -> bool:
        """Put this worker back in RQ's registry if Redis lost it (`rq info` and dashboards list it again)."""
        # A heartbeat re-creates the worker's hash with its last_heartbeat only; the birth is in the full one.
        if self.birth_date is None or self.connection.hexists(self.key, "birth"):
            return False
        with self.connection.pipeline() as pipeline:
            pipeline.hset(self.key, mapping=self.serialize())
            pipeline.expire(self.key, self.worker_ttl + 60)
            worker_registration.register(self, pipeline)
            pipeline.execute()
        log.info("worker.registered_again", worker=self.name)
        return True

    def stop_scheduler_that_lost_redis(self) -> None:
        """Kill this worker's scheduler process if it is still alive after Redis forgot everything.

        It may be stuck mid-command, or move jobs again once it wakes, beside the scheduler that has taken its
        place: SIGKILL, so it can do neither. keep_scheduler_running then starts a fresh one (or another worker
        has already).
        """
        process = self.scheduler._process if self.scheduler is not None else None
        if process is not None and process.is_alive():
            process.kill()
            process.join(timeout=5)
            log.warning("worker.scheduler_replaced", pid=process.pid)

    def keep_scheduler_running(self) -> bool:
        """Start RQ's scheduler here if this worker runs none and no other worker holds its lock; True if started.

        The lock (RQ's, with a 61 s lease) decides among workers: after an empty restart it is free, and the first
        worker round takes it. A scheduler elsewhere that survived the outage finds its lock taken at its next
        heartbeat and stops moving jobs, so two never both run them (and every job is idempotent anyway).
        """
        scheduler = self.scheduler
        # RQ's own maintenance round makes the same check of its scheduler process.
        if scheduler is None or (scheduler._process is not None and scheduler._process.is_alive()):
            return False
        return bool(scheduler.acquire_locks(auto_start=True))

    def _pubsub_exception_handler(self, exc: Exception, pubsub: PubSub, pubsub_thread: Any) -> None:
        """RQ's command-channel thread logs every 2 s while Redis is away; the worker has said so once already."""
        if isinstance(exc, redis.exceptions.ConnectionError):
            time.sleep(self.redis_retry_seconds)  # redis-py subscribes again once it reconnects
            return
        super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)

    def teardown(self) -> None:
        """RQ's teardown (stop the scheduler, register death); a stop while Redis is away skips the register."""
        try:
            super().teardown()
        except REDIS_AWAY:
            log.warning("worker.stopped_without_redis", worker=self.name)

    def run_maintenance_tasks(self) -> None:
        """RQ's maintenance (its registries, its scheduler), then make sure the reconciler's next run is scheduled."""
        try:
            super().run_maintenance_tasks()
        except REDIS_AWAY:
            return  # not cleaned, so due again: the next round, once Redis answers, runs it
        try:
            keep_reconciling(job_services())
        except Exception:  # Redis may still be coming back: the next round tries again
            log.exception("callback.reconciler_not_scheduled")


def run_worker(settings: Settings, burst: bool = False) -> None:
    global _services
    configure_logging(settings.log_level, settings.log_json, settings.secret_key, settings.default_region)
    _services = build_services(settings)
    # RQ forks its scheduler into a child process: it must not share (or close) this process's connections.
    engine = _services.engine
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    import callbacks.jobs  # noqa: F401  (imported once at start, not during the first dial)

    # Whatever the last worker left (a dial it died in, jobs a flushed Redis lost) is picked up before new work.
    wait_for_redis(_services.redis, lambda: False)
    reconcile(_services)
    sweeper = DialSweeper(_services)
    sweeper.start()
    worker = ContactCentreWorker(
        [_services.queue],
        connection=_services.redis,
        maintenance_interval=max(1, settings.callback_reconcile_seconds),
    )
    try:
        worker.work(with_scheduler=True, burst=burst)
    finally:
        sweeper.stopped.set()


def main() -> None:
    run_worker(load_settings_or_exit())


if __name__ == "__main__":
    main()
