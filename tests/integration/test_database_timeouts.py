"""A database that does not answer fails fast, so a caller hears the apology well inside Twilio's 15 s.

These are integration tests of timeout settings: they assert loosely (failed, and within about twice the
configured bound), never micro-timings.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import create_app
from models import db as models_db
from models.db import make_engine
from tests.conftest import call_form, twilio_signature


@pytest.fixture
def unanswering_database() -> Iterator[str]:
    """A TCP port on 127.0.0.1 that takes connections (the kernel completes the handshake) and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)  # never accepted, never answered
    port = listener.getsockname()[1]
    yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/contact_centre"
    listener.close()


def test_connecting_to_a_database_that_never_answers_gives_up_after_the_connect_timeout(unanswering_database):
    engine = make_engine(unanswering_database, connect_timeout_seconds=2)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        engine.connect()
    elapsed = time.monotonic() - started
    assert elapsed < 2 * 2, elapsed
    assert engine.pool.timeout() == 2  # nor does a request wait longer for a free pooled connection
    engine.dispose()


def test_a_statement_longer_than_the_statement_timeout_is_cancelled_by_postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("a server-side statement timeout is PostgreSQL's; SQLite's bound is its busy timeout")
    engine = make_engine(database_url, statement_timeout_ms=300)
    started = time.monotonic()
    with engine.connect() as connection, pytest.raises(OperationalError, match="statement timeout"):
        connection.execute(text("SELECT pg_sleep(5)"))
    assert time.monotonic() - started < 2.5
    with engine.connect() as connection:  # a quick statement on a fresh connection is unaffected
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()


def test_an_open_connection_to_a_host_that_stops_acknowledging_is_dropped_not_waited_on(database_url):
    """Losing the host (power, network) cannot be staged here; what bounds it is libpq's tcp_user_timeout."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL setting")
    engine = make_engine(database_url, connect_timeout_seconds=4)
    with engine.connect() as connection:
        parameters = connection.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    assert parameters["tcp_user_timeout"] == "4000" and parameters["keepalives"] == "1"
    engine.dispose()


def test_no_statement_timeout_when_it_is_turned_off(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL setting")
    engine = make_engine(database_url, statement_timeout_ms=0)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    engine.dispose()
    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "5s"
    engine.dispose()


def test_sqlite_waits_for_the_files_lock_only_as_long_as_its_busy_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(models_db, "SQLITE_BUSY_TIMEOUT_SECONDS", 1)
    path = tmp_path / "shared.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")  # as make_engine leaves the embedded default's file
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")  # the worker, say, mid-transaction
    engine = make_engine(f"sqlite:///{path}")
    started = time.monotonic()
    with engine.connect() as connection, pytest.raises(OperationalError, match="locked"):
        connection.execute(text("INSERT INTO t VALUES (1)"))
    assert 0.5 < time.monotonic() - started < 2 * 1  # it did wait for the lock, and not for long
    holder.execute("ROLLBACK")
    with engine.begin() as connection:  # once the lock is free, the web app writes as usual
        connection.execute(text("INSERT INTO t VALUES (1)"))
    holder.close()
    engine.dispose()


@pytest.mark.webhook_errors_expected
def test_a_caller_hears_the_apology_well_within_twilios_15_seconds_when_the_database_does_not_answer(
    settings, clock, unanswering_database
):
    broken = settings.with_overrides(database_url=unanswering_database, database_connect_timeout_seconds=2)
    app = create_app(broken, clock=clock)
    form = call_form()
    started = time.monotonic()
    response = app.test_client().post(
        "/voice/incoming",
        data=form,
        headers={"X-Twilio-Signature": twilio_signature("http://localhost/voice/incoming", form)},
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and response.content_type.startswith("text/xml")
    assert "Sorry, something went wrong on our side." in response.get_data(as_text=True)
    assert elapsed < 10, elapsed  # Twilio gives up at 15 s
    app.extensions["contact_centre"].engine.dispose()
