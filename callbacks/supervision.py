"""Supervisors looking after callbacks: find them, see each attempt, give one to another adviser, cancel one.

The console's JSON API (console/api.py) and the supervisor's callbacks pages (console/supervisor/callbacks.py)
both call these functions, so a reassignment or a cancellation is checked, made and audited the same way
whichever way it came. Each change is one conditional UPDATE (only while the callback is still requested or
scheduled), so a dialler claiming it at the same moment and a supervisor changing it cannot both win; the
audit line (models.audit.record_change) is written in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.orm import Session, selectinload

from models import (
    ACTIVE_QUEUE_ENTRY_STATUSES,
    Adviser,
    AdviserSkill,
    Callback,
    CallbackStatus,
    Library,
    QueueEntry,
    QueueEntryStatus,
    Topic,
    User,
)
from models.audit import record_change
from routing.contacts import TOPICS, mask
from routing.queueing import end_entry
from runtime.services import Services

# Callbacks that can still be changed: once dialling, the call is already happening.
CHANGEABLE_CALLBACK_STATUSES = (CallbackStatus.REQUESTED, CallbackStatus.SCHEDULED)
LONGEST_REASON = 200  # Callback.cancelled_reason
LARGEST_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger one names nothing
NO_REASON = "Give a reason: the resident may ask why their callback was cancelled."


class CallbackNotFound(LookupError):
    """No callback with that id (or none the viewer may see)."""


class CallbackRefused(ValueError):
    """The request is wrong (400): `field` says which input, `message` what to do about it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message)
        self.field, self.message = field, message


class CallbackNotChangeable(RuntimeError):
    """The request is fine but the moment is not (409): the call is already happening, or it is over."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- finding callbacks ---------------------------------------------------------------------------------------

SORTS = {
    "due": (Callback.next_attempt_at,),
    "slot": (Callback.slot_starts_at,),
    "status": (Callback.status,),
    "topic": (Callback.topic,),
    "attempts": (Callback.attempts,),
    "created": (Callback.created_at,),
}


@dataclass(frozen=True)
class CallbackFilters:
    """What a supervisor (or the API) narrowed the list to; None means "any"."""

    statuses: tuple[CallbackStatus, ...] = ()
    topic: Topic | None = None
    library_id: int | None = None
    unassigned: bool = False  # only callbacks no adviser has been given
    adviser_id: int | None = None
    slot_from: datetime | None = None  # the booked slot starts at or after ...
    slot_to: datetime | None = None  # ... and before
    due_from: datetime | None = None  # the next dial is due at or after ...
    due_to: datetime | None = None  # ... and before
    reference: str | None = None  # part of the resident's reference, any case


def filtered(query: Select[Any], filters: CallbackFilters) -> Select[Any]:
    """`query` (of Callback) narrowed to what `filters` ask for."""
    if filters.statuses:
        query = query.where(Callback.status.in_(filters.statuses))
    if filters.topic is not None:
        query = query.where(Callback.topic == filters.topic)
    if filters.library_id is not None:
        query = query.where(Callback.library_id == filters.library_id)
    if filters.unassigned:
        query = query.where(Callback.assigned_adviser_id.is_(None))
    elif filters.adviser_id is not None:
        query = query.where(Callback.assigned_adviser_id == filters.adviser_id)
    for column, start, end in (
        (Callback.slot_starts_at, filters.slot_from, filters.slot_to),
        (Callback.next_attempt_at, filters.due_from, filters.due_to),
    ):
        if start is not None:
            query = query.where(column >= start)
        if end is not None:
            query = query.where(column < end)
    if filters.reference:
        escaped = filters.reference.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Callback.reference.ilike(f"%{escaped}%", escape="\\"))
    return query


def page_of_callbacks(
    session: Session,
    query: Select[Any],
    page: int,
    per_page: int,
    sort: str = "slot",
    descending: bool = False,
) -> tuple[list[Callback], int]:
    """One page of `query`'s callbacks and how many there are in all; a page past the last is empty.

    Callbacks without a value in the sort column (as soon as possible: no slot) come first, then by that
    column, then oldest request first, so paging never shows a callback twice.
    """
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = SORTS.get(sort, SORTS["slot"])[0]
    order = column.desc() if descending else column.asc()
    rows = session.scalars(
        query.order_by(column.is_(None).desc(), order, Callback.created_at, Callback.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


@dataclass(frozen=True)
class Names:
    """Library and adviser names of a page of callbacks, read in two queries."""

    libraries: dict[int, str]
    advisers: dict[int, str]

    def library(self, callback: Callback) -> str | None:
        return self.libraries.get(callback.library_id) if callback.library_id is not None else None

    def adviser(self, adviser_id: int | None) -> str | None:
        return self.advisers.get(adviser_id) if adviser_id is not None else None


def names_for(session: Session, callbacks: Any, more_advisers: Any = ()) -> Names:
    library_ids = {c.library_id for c in callbacks if c.library_id is not None}
    adviser_ids = {c.assigned_adviser_id for c in callbacks if c.assigned_adviser_id is not None}
    adviser_ids |= {a for a in more_advisers if a is not None}
    libraries = dict(
        session.execute(select(Library.id, Library.name).where(Library.id.in_(library_ids))).tuples().all()
    )
    advisers = dict(
        session.execute(select(Adviser.id, Adviser.name).where(Adviser.id.in_(adviser_ids))).tuples().all()
    )
    return Names(libraries, advisers)


# --- one callback --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptLine:
    number: int
    claimed_at: datetime
    dial_started_at: datetime | None
    result: str | None
    answered_by: str | None
    adviser: str | None  # None: the dialler rang the resident; else the adviser who rang them
    ended_at: datetime | None


@dataclass(frozen=True)
class AdviserChoice:
    adviser_id: int
    name: str
    library: str
    state: str


@dataclass(frozen=True)
class CallbackDetail:
    callback: Callback
    topic: str
    number: str  # masked
    reference: str | None
    library: str | None
    adviser: str | None
    attempts: tuple[AttemptLine, ...]
    advisers: tuple[AdviserChoice, ...] = field(default=())  # who could take it: the topic's skill, active
    changeable: bool = False


def advisers_for_topic(session: Session, topic: Topic) -> list[AdviserChoice]:
    """Active advisers with the skill for `topic` whose console account (if they have one) is not disabled."""
    disabled = exists().where(User.adviser_id == Adviser.id, User.is_active.is_(False))
    rows = session.execute(
        select(Adviser.id, Adviser.name, Library.name, Adviser.state)
        .join(AdviserSkill, AdviserSkill.adviser_id == Adviser.id)
        .join(Library, Library.id == Adviser.home_library_id)
        .where(AdviserSkill.topic == topic, Adviser.is_active.is_(True), ~disabled)
        .order_by(Adviser.name, Adviser.id)
    ).all()
    return [AdviserChoice(row[0], row[1], row[2], row[3].value) for row in rows]


def callback_detail(session: Session, callback_id: int) -> CallbackDetail:
    """A callback with each of its attempts and the advisers it could be given to; raises CallbackNotFound."""
    if not 1 <= callback_id <= LARGEST_ID:
        raise CallbackNotFound(callback_id)
    callback = session.scalar(
        select(Callback).where(Callback.id == callback_id).options(selectinload(Callback.attempt_records))
    )
    if callback is None:
        raise CallbackNotFound(callback_id)
    names = names_for(session, [callback], (a.adviser_id for a in callback.attempt_records))
    return CallbackDetail(
        callback=callback,
        topic=TOPICS.get(callback.topic.value, callback.topic.value),
        number=mask(callback.number) or "",
        reference=callback.reference,
        library=names.library(callback),
        adviser=names.adviser(callback.assigned_adviser_id),
        attempts=tuple(
            AttemptLine(
                a.number,
                a.claimed_at,
                a.dial_started_at,
                a.result,
                a.answered_by,
                names.adviser(a.adviser_id),
                a.ended_at,
            )
            for a in callback.attempt_records
        ),
        advisers=tuple(advisers_for_topic(session, callback.topic)),
        changeable=callback.status in CHANGEABLE_CALLBACK_STATUSES and not callback.keeps_place,
    )


# --- changes -------------------------------------------------------------------------------------------------


def _locked(session: Session, callback_id: int) -> Callback:
    if not 1 <= callback_id <= LARGEST_ID:
        raise CallbackNotFound(callback_id)
    callback = session.scalar(select(Callback).where(Callback.id == callback_id).with_for_update())
    if callback is None:
        raise CallbackNotFound(callback_id)
    return callback


def reassign_callback(
    session: Session, callback_id: int, adviser_id: int, now: datetime, by_user_id: int | None
) -> Callback:
    """Give a callback to an adviser with its topic's skill; the dialler then offers it to them first
    (callbacks.lifecycle.dial_callback). In the caller's transaction, audited.

    Raises CallbackNotFound, CallbackRefused (no such adviser, or without the skill) or CallbackNotChangeable
    (a kept place, or a callback already being dialled or finished).
    """
    callback = _locked(session, callback_id)
    adviser = session.scalar(
        select(Adviser).where(Adviser.id == adviser_id).options(selectinload(Adviser.skills))
    )
    if adviser is None:
        raise CallbackRefused("adviser_id", f"No adviser with id {adviser_id}.")
    if not adviser.is_active:
        raise CallbackRefused("adviser_id", f"{adviser.name} is not active, so cannot take callbacks.")
    if not any(skill.topic == callback.topic for skill in adviser.skills):
        topic = TOPICS.get(callback.topic.value, callback.topic.value).lower()
        raise CallbackRefused("adviser_id", f"{adviser.name} does not take {topic} calls.")
    if callback.keeps_place:
        raise CallbackNotChangeable(
            "This resident is keeping their place in the queue: the next free adviser takes it."
        )
    before = callback.assigned_adviser_id
    status = callback.status
    changed = session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.status.in_(CHANGEABLE_CALLBACK_STATUSES))
        .values(assigned_adviser_id=adviser_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise CallbackNotChangeable(f"This callback is {status.value}; it can no longer be reassigned.")
    before_name = session.scalar(select(Adviser.name).where(Adviser.id == before)) if before else None
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="callback.reassigned",
        subject_kind="callback",
        subject_id=callback_id,
        summary=f"Callback {callback_id} given to {adviser.name}"
        + (f" (was {before_name})" if before_name else " (was unassigned)"),
        before={"assigned_adviser_id": before, "assigned_adviser": before_name},
        after={"assigned_adviser_id": adviser_id, "assigned_adviser": adviser.name},
    )
    session.refresh(callback)
    return callback


def cancel_reason(typed: str | None) -> str:
    """The reason as it is kept (spaces tidied); raises CallbackRefused when there is none or it is too long."""
    reason = " ".join((typed or "").split())
    if not reason:
        raise CallbackRefused("reason", NO_REASON)
    if len(reason) > LONGEST_REASON:
        raise CallbackRefused("reason", f"Keep the reason to {LONGEST_REASON} characters or fewer.")
    return reason


def cancel_callback(
    services: Services, session: Session, callback_id: int, typed_reason: str | None, by_user_id: int | None
) -> Callback:
    """Cancel a requested or scheduled callback with a reason, in the caller's transaction, audited.

    A resident keeping their place leaves the live queue too (or an adviser would be rung). Raises
    CallbackNotFound, CallbackRefused (no reason) or CallbackNotChangeable (being dialled, connected, over).
    """
    from routing.live import ready_store  # the live queue: only needed for a kept place

    reason = cancel_reason(typed_reason)
    now = services.clock.now()
    callback = _locked(session, callback_id)
    status = callback.status
    waiting = session.scalar(
        select(QueueEntry).where(
            QueueEntry.callback_id == callback_id,
            QueueEntry.call_id.is_(None),
            QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES),
        )
    )
    if waiting is not None and waiting.status == QueueEntryStatus.OFFERED:
        raise CallbackNotChangeable(
            "An adviser is being connected to this resident now; it can no longer be cancelled."
        )
    # Conditional, so a dialler claiming it at this moment and this cancel cannot both win.
    cancelled = session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.status.in_(CHANGEABLE_CALLBACK_STATUSES))
        .values(status=CallbackStatus.CANCELLED, cancelled_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if cancelled.rowcount != 1:
        raise CallbackNotChangeable(
            f"This callback is {status.value}; only requested or scheduled ones can be cancelled."
        )
    if waiting is not None:
        ready_store(services, session).remove_waiting(f"callback-{callback_id}")
        end_entry(waiting, QueueEntryStatus.ABANDONED, now, "callback cancelled")
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="callback.cancelled",
        subject_kind="callback",
        subject_id=callback_id,
        summary=f"Callback {callback_id} cancelled: {reason}",
        before={"status": status.value},
        after={"status": CallbackStatus.CANCELLED.value, "cancelled_reason": reason},
    )
    session.refresh(callback)
    return callback
