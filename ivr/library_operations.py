"""Library operations for supervisors: weekly hours, dated closures, and closing a library now in an emergency.

Plain Python over a session (the console's pages call it; it imports no Flask): each function checks its input
(LibraryRefused names the field and says what to do), makes the change and records it with
models.audit.record_change in the caller's transaction. Callers hear a closure from the next call on: the menu
re-reads hours at least once a minute (ivr.service.LibraryHoursCache) and the queue reads them as it joins.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr.hours import (
    DAYS,
    LONDON,
    HoursDecision,
    closure_of,
    is_open,
    open_sessions,
    parse_closures,
    parse_opening_hours,
)
from ivr.hours_words import clock_en
from models import Library, LibraryClosure
from models.audit import record_change

MOST_SESSIONS = 3  # a day's sessions: morning, afternoon, evening
LONGEST_REASON = 200  # LibraryClosure.reason
LONGEST_CALLER_MESSAGE = 300  # LibraryClosure.caller_message
LONGEST_CLOSURE = timedelta(days=366)
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3])[:.]([0-5][0-9])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class LibraryNotFound(LookupError):
    """No library (or closure) with that id."""


class LibraryRefused(ValueError):
    """The request is wrong (400): `errors` maps each field to what to do about it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(dict(errors))
        self.errors = dict(errors)


# --- reading -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryNow:
    """A library as a supervisor sees it now: open or closed and why, and today's hours."""

    library_id: int
    name: str
    decision: HoursDecision
    today: str  # "9am to 5pm", "Closed"
    closure: LibraryClosure | None  # the closure in effect now, if any


def _hours_of(library: Library) -> tuple[Any, Any]:
    return parse_opening_hours(library.opening_hours), parse_closures(
        [closure_of(c) for c in library.closures]
    )


def today_in_words(library: Library, now: datetime) -> str:
    """Today's open times after closures, e.g. "9am to 2pm", or "Closed"."""
    week, closures = _hours_of(library)
    sessions = open_sessions(now.astimezone(LONDON).date(), week, closures)
    if not sessions:
        return "Closed"
    return ", ".join(f"{clock_en(opens.time())} to {clock_en(closes.time())}" for opens, closes in sessions)


def library_now(library: Library, now: datetime) -> LibraryNow:
    week, closures = _hours_of(library)
    decision = is_open(now, week, closures)
    current = next((c for c in library.closures if _in_effect(c, now)), None)
    return LibraryNow(library.id, library.name, decision, today_in_words(library, now), current)


def libraries_now(session: Session, now: datetime) -> list[LibraryNow]:
    """Every library, by name, open or closed at `now`."""
    query = select(Library).options(selectinload(Library.closures)).order_by(Library.name)
    return [library_now(library, now) for library in session.scalars(query)]


def get_library(session: Session, library_id: int) -> Library:
    library = session.scalar(
        select(Library).where(Library.id == library_id).options(selectinload(Library.closures))
    )
    if library is None:
        raise LibraryNotFound(library_id)
    return library


def closures_to_show(library: Library, now: datetime) -> list[LibraryClosure]:
    """The library's closures in effect now or still to come, soonest first (past ones are in the audit)."""
    return sorted(
        (c for c in library.closures if closure_end(c) > now), key=lambda c: (closure_start(c), c.id)
    )


def closure_start(closure: LibraryClosure) -> datetime:
    return parse_closures([closure_of(closure)])[0].start()


def closure_end(closure: LibraryClosure) -> datetime:
    return parse_closures([closure_of(closure)])[0].end()


def _in_effect(closure: LibraryClosure, now: datetime) -> bool:
    return closure_start(closure) <= now < closure_end(closure)


# --- weekly hours --------------------------------------------------------------------------------------------


def read_clock(raw: str) -> time | None:
    """ "9:00", "09:00", "17.30" → a time; anything else → None."""
    found = _CLOCK.fullmatch(raw.strip())
    return time(int(found[1]), int(found[2])) if found else None


def checked_week(typed: Mapping[str, Sequence[tuple[str, str]]]) -> dict[str, list[list[str]]]:
    """The weekly hours typed on the form ({"mon": [("9:00", "17:00"), ("", "")], ...}) as the Library's JSON.

    A session left blank is no session; a day with none is closed. Raises LibraryRefused with errors keyed
    "<day>-<n>-opens" / "<day>-<n>-closes" (n from 1).
    """
    errors: dict[str, str] = {}
    week: dict[str, list[list[str]]] = {}
    for day in DAYS:
        sessions: list[tuple[time, time]] = []
        rows = list(typed.get(day, ()))
        if len(rows) > MOST_SESSIONS:
            errors[f"{day}-{MOST_SESSIONS + 1}-opens"] = (
                f"{DAY_NAMES[day]}: at most {MOST_SESSIONS} sessions."
            )
            rows = rows[:MOST_SESSIONS]
        for number, (opens_raw, closes_raw) in enumerate(rows, start=1):
            field = f"{day}-{number}"
            if not opens_raw.strip() and not closes_raw.strip():
                continue
            opens, closes = read_clock(opens_raw), read_clock(closes_raw)
            name = f"{DAY_NAMES[day]} session {number}"
            if opens is None:
                errors[f"{field}-opens"] = f"{name}: enter the opening time as 24-hour HH:MM, like 09:00."
            if closes is None:
                errors[f"{field}-closes"] = f"{name}: enter the closing time as 24-hour HH:MM, like 17:00."
            if opens is None or closes is None:
                continue
            if closes <= opens:
                errors[f"{field}-closes"] = f"{name}: the closing time must be after the opening time."
                continue
            if any(opens < other_closes and other_opens < closes for other_opens, other_closes in sessions):
                errors[f"{field}-opens"] = f"{name} overlaps another session that day."
                continue
            sessions.append((opens, closes))
        week[day] = [[f"{o:%H:%M}", f"{c:%H:%M}"] for o, c in sorted(sessions)]
    if errors:
        raise LibraryRefused(errors)
    return week


def change_weekly_hours(
    session: Session,
    library_id: int,
    typed: Mapping[str, Sequence[tuple[str, str]]],
    now: datetime,
    user_id: int | None,
) -> Library:
    """Set the library's weekly hours (Europe/London), audited before → after."""
    week = checked_week(typed)
    library = get_library(session, library_id)
    before = {day: library.opening_hours.get(day, []) for day in DAYS}
    if before == week:
        return library
    library.opening_hours = week
    record_change(
        session,
        now=now,
        user_id=user_id,
        action="library.hours_changed",
        subject_kind="library",
        subject_id=library.id,
        summary=f"Changed {library.name}'s weekly opening hours",
        before={"opening_hours": before},
        after={"opening_hours": week},
    )
    return library


# --- closures ------------------------------------------------------------------------------------------------


def checked_text(field: str, raw: str | None, longest: int, missing: str, errors: dict[str, str]) -> str:
    text = " ".join((raw or "").split())
    if not text:
        errors[field] = missing
    elif _CONTROL.search(raw or ""):
        errors[field] = "Remove the control characters from this text."
    elif len(text) > longest:
        errors[field] = f"Keep this to {longest} characters or fewer."
    return text


def _closure_audit(closure: LibraryClosure) -> dict[str, Any]:
    data = closure_of(closure)
    data["is_emergency"] = bool(closure.is_emergency)
    return data


def add_closure(
    session: Session,
    library_id: int,
    starts_on: date | None,
    ends_on: date | None,
    reason: str | None,
    caller_message: str | None,
    now: datetime,
    user_id: int | None,
) -> LibraryClosure:
    """Close the library for whole days, `starts_on` to `ends_on` inclusive (today or later)."""
    errors: dict[str, str] = {}
    today = now.astimezone(LONDON).date()
    if starts_on is None:
        errors.setdefault("starts_on", "Enter the first day of the closure, like 24 12 2026.")
    elif starts_on < today:
        errors["starts_on"] = "The first day of the closure must be today or later."
    if ends_on is None:
        errors.setdefault("ends_on", "Enter the last day of the closure, like 24 12 2026.")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = "The last day must be the same as or after the first day."
    elif starts_on is not None and ends_on - starts_on > LONGEST_CLOSURE:
        errors["ends_on"] = "A closure can last at most a year: add another for longer."
    reason = checked_text("reason", reason, LONGEST_REASON, "Enter why it is closed, for staff.", errors)
    caller_message = checked_text(
        "caller_message",
        caller_message,
        LONGEST_CALLER_MESSAGE,
        "Enter the sentence callers will hear.",
        errors,
    )
    if errors:
        raise LibraryRefused(errors)
    assert starts_on is not None and ends_on is not None
    library = get_library(session, library_id)
    closure = LibraryClosure(
        starts_on=starts_on,
        ends_on=ends_on,
        reason=reason,
        caller_message=caller_message,
        is_emergency=False,
    )
    library.closures.append(closure)
    session.flush()
    record_change(
        session,
        now=now,
        user_id=user_id,
        action="library.closure_added",
        subject_kind="library",
        subject_id=library.id,
        summary=f"Closed {library.name} from {starts_on:%-d %b %Y} to {ends_on:%-d %b %Y}: {reason}"[:300],
        before=None,
        after={"closure": _closure_audit(closure)},
    )
    return closure


def close_now(
    session: Session,
    library_id: int,
    reason: str | None,
    caller_message: str | None,
    now: datetime,
    user_id: int | None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> LibraryClosure:
    """Close the library in an emergency from `starts_at` (a time today; default now) until `ends_at` (default
    the end of today), with the sentence callers hear from their next call."""
    errors: dict[str, str] = {}
    local_now = now.astimezone(LONDON)
    starts_at = starts_at or now
    start_local = starts_at.astimezone(LONDON)
    if start_local.date() != local_now.date():
        errors["starts_at"] = "An emergency closure starts today: add a dated closure for another day."
    end_of_today = datetime.combine(local_now.date() + timedelta(days=1), time(0), tzinfo=LONDON)
    if ends_at is not None and ends_at <= max(now, starts_at):
        errors["ends_at"] = "The closure must end after it starts, and after now."
    elif ends_at is not None and ends_at - starts_at > LONGEST_CLOSURE:
        errors["ends_at"] = "A closure can last at most a year."
    reason = checked_text("reason", reason, LONGEST_REASON, "Enter why it is closed, for staff.", errors)
    caller_message = checked_text(
        "caller_message",
        caller_message,
        LONGEST_CALLER_MESSAGE,
        "Enter the sentence callers will hear, like “Batley Library is closed today because of flooding.”",
        errors,
    )
    if errors:
        raise LibraryRefused(errors)
    library = get_library(session, library_id)
    ends_at_stored = None if ends_at is None or ends_at == end_of_today else ends_at
    last_moment = (ends_at or end_of_today).astimezone(LONDON) - timedelta(microseconds=1)
    closure = LibraryClosure(
        starts_on=start_local.date(),
        ends_on=last_moment.date(),
        starts_at=starts_at,
        ends_at=ends_at_stored,
        reason=reason,
        caller_message=caller_message,
        is_emergency=True,
    )
    library.closures.append(closure)
    session.flush()
    until = f" until {_when(ends_at)}" if ends_at_stored else " for the rest of today"
    record_change(
        session,
        now=now,
        user_id=user_id,
        action="library.closed_now",
        subject_kind="library",
        subject_id=library.id,
        summary=f"Emergency: closed {library.name} from {_when(starts_at)}{until}: {reason}"[:300],
        before=None,
        after={"closure": _closure_audit(closure)},
    )
    return closure


def end_closure_now(session: Session, closure_id: int, now: datetime, user_id: int | None) -> LibraryClosure:
    """Open the library again now: the closure in effect ends at this moment (the rest of it is dropped)."""
    closure = _closure(session, closure_id)
    if not _in_effect(closure, now):
        raise LibraryRefused({"closure": "This closure is not in effect now, so it cannot be ended early."})
    before = _closure_audit(closure)
    if closure_start(closure) == now:
        return remove_closure(session, closure_id, now, user_id, started_ok=True)
    closure.ends_at = now
    closure.ends_on = now.astimezone(LONDON).date()  # a whole-day closure then runs from midnight until now
    session.flush()
    record_change(
        session,
        now=now,
        user_id=user_id,
        action="library.closure_ended",
        subject_kind="library",
        subject_id=closure.library_id,
        summary=f"Opened {closure.library.name} again at {_when(now)} (closure: {closure.reason})"[:300],
        before={"closure": before},
        after={"closure": _closure_audit(closure)},
    )
    return closure


def remove_closure(
    session: Session, closure_id: int, now: datetime, user_id: int | None, started_ok: bool = False
) -> LibraryClosure:
    """Delete a closure that has not started yet (one under way is ended with `end_closure_now`)."""
    closure = _closure(session, closure_id)
    if closure_start(closure) <= now and not started_ok:
        raise LibraryRefused(
            {"closure": "This closure has already started: end it now instead of removing it."}
        )
    before = _closure_audit(closure)
    library = closure.library
    library.closures.remove(closure)
    session.flush()
    record_change(
        session,
        now=now,
        user_id=user_id,
        action="library.closure_removed",
        subject_kind="library",
        subject_id=library.id,
        summary=f"Removed {library.name}'s closure from {_when(closure_start(closure))}: {closure.reason}"[
            :300
        ],
        before={"closure": before},
        after=None,
    )
    return closure


def _closure(session: Session, closure_id: int) -> LibraryClosure:
    closure = session.get(LibraryClosure, closure_id)
    if closure is None:
        raise LibraryNotFound(closure_id)
    return closure


def _when(moment: datetime) -> str:
    local = moment.astimezone(LONDON)
    return f"{local:%H:%M} on {local:%-d %b %Y}"


def suggested_sentence(name: str, now: datetime) -> str:
    """What the emergency form offers to start from: "Batley Library is closed from 2pm today." """
    return f"{name} Library is closed from {clock_en(now.astimezone(LONDON).time())} today."
