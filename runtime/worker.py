"""The RQ worker (with scheduler) entry point: `python -m runtime.worker` or `flask --app app worker`."""

from __future__ import annotations

from rq import Worker

from config import Settings, load_settings
from runtime.logging import configure_logging
from runtime.services import Services, build_services

_services: Services | None = None


def job_services() -> Services:
    """The worker process's services; jobs call this instead of receiving clients as arguments."""
    global _services
    if _services is None:
        _services = build_services(load_settings())
    return _services


def run_worker(settings: Settings, burst: bool = False) -> None:
    global _services
    configure_logging(settings.log_level, settings.log_json, settings.secret_key)
    _services = build_services(settings)
    worker = Worker([_services.queue], connection=_services.redis)
    worker.work(with_scheduler=True, burst=burst)


def main() -> None:
    run_worker(load_settings())


if __name__ == "__main__":
    main()
