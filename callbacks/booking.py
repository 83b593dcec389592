"""Booking a callback by phone: the database side of the dialogue in callbacks/views.py.

Loads the rota, library hours, closures and booked slots for the pure slot finder (callbacks/slots.py), books
the chosen slot with `request_callback`, and keeps the dialogue's journey (CallEvents). Functions receive their
session and run inside the caller's transaction; none of them commits.

The number the resident agreed to is kept between webhooks as a journey event (node "callback_number",
outcome "proposed", caller_input = the E.164 number), not in a URL, so it never reaches an access log; the
retention job redacts it with the rest of the call's caller input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from callbacks.service import dedupe_key, request_callback
from callbacks.slots import (
    HORIZON_DAYS,
    Booking,
    RotaLine,
    Slot,
    available_slots,
    next_rostered_start,
    slot_at,
)
from ivr.calls import record_event
from ivr.hours import LONDON, LibraryHours, closure_of, next_opening, parse_library_hours
from models import (
    ACTIVE_CALLBACK_STATUSES,
    Adviser,
    Call,
    Callback,
    CallbackStatus,
    CallEvent,
    CallOutcome,
    Library,
    RotaException,
    Topic,
)

EVENT_KIND = "callback_booking"
NUMBER_NODE = "callback_number"
BOOKED_NODE = "callback_booked"


@dataclass(frozen=True)
class SlotInputs:
    """Everything the slot finder needs for one topic, read in one go."""

    rota: list[RotaLine]
    libraries: dict[int, LibraryHours]
    booked: list[Booking]


@dataclass(frozen=True)
class Booked:
    """A booking the caller has just made (or, on a replayed webhook, made a moment ago)."""

    callback_id: int
    created: bool  # False: they already had one for this number and topic, and it was updated
    slot_starts_at: datetime | None
    slot_ends_at: datetime | None
    next_attempt_at: datetime


def slot_inputs(session: Session, topic: Topic, now: datetime, number: str | None = None) -> SlotInputs:
    """Read the weekly rota, hours, closures and booked slots; the caller's own booking for `topic` is left
    out, because booking again moves it rather than adding a second one.

    Only active advisers' shifts count, each with the days its adviser is away (leave, sickness), so the slot
    finder never promises an hour nobody will be there for."""
    libraries = library_hours(session)
    advisers = session.scalars(
        select(Adviser)
        .where(Adviser.is_active.is_(True))
        .options(selectinload(Adviser.skills), selectinload(Adviser.shifts))
    )
    away = away_days(session, now.astimezone(LONDON).date())
    rota = [
        RotaLine(
            adviser_id=adviser.id,
            library_id=shift.library_id,
            weekday=shift.weekday,
            starts=shift.starts,
            ends=shift.ends,
            skills=frozenset(skill.topic.value for skill in adviser.skills),
            away=away.get(adviser.id, ()),
        )
        for adviser in advisers
        for shift in adviser.shifts
    ]
    query = select(Callback.slot_starts_at, Callback.topic).where(
        Callback.status.in_(ACTIVE_CALLBACK_STATUSES),
        Callback.slot_starts_at.is_not(None),
        Callback.slot_starts_at >= now - timedelta(hours=1),
        Callback.slot_starts_at < now + timedelta(days=HORIZON_DAYS + 1),
    )
    if number is not None:
        query = query.where(Callback.dedupe_key != dedupe_key(number, topic))
    booked = [Booking(starts_at, booked_topic.value) for starts_at, booked_topic in session.execute(query)]
    return SlotInputs(rota, libraries, booked)


def away_days(session: Session, from_day: date) -> dict[int, tuple[tuple[date, date], ...]]:
    """Each adviser's rota exceptions (leave, sickness, ...) that end on or after `from_day`, by adviser id."""
    found: dict[int, list[tuple[date, date]]] = {}
    rows = session.execute(
        select(RotaException.adviser_id, RotaException.starts_on, RotaException.ends_on)
        .where(RotaException.ends_on >= from_day)
        .order_by(RotaException.starts_on)
    )
    for adviser_id, starts_on, ends_on in rows:
        found.setdefault(adviser_id, []).append((starts_on, ends_on))
    return {adviser_id: tuple(days) for adviser_id, days in found.items()}


def offer_slots(
    session: Session, topic: Topic, now: datetime, number: str | None, count: int = 3
) -> list[Slot]:
    """The next `count` free slots for this caller and topic."""
    inputs = slot_inputs(session, topic, now, number)
    return available_slots(now, topic.value, inputs.rota, inputs.libraries, inputs.booked, count=count)


def still_free(
    session: Session, topic: Topic, starts_at: datetime, now: datetime, number: str
) -> Slot | None:
    """The slot the caller chose, if it has not started and nobody took its last place since it was offered."""
    if starts_at <= now:
        return None
    inputs = slot_inputs(session, topic, now, number)
    slot = slot_at(starts_at, topic.value, inputs.rota, inputs.libraries, inputs.booked)
    return slot if slot is not None and slot.free > 0 else None


def advisers_next_expected(session: Session, topic: Topic, now: datetime) -> datetime | None:
    """When advisers with the topic's skill are next due to start work by the rota, at an open hub (or None)."""
    inputs = slot_inputs(session, topic, now)
    return next_rostered_start(now, topic.value, inputs.rota, inputs.libraries)


def earliest_callback_time(session: Session, now: datetime) -> datetime:
    """When an "as soon as possible" callback is due: now while any hub is open, else when the first one opens."""
    openings = [
        opening
        for library in library_hours(session).values()
        if (opening := next_opening(now, library.opening_hours, library.closures)) is not None
    ]
    return max(now, min(openings)) if openings else now


def library_hours(session: Session) -> dict[int, LibraryHours]:
    """Weekly hours and dated closures of every hub that takes phone work, by library id."""
    query = select(Library).where(Library.offers_phone_support).options(selectinload(Library.closures))
    return {
        library.id: parse_library_hours(
            library.name,
            library.opening_hours,
            [closure_of(c) for c in library.closures],
        )
        for library in session.scalars(query)
    }


def book(
    session: Session,
    call: Call,
    number: str,
    topic: Topic,
    language: str,
    slot: Slot | None,
    now: datetime,
    event_key: str,
) -> Booked:
    """Book (or move) the caller's callback, mark the call callback_booked and record it once.

    A replayed webhook (same `event_key`) books nothing again and returns what the first one booked, so the
    caller hears "booked" again rather than "updated".
    """
    earlier = _booked_event(session, event_key)
    if earlier is not None:
        return earlier
    result = request_callback(
        session,
        number,
        topic,
        now,
        language=language,
        reference=call.reference,
        slot=(slot.starts_at, slot.ends_at) if slot else None,
        call_id=call.id,
        status=CallbackStatus.SCHEDULED,
        library_id=slot.library_ids[0] if slot else None,
    )
    callback = result.callback
    callback.next_attempt_at = slot.starts_at if slot else earliest_callback_time(session, now)
    call.outcome = CallOutcome.CALLBACK_BOOKED
    booked = Booked(
        callback.id, result.created, callback.slot_starts_at, callback.slot_ends_at, callback.next_attempt_at
    )
    session.flush()
    record_event(
        session,
        call,
        now,
        kind=EVENT_KIND,
        node=BOOKED_NODE,
        outcome="created" if result.created else "updated",
        idempotency_key=event_key,
        detail=_booked_detail(booked),
    )
    return booked


def record_step(
    session: Session,
    call: Call,
    now: datetime,
    node: str,
    outcome: str,
    key: str,
    caller_input: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One step of the booking dialogue as a CallEvent; a Twilio retry (same key) records nothing new."""
    record_event(
        session,
        call,
        now,
        kind=EVENT_KIND,
        node=node,
        caller_input=caller_input,
        outcome=outcome,
        idempotency_key=key,
        detail=detail,
    )


def propose_number(session: Session, call: Call, now: datetime, number: str, source: str, key: str) -> None:
    """Remember the number we are about to read back (the caller ID, or what they keyed)."""
    record_step(
        session, call, now, NUMBER_NODE, "proposed", key, caller_input=number, detail={"source": source}
    )


def proposed_number(session: Session, call: Call) -> str | None:
    """The number last proposed to this caller, or None."""
    return session.scalar(
        select(CallEvent.caller_input)
        .where(
            CallEvent.call_id == call.id,
            CallEvent.kind == EVENT_KIND,
            CallEvent.node == NUMBER_NODE,
            CallEvent.outcome == "proposed",
        )
        .order_by(CallEvent.id.desc())
        .limit(1)
    )


def _booked_event(session: Session, event_key: str) -> Booked | None:
    detail = session.scalar(select(CallEvent.detail).where(CallEvent.idempotency_key == event_key))
    if detail is None:
        return None
    return Booked(
        callback_id=int(detail["callback_id"]),
        created=bool(detail["created"]),
        slot_starts_at=_when(detail.get("slot_starts_at")),
        slot_ends_at=_when(detail.get("slot_ends_at")),
        next_attempt_at=datetime.fromisoformat(detail["next_attempt_at"]),
    )


def _booked_detail(booked: Booked) -> dict[str, Any]:
    return {
        "callback_id": booked.callback_id,
        "created": booked.created,
        "slot_starts_at": booked.slot_starts_at.isoformat() if booked.slot_starts_at else None,
        "slot_ends_at": booked.slot_ends_at.isoformat() if booked.slot_ends_at else None,
        "next_attempt_at": booked.next_attempt_at.isoformat(),
    }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
