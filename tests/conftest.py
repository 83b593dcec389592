"""Shared fixtures: real database and Redis, the app, a signed-webhook poster and a controllable clock.

With no DATABASE_URL / REDIS_URL the suite runs on the embedded default (SQLite file + a local Redis server);
`.ci/run` points both at the real PostgreSQL and Redis, and there an unreachable service fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from app import create_app
from config import DEMO_ACCOUNT_SID, Settings
from ivr.versions import forget_loaded_flows
from models import Base
from models.db import make_engine
from models.migrate import upgrade
from runtime.clock import ControllableClock
from runtime.embedded_redis import start_embedded_redis
from runtime.metrics import WEBHOOK_ERRORS
from runtime.web import EXTENSION_KEY
from simulator.live import LiveService, serve_live

TEST_AUTH_TOKEN = "test-auth-token"
# A Wednesday morning in term time: libraries are open.
TEST_START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def reset_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    reset_schema(engine)  # raises (fails the run) if the configured database is unreachable
    engine.dispose()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("REDIS_URL")
    if configured:
        redis.Redis.from_url(configured, socket_connect_timeout=2).ping()  # unreachable → failure, never skip
        yield configured
        return
    url, process = start_embedded_redis(tmp_path_factory.mktemp("redis"), persist=False)
    yield url
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def webhook_failures() -> float:
    """How many Twilio webhooks in this process failed and were answered with the safe apology so far."""
    return sum(
        sample.value
        for metric in WEBHOOK_ERRORS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("kind") == "exception"
    )


@pytest.fixture(autouse=True)
def no_webhook_fails_unnoticed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail any test during which a webhook raised and the caller heard the apology, unless it expects that.

    The apology is a valid answer with a Gather, so a test asserting "asked again" could not tell it from a
    reprompt: that is how speech over 57 characters failing on PostgreSQL went unseen.
    """
    before = webhook_failures()
    yield
    if request.node.get_closest_marker("webhook_errors_expected") is None:
        failed = webhook_failures() - before
        assert failed == 0, f"{failed:g} webhook(s) failed and answered the safe apology (see the log)"


@pytest.fixture
def clock() -> ControllableClock:
    return ControllableClock(TEST_START)


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path: Path) -> Settings:
    return Settings(
        callback_spool_dir=str(tmp_path / "callback-spool"),
        database_url=database_url,
        redis_url=redis_url,
        twilio_account_sid=DEMO_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_api_base_url="http://127.0.0.1:9/unused-fake-twilio",
        secret_key="test-secret-key",
        simulator_enabled=True,
        testing=True,
        log_level="WARNING",
    )


def _empty_tables(engine: Engine) -> None:
    forget_loaded_flows()  # ids restart once the tables are empty
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def app(settings: Settings, clock: ControllableClock) -> Iterator[Flask]:
    application = create_app(settings, clock=clock)
    services = application.extensions[EXTENSION_KEY]
    _empty_tables(services.engine)
    services.redis.flushdb()
    yield application
    services.redis.flushdb()
    services.redis.close()
    services.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    session = app.extensions[EXTENSION_KEY].session_factory()
    yield session
    session.close()


@pytest.fixture
def redis_client(app: Flask) -> redis.Redis:
    return app.extensions[EXTENSION_KEY].redis  # type: ignore[no-any-return]


TwilioPost = Callable[..., TestResponse]


def twilio_signature(url: str, form: dict[str, str], token: str = TEST_AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


@pytest.fixture
def twilio_post(client: FlaskClient) -> TwilioPost:
    """POST a form to a Twilio webhook, signed the way Twilio signs it (unless `signed=False`)."""

    def post(
        path: str,
        form: dict[str, str] | None = None,
        signed: bool = True,
        base_url: str = "http://localhost",
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        form = dict(form or {})
        all_headers = dict(headers or {})
        if signed:
            all_headers["X-Twilio-Signature"] = twilio_signature(base_url + path, form)
        return client.post(path, data=form, headers=all_headers, base_url=base_url)

    return post


def call_form(call_sid: str = "CA" + "1" * 32, **fields: str) -> dict[str, str]:
    """The fields Twilio sends on an inbound voice webhook."""
    form = {
        "CallSid": call_sid,
        "AccountSid": DEMO_ACCOUNT_SID,
        "From": "+447700900123",
        "To": "+441484221000",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    form.update(fields)
    return form


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def live_service(settings: Settings, clock: ControllableClock) -> Iterator[LiveService]:
    """The app on a free local port, with the simulated Twilio calling it over real HTTP (see simulator/live.py)."""

    def fresh_state(application: Flask) -> None:
        services = application.extensions[EXTENSION_KEY]
        _empty_tables(services.engine)
        services.redis.flushdb()

    with serve_live(settings, clock, before_serving=fresh_state) as service:
        yield service
        service.services.redis.flushdb()


def callback_with_attempts(session_factory, callback_id):  # type: ignore[no-untyped-def]
    """A callback and its dial attempts, oldest first, read fresh from the database."""
    from models import Callback, CallbackAttempt

    with session_factory() as session:
        callback = session.get_one(Callback, callback_id)
        attempts = session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.callback_id == callback_id)
            .order_by(CallbackAttempt.number)
        ).all()
        return callback, attempts
