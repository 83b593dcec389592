"""Recording calls and their journeys; idempotent because Twilio retries webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, String, Text, TextClause, bindparam, cast, select, text, update
from sqlalchemy.orm import Session

from models import Call, CallEvent
from telephony.numbers import to_e164


class CallAlreadyEnded(Exception):
    """Twilio's status callback said this call ended: a replayed or late webhook for it must change nothing."""


def record_call_started(
    session: Session,
    call_sid: str,
    from_raw: str | None,
    to_raw: str | None,
    now: datetime,
    region: str,
) -> Call:
    """Create the Call row for a new CallSid, or return the existing one (a retried webhook)."""
    existing = session.scalar(select(Call).where(Call.call_sid == call_sid))
    if existing is not None:
        return existing
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # ON CONFLICT rather than a savepoint: two concurrent retries both succeed and share the winner's row, and
    # it works outside a transaction too (the autocommit menu step).
    connection.execute(
        insert(Call)
        .values(
            call_sid=call_sid,
            caller_number=to_e164(from_raw, region),
            dialled_number=to_e164(to_raw, region),
            started_at=now,
        )
        .on_conflict_do_nothing(index_elements=["call_sid"])
    )
    return session.scalars(select(Call).where(Call.call_sid == call_sid)).one()


def lock_call(session: Session, call_id: int) -> Call:
    """Read the call afresh and hold it until the transaction ends, so two webhooks about one call take turns.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks; a write of nothing to the row takes the
    database's write lock instead (pysqlite runs the earlier SELECTs outside the transaction, so the read after
    it is fresh).
    """
    query = select(Call).where(Call.id == call_id)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(id=Call.id)
            .execution_options(synchronize_session=False)
        )
    else:
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()


def record_event(
    session: Session,
    call: Call,
    now: datetime,
    kind: str,
    node: str | None = None,
    caller_input: str | None = None,
    outcome: str | None = None,
    idempotency_key: str | None = None,
    detail: dict[str, Any] | None = None,
    duration_ms: int | None = None,
) -> None:
    """Append one journey step; with an idempotency key a replayed webhook records nothing the second time."""
    record_events_once(
        session,
        [
            {
                "call_id": call.id,
                "occurred_at": now,
                "kind": kind,
                "node": node,
                "caller_input": caller_input,
                "outcome": outcome,
                "idempotency_key": idempotency_key,
                "detail": detail or {},
                "duration_ms": duration_ms,
            }
        ],
    )


def _insert_events_once() -> TextClause:
    """INSERT .. ON CONFLICT (idempotency_key) DO NOTHING, the same text on PostgreSQL and SQLite.

    Textual on purpose: SQLAlchemy 2.0 never caches its dialect `insert().on_conflict_do_nothing()`
    (`inherit_cache = False`), so that form was compiled afresh on every call. A text statement is
    compiled once; each parameter is bound with its column's type (JSON detail, timestamps).
    """
    columns = [column for column in CallEvent.__table__.c if column.name != "id"]
    names = ", ".join(column.name for column in columns)
    values = ", ".join(f":{column.name}" for column in columns)
    statement = text(
        f"INSERT INTO {CallEvent.__tablename__} ({names}) VALUES ({values}) "
        "ON CONFLICT (idempotency_key) DO NOTHING"
    )
    return statement.bindparams(*(bindparam(column.name, type_=column.type) for column in columns))


_INSERT_EVENTS_ONCE = _insert_events_once()


def record_events_once(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert journey events in one statement; rows whose idempotency key exists are skipped.

    No read-before-write, no savepoint, one round trip. Every row carries every column of `call_event`
    except `id`.
    """
    if not rows:
        return
    # Core on the session's connection: no ORM bulk machinery and no autoflush of pending ORM changes.
    # Parameters passed separately (executemany), so the driver sends all rows in one go.
    session.connection().execute(_INSERT_EVENTS_ONCE, rows)


def claim_event(session: Session, row: dict[str, Any]) -> bool:
    """Insert one journey event unless its idempotency key exists; True when this call inserted it.

    The key is the claim: of two webhooks doing the same thing (a retry, a race) only the one that inserted it
    acts, and the other reads what it recorded. `row` has every column of `call_event` except `id`.
    """
    return bool(session.connection().execute(_INSERT_EVENTS_ONCE, row).rowcount == 1)


def settle_event(session: Session, idempotency_key: str, outcome: str, detail: dict[str, Any]) -> None:
    """Record how a claimed piece of work ended (its event's outcome and detail)."""
    session.execute(
        update(CallEvent)
        .where(CallEvent.idempotency_key == idempotency_key)
        .values(outcome=outcome, detail=detail)
    )


def event_outcome(session: Session, idempotency_key: str) -> str | None:
    return session.scalar(select(CallEvent.outcome).where(CallEvent.idempotency_key == idempotency_key))


# One statement on PostgreSQL: the call moves on only if it has not ended and nobody else moved it since we read
# it (same state text, same idempotency token), and the journey events are inserted only for a call that moved.
# Data-modifying CTEs run to completion whether or not the outer SELECT reads them. The row lock the UPDATE takes makes a
# concurrent duplicate wait for the first to commit; it then re-checks the guard, fails it, and writes nothing.
_SAVE_STEP_POSTGRESQL = text(
    """
    WITH moved AS (
        UPDATE call
        SET ivr_state = :ivr_state, ivr_last_reply = :ivr_last_reply, ivr_last_token = :ivr_last_token,
            language = :language, flow_version_id = :flow_version_id,
            topic = COALESCE(:topic, topic), reference = COALESCE(:reference, reference)
        WHERE id = :call_id AND ended_at IS NULL
          AND CAST(ivr_state AS TEXT) IS NOT DISTINCT FROM :seen_state
          AND ivr_last_token IS NOT DISTINCT FROM :seen_token
        RETURNING id
    ), recorded AS (
        INSERT INTO call_event
            (call_id, occurred_at, duration_ms, kind, node, caller_input, outcome, idempotency_key, detail)
        SELECT moved.id, :occurred_at, :duration_ms,
               event.kind, event.node, event.caller_input, event.outcome, event.idempotency_key, event.detail
        FROM moved CROSS JOIN json_to_recordset(CAST(:journey AS JSON)) AS event(
            kind TEXT, node TEXT, caller_input TEXT, outcome TEXT, idempotency_key TEXT, detail JSON
        )
        ON CONFLICT (idempotency_key) DO NOTHING
    )
    SELECT count(*) FROM moved
    """
).bindparams(
    bindparam("ivr_state", type_=JSON),
    bindparam("journey", type_=JSON),
    bindparam("occurred_at", type_=CallEvent.__table__.c.occurred_at.type),
    bindparam("seen_state", type_=Text),
    bindparam("seen_token", type_=String),
    bindparam("topic", type_=String),
    bindparam("reference", type_=String),
)


def save_step_once(
    session: Session,
    call_id: int,
    seen: tuple[str | None, str | None],
    changes: dict[str, Any],
    now: datetime,
    duration_ms: int,
    journey: list[dict[str, Any]],
) -> bool:
    """Move a call to its next menu state and record the step's journey, unless the call moved on since it
    was read. `seen` is (the state's stored JSON text, the idempotency token) as read; `changes` must set
    ivr_state, ivr_last_reply, ivr_last_token, language and flow_version_id, and may set topic and reference;
    each journey row has kind, node, caller_input, outcome, idempotency_key and detail.

    Returns False, having written nothing, when the guard failed (a concurrent or replayed step won, or the call
    ended while this step was being worked out: a late step must not move an ended call).
    """
    seen_state, seen_token = seen
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        parameters = {"topic": None, "reference": None, **changes}
        topic = parameters["topic"]
        parameters["topic"] = topic.value if topic is not None else None
        moved = connection.execute(
            _SAVE_STEP_POSTGRESQL,
            {
                **parameters,
                "call_id": call_id,
                "seen_state": seen_state,
                "seen_token": seen_token,
                "occurred_at": now,
                "duration_ms": duration_ms,
                "journey": journey,
            },
        ).scalar_one()
        return bool(moved)
    # Elsewhere (SQLite, which serialises writers anyway): the same guard, then the events, in two statements.
    call = Call.__table__
    guarded = update(call).where(
        call.c.id == call_id,
        call.c.ended_at.is_(None),
        cast(call.c.ivr_state, Text).is_not_distinct_from(seen_state),
        call.c.ivr_last_token.is_not_distinct_from(seen_token),
    )
    if connection.execute(guarded.values(**changes)).rowcount != 1:
        return False
    record_events_once(
        session,
        [{"call_id": call_id, "occurred_at": now, "duration_ms": duration_ms, **row} for row in journey],
    )
    return True


def redact_expired_personal_data(session: Session, now: datetime, retention_days: int) -> int:
    """Blank caller numbers, references and keyed input on calls older than the retention period.

    The journey's shape (nodes, outcomes, timings) is kept for reporting; what identifies a resident is not.
    Returns how many calls were redacted.
    """
    cutoff = now - timedelta(days=retention_days)
    expired = select(Call.id).where(Call.started_at < cutoff, Call.personal_data_redacted_at.is_(None))
    call_ids = list(session.scalars(expired))
    if not call_ids:
        return 0
    session.execute(
        update(Call)
        .where(Call.id.in_(call_ids))
        .values(caller_number=None, reference=None, personal_data_redacted_at=now)
    )
    session.execute(update(CallEvent).where(CallEvent.call_id.in_(call_ids)).values(caller_input=None))
    return len(call_ids)
