"""Engine and session factory; one place that knows how to talk to the database."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

# The embedded default's file lock: long enough for the worker and the web app to take turns on one file (their
# transactions are short), short enough that a webhook waiting for it still answers well within Twilio's 15 s.
SQLITE_BUSY_TIMEOUT_SECONDS = 5


def make_engine(
    database_url: str, connect_timeout_seconds: int = 3, statement_timeout_ms: int = 5000
) -> Engine:
    """Create the engine, bounded so that a database that does not answer fails fast.

    PostgreSQL: connecting gives up after `connect_timeout_seconds` (libpq's connect_timeout, per address the
    host name resolves to), so does waiting for a free pooled connection (pool_timeout) and a connection whose
    host stopped acknowledging (tcp_user_timeout, keepalives), and the server cancels
    any statement running longer than `statement_timeout_ms` (0: no limit; behind PgBouncer in transaction
    mode, which refuses startup options, set 0 here and `ALTER ROLE … SET statement_timeout` instead).
    SQLite: foreign keys on, WAL, and a bounded busy timeout so the worker and web can share the file.
    """
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    connect_args: dict[str, object] = {
        "connect_timeout": connect_timeout_seconds,
        # A database host that vanishes (power, network) never answers a connection already open: give up once
        # what was sent stays unacknowledged that long, and probe idle pooled connections so they are found dead.
        "tcp_user_timeout": connect_timeout_seconds * 1000,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={statement_timeout_ms}"
    # pool_recycle rather than pre-ping: pre-ping costs a round trip on every request of the menu's hot path;
    # a connection broken by a database restart is discarded on first use (that caller gets the safe TwiML).
    return create_engine(
        database_url,
        pool_recycle=300,
        pool_size=10,
        max_overflow=10,
        pool_timeout=connect_timeout_seconds,
        connect_args=connect_args,
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
