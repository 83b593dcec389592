"""The RQ worker (with scheduler) entry point: `python -m runtime.worker` or `flask --app app worker`."""

from __future__ import annotations

import os

from rq import SimpleWorker

from config import Settings, load_settings
from runtime.logging import configure_logging, get_logger
from runtime.services import Services, build_services

log = get_logger(__name__)
_services: Services | None = None


def job_services() -> Services:
    """The worker process's services; jobs call this instead of receiving clients as arguments."""
    global _services
    if _services is None:
        _services = build_services(load_settings())
    return _services


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

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        from callbacks.lifecycle import keep_reconciling

        try:
            keep_reconciling(job_services())
        except Exception:  # Redis may still be coming back: the next round tries again
            log.exception("callback.reconciler_not_scheduled")


def run_worker(settings: Settings, burst: bool = False) -> None:
    global _services
    configure_logging(settings.log_level, settings.log_json, settings.secret_key)
    _services = build_services(settings)
    # RQ forks its scheduler into a child process: it must not share (or close) this process's connections.
    engine = _services.engine
    os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    import callbacks.jobs  # noqa: F401  (imported once at start, not during the first dial)
    from callbacks.lifecycle import reconcile

    # Whatever the last worker left (a dial it died in, jobs a flushed Redis lost) is picked up before new work.
    reconcile(_services)
    worker = ContactCentreWorker(
        [_services.queue],
        connection=_services.redis,
        maintenance_interval=max(1, settings.callback_reconcile_seconds),
    )
    worker.work(with_scheduler=True, burst=burst)


def main() -> None:
    run_worker(load_settings())


if __name__ == "__main__":
    main()
