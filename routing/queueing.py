"""A caller's place in the queue, in the database: joining, being offered, connecting, leaving.

These functions run inside the caller's transaction and never talk to Redis or Twilio; routing/live.py
mirrors the result into the shared store and routing/matching.py talks to Twilio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from ivr.hours import HoursError, closure_at, closure_of, is_open, parse_library_hours
from models import (
    ACTIVE_QUEUE_ENTRY_STATUSES,
    Adviser,
    AdviserState,
    AdviserStateChange,
    Call,
    Callback,
    Library,
    QueueEntry,
    QueueEntryStatus,
    Topic,
)

MAX_PRIORITY = 10
MAX_BACKDATE = timedelta(hours=4)  # Twilio ends any call after four hours


@dataclass(frozen=True)
class QueuedCaller:
    entry: QueueEntry
    call_sid: str | None
    home_library: str
    created: (
        bool  # False when the caller was already queued (a repeated waitUrl, a return after a missed offer)
    )
    # The sentence callers hear when the library they would have gone to is closed now ("Batley Library is
    # closed from 2 pm today because of flooding."); set on joining only, so it is said once.
    closure_message: str | None = None


def home_library_for(session: Session, caller_number: str | None, default_library: str) -> str:
    """The hub whose advisers are tried first: the one that last helped this resident (continuity), else default."""
    if caller_number:
        last = session.scalar(
            select(Library.name)
            .join(Adviser, Adviser.home_library_id == Library.id)
            .join(QueueEntry, QueueEntry.adviser_id == Adviser.id)
            .join(Call, QueueEntry.call_id == Call.id)
            .where(Call.caller_number == caller_number, QueueEntry.status == QueueEntryStatus.CONNECTED)
            .order_by(QueueEntry.connected_at.desc())
            .limit(1)
        )
        if last:
            return last
    return default_library


def open_home_library(session: Session, home: str, now: datetime) -> tuple[str, str | None]:
    """The hub to try first and, when `home` is closed now by a closure, that closure's sentence for callers.

    A closed home (an emergency: flooding) has no advisers to wait for, so its first open neighbour takes its
    place; with none open, the home stays and widening finds advisers elsewhere as it always does.
    """
    library = _library_with_closures(session, home)
    if library is None:
        return home, None
    try:
        hours = parse_library_hours(
            library.name, library.opening_hours, [closure_of(c) for c in library.closures]
        )
    except HoursError:
        return home, None
    closure = closure_at(now, hours.closures)
    if closure is None:
        return home, None
    message = closure.caller_message or None
    for name in library.neighbours:
        neighbour = _library_with_closures(session, str(name))
        if neighbour is None:
            continue
        try:
            theirs = parse_library_hours(
                neighbour.name, neighbour.opening_hours, [closure_of(c) for c in neighbour.closures]
            )
        except HoursError:
            continue
        if is_open(now, theirs.opening_hours, theirs.closures).is_open:
            return neighbour.name, message
    return home, message


def _library_with_closures(session: Session, name: str) -> Library | None:
    return session.scalar(select(Library).where(Library.name == name).options(selectinload(Library.closures)))


def join_queue(
    session: Session,
    call: Call,
    topic: Topic,
    language: str,
    priority: int,
    reasons: Sequence[str],
    now: datetime,
    default_library: str,
    waited: timedelta = timedelta(0),
) -> QueuedCaller:
    """Queue the caller, or return their existing place (Twilio re-requests the waitUrl every hold round).

    `waited`: how long Twilio has held them already (its QueueTime). Normally nothing at the first round; after
    rounds that failed (the database was away) their place dates from when they really started waiting.
    """
    existing = active_entry_for_call(session, call.id)
    if existing is not None:
        return QueuedCaller(existing, call.call_sid, library_name(session, existing), created=False)
    home, closure_message = open_home_library(
        session, home_library_for(session, call.caller_number, default_library), now
    )
    library_id = session.scalar(select(Library.id).where(Library.name == home))
    entry = QueueEntry(
        call_id=call.id,
        topic=topic,
        language=language,
        home_library_id=library_id,
        priority=max(0, min(MAX_PRIORITY, priority)),
        priority_reasons=list(reasons),
        joined_at=now - min(max(waited, timedelta(0)), MAX_BACKDATE),
        status=QueueEntryStatus.WAITING,
        skipped_adviser_ids=[],
    )
    try:
        with session.begin_nested():
            session.add(entry)
    except IntegrityError:
        # A concurrent retry of the same waitUrl queued them a moment ago: use that place.
        existing = active_entry_for_call(session, call.id)
        assert existing is not None
        return QueuedCaller(existing, call.call_sid, library_name(session, existing), created=False)
    return QueuedCaller(
        entry,
        call.call_sid,
        home if library_id else default_library,
        created=True,
        closure_message=closure_message,
    )


def active_entry_for_call(session: Session, call_id: int, lock: bool = False) -> QueueEntry | None:
    """The call's live place in the queue; `lock` holds its row until commit (PostgreSQL: a racing duplicate
    webhook waits, then finds it closed)."""
    query = select(QueueEntry).where(
        QueueEntry.call_id == call_id, QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES)
    )
    return session.scalar(query.with_for_update() if lock else query)


def entry_by_key(session: Session, key: str) -> tuple[QueueEntry, Call | None] | None:
    """The active entry behind a store id (a CallSid, or "callback-<id>" for a virtual entry)."""
    if key.startswith("callback-"):
        entry = session.scalar(
            select(QueueEntry).where(
                QueueEntry.callback_id == int(key.removeprefix("callback-")),
                QueueEntry.call_id.is_(None),
                QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES),
            )
        )
        return (entry, None) if entry is not None else None
    call = session.scalar(select(Call).where(Call.call_sid == key))
    if call is None:
        return None
    entry = active_entry_for_call(session, call.id)
    return (entry, call) if entry is not None else None


def keep_place_for_callback(
    session: Session, entry: QueueEntry, callback: Callback, now: datetime
) -> QueueEntry:
    """The caller hangs up but keeps their place: a virtual entry with the same join time replaces theirs."""
    end_entry(entry, QueueEntryStatus.LEFT_FOR_CALLBACK, now, "kept place")
    virtual = QueueEntry(
        call_id=None,
        callback_id=callback.id,
        topic=entry.topic,
        language=entry.language,
        home_library_id=entry.home_library_id,
        priority=entry.priority,
        priority_reasons=[*entry.priority_reasons, "callback keeping place"],
        joined_at=entry.joined_at,
        status=QueueEntryStatus.WAITING,
        skipped_adviser_ids=list(entry.skipped_adviser_ids),
    )
    session.add(virtual)
    session.flush()
    return virtual


def end_entry(entry: QueueEntry, status: QueueEntryStatus, now: datetime, reason: str) -> None:
    """Close a live place in the queue with its final status; an entry already closed is left as it was."""
    if entry.status in ACTIVE_QUEUE_ENTRY_STATUSES:
        entry.status, entry.ended_at, entry.end_reason = status, now, reason[:64]


UNKNOWN_LIBRARY = "unknown"


def library_name(session: Session, entry: QueueEntry, default: str = UNKNOWN_LIBRARY) -> str:
    if entry.home_library_id is None:
        return default
    return session.get_one(Library, entry.home_library_id).name


def record_adviser_state(
    session: Session,
    adviser: Adviser,
    state: AdviserState,
    now: datetime,
    reason: str,
    by_user_id: int | None = None,
) -> None:
    """Write a state change to the database: the Adviser row and its AdviserStateChange event.

    Routing calls it for changes it already made in the store (offered → on call, missed → break);
    routing.advisers for console and CLI changes, with the user who made them (None: the system).
    """
    if adviser.state == state and adviser.state_reason == reason:
        return
    session.add(
        AdviserStateChange(
            adviser_id=adviser.id,
            from_state=adviser.state,
            to_state=state,
            reason=reason[:200],
            occurred_at=now,
            changed_by_user_id=by_user_id,
        )
    )
    adviser.state, adviser.state_since, adviser.state_reason = state, now, reason[:200]
