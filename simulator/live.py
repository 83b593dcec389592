"""Serve the app on 127.0.0.1 with the simulated Twilio calling it over real HTTP, as Twilio would.

Shared by the `live_service` test fixture, the `flask sim run` scenario command and anything else that
wants whole calls without a network. The server is threaded because the world posts webhooks to the app
while the app, answering one of them, calls the fake REST API on the same server.
"""

from __future__ import annotations

import logging
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from rq import SimpleWorker
from sqlalchemy import select
from werkzeug.serving import make_server

from config import Settings
from models import Adviser, AdviserState, Call, Callback, CallEvent
from runtime.clock import Clock
from runtime.services import EXTENSION_KEY, Services
from simulator.fake_rest import EXTENSION_KEY as WORLD_KEY
from simulator.world import SimulatedTwilio


class _Dispatcher:
    """A WSGI slot the server can bind before the app (which needs the server's URL) exists."""

    app: Flask | None = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class LiveService:
    """The app served on 127.0.0.1 with the simulator playing Twilio against it over real HTTP."""

    base_url: str
    app: Flask
    world: SimulatedTwilio
    clock: Any  # the shared Clock; a ControllableClock in tests and scenarios

    @property
    def services(self) -> Services:
        services: Services = self.app.extensions[EXTENSION_KEY]
        return services


@contextmanager
def serve_live(
    settings: Settings,
    clock: Clock,
    before_serving: Callable[[Flask], None] | None = None,
    app_factory: Callable[..., Flask] | None = None,
) -> Iterator[LiveService]:
    """Build the app for a free local port and serve it in a thread until the block ends.

    `before_serving(app)` runs once the app exists and before the first request (e.g. to empty tables).
    """
    if app_factory is None:
        from app import create_app

        app_factory = create_app
    from ivr.versions import forget_loaded_flows

    forget_loaded_flows()  # each served app may bring a fresh database whose version ids start again
    dispatcher = _Dispatcher()
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    live_settings = settings.with_overrides(
        public_base_url=base_url, twilio_api_base_url=f"{base_url}/fake-twilio", simulator_enabled=True
    )
    application = app_factory(live_settings, clock=clock)
    dispatcher.app = application
    services: Services = application.extensions[EXTENSION_KEY]
    if before_serving is not None:
        before_serving(application)
    # A short poll interval makes shutdown quick: scenario runs start and stop one server per call.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="simulator-live-server", daemon=True
    )
    thread.start()
    try:
        yield LiveService(base_url, application, application.extensions[WORLD_KEY], clock)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        services.redis.close()
        services.engine.dispose()


class CouncilLine:
    """The council's phone line as a scenario sees it: the live app, its database, and its job queue.

    Implements `simulator.scenarios.ScenarioLine`.
    """

    def __init__(self, live: LiveService) -> None:
        self.live = live
        self.world = live.world
        self.clock = live.clock

    @property
    def council_number(self) -> str:
        return self.live.services.settings.twilio_phone_number

    @property
    def incoming_url(self) -> str:
        return f"{self.live.base_url}/voice/incoming"

    def install_demo_council(self) -> None:
        """Demo libraries, advisers and the shipped menu, as `flask seed-demo` leaves them (idempotent)."""
        from argon2 import PasswordHasher

        from ivr.versions import install_default_flow
        from models.demo import seed_demo

        now = self.clock.now()
        # Nobody logs in to a scenario's throwaway council: a cheap hash saves a second per scenario.
        cheap_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        with self.live.services.session_factory.begin() as session:
            seed_demo(session, now, password_hasher=cheap_hasher)
            install_default_flow(session, now)

    def make_available(self, identities: list[str]) -> list[str]:
        """Mark these advisers available; returns the identities the database does not know."""
        from routing.advisers import change_state

        unknown = []
        services = self.live.services
        with services.session_factory.begin() as session:
            for identity in identities:
                adviser = session.scalar(select(Adviser).where(Adviser.client_identity == identity))
                if adviser is None:
                    unknown.append(identity)
                    continue
                change_state(services, session, adviser.id, AdviserState.AVAILABLE.value, "logged in")
                self.world.client(identity)  # their browser phone is open, ready to be offered calls
        return unknown

    def settle(self) -> None:
        """Let Twilio act on what the app asked of it, and run the jobs a worker would run now."""
        self.world.run_pending()
        run_queued_jobs(self.live.services)
        self.world.run_pending()

    def journey_nodes(self, call_sid: str) -> list[str]:
        return [event["node"] for event in journey_of(self.live.services, call_sid) if event["node"]]

    def callbacks_booked_on(self, call_sid: str) -> int:
        """Callbacks this call booked, whichever number they ring (a withheld caller keys one)."""
        with self.live.services.session_factory() as session:
            return len(
                session.scalars(
                    select(Callback.id)
                    .join(Call, Call.id == Callback.call_id)
                    .where(Call.call_sid == call_sid)
                ).all()
            )


def journey_of(services: Services, call_sid: str) -> list[dict[str, Any]]:
    """The CallEvents the app recorded for a call, oldest first, as plain dicts."""
    with services.session_factory() as session:
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None:
            return []
        events = session.scalars(
            select(CallEvent)
            .where(CallEvent.call_id == call.id)
            .order_by(CallEvent.occurred_at, CallEvent.id)
        ).all()
        return [
            {
                "at": event.occurred_at.isoformat(),
                "kind": event.kind,
                "node": event.node,
                "input": event.caller_input,
                "outcome": event.outcome,
            }
            for event in events
        ]


def call_summary(services: Services, call_sid: str) -> Mapping[str, Any] | None:
    """What the app knows about a call: topic, language, reference, outcome."""
    with services.session_factory() as session:
        call = session.scalar(select(Call).where(Call.call_sid == call_sid))
        if call is None:
            return None
        return {
            "topic": call.topic.value if call.topic else None,
            "language": call.language,
            "reference": call.reference,
            "outcome": call.outcome.value,
        }


def run_queued_jobs(services: Services) -> int:
    """Run the RQ jobs waiting on the app's queue in this process, as the worker would; returns how many.

    Jobs reach their clients through `runtime.worker.job_services()`, so that points at the app's own
    services for the duration (the environment might name another database, or the real Twilio).
    """
    if services.queue.count == 0:
        return 0
    import runtime.worker

    count = services.queue.count
    previous = runtime.worker._services
    runtime.worker._services = services
    try:
        with _signals_held_back():
            _InProcessWorker([services.queue], connection=services.redis).work(
                burst=True, logging_level="WARNING"
            )
    finally:
        runtime.worker._services = previous
    return count


class _InProcessWorker(SimpleWorker):
    """RQ's worker run for a moment inside another program, which keeps its own Ctrl-C handling.

    RQ installs its SIGINT/SIGTERM handlers for the whole process and never restores them, so a Ctrl-C of
    `flask sim run` long after a burst raised RQ's StopRequested wherever the program happened to be.
    """

    def _install_signal_handlers(self) -> None:
        pass


@contextmanager
def _signals_held_back() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while jobs run, then deliver them: RQ counts a KeyboardInterrupt as a job failure."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    arrived: list[int] = []
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda received, _frame: arrived.append(received))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    for number in arrived[:1]:
        signal.raise_signal(number)


@contextmanager
def scenario_council(settings: Settings | None = None) -> Iterator[Callable[[], Any]]:
    """A throwaway council for scenario runs: its own SQLite database per call and its own Redis.

    Yields `open_line()`, a context manager giving a fresh `CouncilLine` (empty database, fresh world,
    a ControllableClock) each time, so one scenario never sees another's callers. Never touches the
    configured database, Redis or Twilio account.
    """
    # One line per scenario is the output; a log line per webhook or migration would bury it.
    chatty = {name: logging.getLogger(name) for name in ("werkzeug", "alembic")}
    previous_levels = {name: logger.level for name, logger in chatty.items()}
    for logger in chatty.values():
        logger.setLevel(logging.WARNING)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="kirklees-scenarios-") as folder,
            _scenario_workspace(Path(folder), settings or Settings(log_level="WARNING")) as open_line,
        ):
            yield open_line
    finally:
        for name, logger in chatty.items():
            logger.setLevel(previous_levels[name])


@contextmanager
def _scenario_workspace(workspace: Path, base: Settings) -> Iterator[Callable[[], Any]]:
    from models.migrate import upgrade  # imported late: alembic logs its plugins as it is imported
    from runtime.clock import ControllableClock
    from runtime.embedded_redis import start_embedded_redis

    redis_url, redis_process = start_embedded_redis(workspace / "redis", persist=False)
    try:
        template = workspace / "migrated.db"
        upgrade(f"sqlite:///{template}")
        counter = iter(range(1, 1_000_000))

        @contextmanager
        def open_line() -> Iterator[CouncilLine]:
            database = workspace / f"scenario-{next(counter)}.db"
            shutil.copyfile(template, database)
            line_settings = base.with_overrides(database_url=f"sqlite:///{database}", redis_url=redis_url)

            def empty_redis(app: Flask) -> None:
                app.extensions[EXTENSION_KEY].redis.flushdb()

            with serve_live(line_settings, ControllableClock(), before_serving=empty_redis) as live:
                yield CouncilLine(live)

        yield open_line
    finally:
        if redis_process is not None:
            redis_process.terminate()
            redis_process.wait(timeout=10)
