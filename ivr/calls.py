"""Recording calls and their journeys; idempotent because Twilio retries webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Call, CallEvent
from telephony.numbers import to_e164


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
    call = Call(
        call_sid=call_sid,
        caller_number=to_e164(from_raw, region),
        dialled_number=to_e164(to_raw, region),
        started_at=now,
    )
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        # Two concurrent retries raced; the other one won, use its row.
        return session.scalars(select(Call).where(Call.call_sid == call_sid)).one()
    return call


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


def record_events_once(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert a step's journey events in one statement; rows whose idempotency key exists are skipped.

    The hot path of every menu step: no read-before-write, no savepoint, one round trip.
    """
    if not rows:
        return
    # Core on the session's connection: no ORM bulk machinery and no autoflush of the call row, whose
    # changes go out once, at commit.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = CallEvent.__table__
    # Parameters passed separately (executemany), so the compiled statement is cached, not rebuilt per step.
    statement = insert(table).on_conflict_do_nothing(index_elements=[table.c.idempotency_key])
    connection.execute(statement, rows)


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
