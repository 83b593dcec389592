"""The RQ worker (with scheduler) entry point: `python -m runtime.worker` or `flask --app app worker`."""

from __future__ import annotations

import os
import threading
import time

import redis
from redis.client import Pipeline
from rq import Queue, SimpleWorker
from rq.job import Job

from callbacks.lifecycle import DIAL_SWEEP_SECONDS, keep_reconciling, reconcile, sweep_due_dials
from config import Settings, load_settings, load_settings_or_exit
from runtime.logging import configure_logging, get_logger
from runtime.services import Services, build_services

log = get_logger(__name__)
_services: Services | None = None
REDIS_AWAY = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


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
    one; a short Redis lock lets one of them sweep per interval. Redis or the database being away is logged
    once and retried on the next tick.
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
                self.sweep_once(lock_ms=int(DIAL_SWEEP_SECONDS * 800))
                failing = False
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
    """RQ's non-forking worker whose maintenance round also keeps the callback reconciler scheduled.

    Non-forking: our jobs are short, idempotent database-and-HTTP steps, and a work-horse forked per job had to
    open new PostgreSQL and HTTP connections every time (a callback dial cost more in connecting than in
    dialling, so a busy hour's callbacks ran seconds late). Here every job reuses the process's pools. What a
    work-horse bought is not needed: job timeouts still work (SIGALRM in this main thread), and a worker killed
    mid-job is covered by the callback reconciler, as a killed work-horse was.

    A chain of scheduled reconciler runs dies with a flushed or restarted Redis; the worker outlives that, so
    it re-arms the chain (and RQ's own maintenance restarts a scheduler the restart killed).
    """

    # After losing Redis, retry every second rather than backing off to a minute: dials are due meanwhile.
    max_connection_wait_time = 1.0
    # How long a worker that lost Redis while finishing a job waits for it before giving up (and exiting).
    redis_return_wait_seconds = 30.0

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
        """RQ's heartbeat, which also ends the worker if Redis is away at that moment: wait for Redis instead."""
        try:
            super().heartbeat(timeout, pipeline)
        except REDIS_AWAY:
            if pipeline is not None or not self.wait_for_redis():
                raise
            super().heartbeat(timeout, pipeline)

    def wait_for_redis(self, poll_seconds: float = 0.1) -> bool:
        """Poll Redis until it answers (True) or redis_return_wait_seconds pass or a stop is asked for (False)."""
        deadline = time.monotonic() + self.redis_return_wait_seconds
        while not self._stop_requested and time.monotonic() < deadline:
            try:
                self.connection.ping()
                return True
            except REDIS_AWAY:
                time.sleep(poll_seconds)
        return False

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
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
