"""The rota: each adviser's weekly pattern of phone shifts, and the days they are away from it (leave, sickness,
training). Plain Python (no Flask), in the caller's transaction, every change audited.

The rota is what callback slots are promised from and what callers hear as "advisers are next expected ..."
(callbacks/booking.py reads it, callbacks/slots.py decides), so a shift that overlaps another of the same
adviser, or ends before it starts, is refused here with the field at fault, and an away day takes that
adviser's shifts out of both from the moment it is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from callbacks.booking import advisers_next_expected, slot_inputs
from callbacks.slots import next_rostered_start
from ivr.hours import LONDON
from models import Adviser, AdviserShift, Library, RotaException, RotaExceptionKind, Topic
from models.audit import record_change
from routing.contacts import TOPICS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KINDS = {
    RotaExceptionKind.LEAVE: "Leave",
    RotaExceptionKind.SICKNESS: "Sickness",
    RotaExceptionKind.TRAINING: "Training",
    RotaExceptionKind.OTHER: "Other",
}
LONGEST_NOTE = 200  # RotaException.note
LONGEST_ABSENCE_DAYS = 366  # a longer absence is a leaver: make them inactive instead
LARGEST_ID = 2**31 - 1


class RotaRefused(ValueError):
    """The change cannot be made as asked: `errors` maps each field at fault to what to do about it (400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class RotaNotFound(LookupError):
    """No such adviser, shift or exception."""


def _hhmm(moment: time) -> str:
    return moment.strftime("%H:%M")


def _days(starts_on: date, ends_on: date) -> str:
    if starts_on == ends_on:
        return starts_on.strftime("%-d %B %Y")
    return f"{starts_on.strftime('%-d %B %Y')} to {ends_on.strftime('%-d %B %Y')}"


def _adviser(session: Session, adviser_id: int) -> Adviser:
    adviser = session.get(Adviser, adviser_id) if 1 <= adviser_id <= LARGEST_ID else None
    if adviser is None:
        raise RotaNotFound(adviser_id)
    return adviser


# --- the weekly pattern -----------------------------------------------------------------------------------


def add_shift(
    session: Session,
    adviser_id: int,
    library_id: int | None,
    weekday: int | None,
    starts: time | None,
    ends: time | None,
    now: datetime,
    by_user_id: int | None,
) -> AdviserShift:
    """Add a weekly shift to an adviser's pattern; refused (with field errors) when it overlaps one of theirs,
    ends before it starts, or names no library or day. Raises RotaNotFound for an unknown adviser."""
    adviser = _adviser(session, adviser_id)
    errors: dict[str, str] = {}
    library = session.get(Library, library_id) if library_id and 1 <= library_id <= LARGEST_ID else None
    if library is None:
        errors["library_id"] = "Choose the library the shift is worked at."
    if weekday is None or not 0 <= weekday <= 6:
        errors["weekday"] = "Choose the day of the week."
    if starts is None:
        errors.setdefault("starts", "Enter the start time, like 09:00.")
    if ends is None:
        errors.setdefault("ends", "Enter the end time, like 17:00.")
    if starts is not None and ends is not None and ends <= starts:
        errors["ends"] = "The end time must be after the start time."
    if not errors:
        assert weekday is not None and starts is not None and ends is not None
        for shift in session.scalars(
            select(AdviserShift).where(AdviserShift.adviser_id == adviser_id, AdviserShift.weekday == weekday)
        ):
            if starts < shift.ends and shift.starts < ends:
                errors["starts"] = (
                    f"{adviser.name} already works {_hhmm(shift.starts)} to {_hhmm(shift.ends)} on "
                    f"{WEEKDAYS[weekday]}s. Choose times that do not overlap it."
                )
                break
    if errors:
        raise RotaRefused(errors)
    assert library is not None and weekday is not None and starts is not None and ends is not None
    shift = AdviserShift(
        adviser_id=adviser_id, library_id=library.id, weekday=weekday, starts=starts, ends=ends
    )
    session.add(shift)
    session.flush()
    after = {
        "weekday": WEEKDAYS[weekday],
        "library": library.name,
        "starts": _hhmm(starts),
        "ends": _hhmm(ends),
    }
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="rota.shift_added",
        subject_kind="adviser",
        subject_id=adviser_id,
        summary=f"{adviser.name} now works {WEEKDAYS[weekday]}s {_hhmm(starts)} to {_hhmm(ends)} at {library.name}",
        before=None,
        after=after,
    )
    return shift


def remove_shift(
    session: Session, adviser_id: int, shift_id: int, now: datetime, by_user_id: int | None
) -> None:
    """Take a weekly shift out of an adviser's pattern, audited. Raises RotaNotFound."""
    adviser = _adviser(session, adviser_id)
    shift = session.get(AdviserShift, shift_id) if 1 <= shift_id <= LARGEST_ID else None
    if shift is None or shift.adviser_id != adviser_id:
        raise RotaNotFound(shift_id)
    library = session.get_one(Library, shift.library_id)
    before = {
        "weekday": WEEKDAYS[shift.weekday],
        "library": library.name,
        "starts": _hhmm(shift.starts),
        "ends": _hhmm(shift.ends),
    }
    session.delete(shift)
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="rota.shift_removed",
        subject_kind="adviser",
        subject_id=adviser_id,
        summary=f"{adviser.name} no longer works {before['weekday']}s {before['starts']} to {before['ends']} "
        f"at {library.name}",
        before=before,
        after=None,
    )


# --- exceptions: leave, sickness, training ----------------------------------------------------------------


def add_exception(
    session: Session,
    adviser_id: int,
    kind: str | None,
    starts_on: date | None,
    ends_on: date | None,
    note: str | None,
    now: datetime,
    by_user_id: int | None,
) -> RotaException:
    """Record days an adviser is away (inclusive); their shifts on those days stop counting at once.

    `ends_on` None means the one day `starts_on`. Refused with field errors: no kind, no start, an end before
    the start, more than a year, a note too long. Raises RotaNotFound for an unknown adviser.
    """
    adviser = _adviser(session, adviser_id)
    errors: dict[str, str] = {}
    if kind not in RotaExceptionKind._value2member_map_:
        errors["kind"] = "Choose why the adviser is away."
    if starts_on is None:
        errors["starts_on"] = "Enter the first day they are away, like 27 3 2027."
    last = ends_on or starts_on
    if starts_on is not None and last is not None:
        if last < starts_on:
            errors["ends_on"] = "The last day must be the same as or after the first day."
        elif (last - starts_on).days >= LONGEST_ABSENCE_DAYS:
            errors["ends_on"] = (
                "Record up to a year at a time. For someone who has left, make the adviser inactive."
            )
    tidy = " ".join((note or "").split()) or None
    if tidy is not None and len(tidy) > LONGEST_NOTE:
        errors["note"] = f"Keep the note to {LONGEST_NOTE} characters or fewer."
    if errors:
        raise RotaRefused(errors)
    assert starts_on is not None and last is not None and kind is not None
    exception = RotaException(
        adviser_id=adviser_id,
        kind=RotaExceptionKind(kind),
        starts_on=starts_on,
        ends_on=last,
        note=tidy,
        created_at=now,
        created_by_user_id=by_user_id,
    )
    session.add(exception)
    session.flush()
    label = KINDS[exception.kind]
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="rota.away_added",
        subject_kind="adviser",
        subject_id=adviser_id,
        summary=f"{adviser.name} away ({label.lower()}): {_days(starts_on, last)}",
        before=None,
        after={
            "kind": exception.kind.value,
            "starts_on": starts_on.isoformat(),
            "ends_on": last.isoformat(),
            "note": tidy,
        },
    )
    return exception


def remove_exception(
    session: Session, adviser_id: int, exception_id: int, now: datetime, by_user_id: int | None
) -> None:
    """Cancel recorded days away (they are back, or it was a mistake), audited. Raises RotaNotFound."""
    adviser = _adviser(session, adviser_id)
    exception = session.get(RotaException, exception_id) if 1 <= exception_id <= LARGEST_ID else None
    if exception is None or exception.adviser_id != adviser_id:
        raise RotaNotFound(exception_id)
    before = {
        "kind": exception.kind.value,
        "starts_on": exception.starts_on.isoformat(),
        "ends_on": exception.ends_on.isoformat(),
        "note": exception.note,
    }
    summary = f"{adviser.name} no longer away ({KINDS[exception.kind].lower()}): "
    summary += _days(exception.starts_on, exception.ends_on)
    session.delete(exception)
    record_change(
        session,
        now=now,
        user_id=by_user_id,
        action="rota.away_removed",
        subject_kind="adviser",
        subject_id=adviser_id,
        summary=summary,
        before=before,
        after=None,
    )


# --- the week as a supervisor reads it ----------------------------------------------------------------------


@dataclass(frozen=True)
class DayOfRota:
    day: date
    shifts: tuple[tuple[int, str, str], ...]  # (shift id, "09:00 to 17:00", library name)
    away: str | None  # "Sickness", "Leave", ... when an exception covers the day


@dataclass(frozen=True)
class AdviserWeek:
    adviser_id: int
    name: str
    is_active: bool
    days: tuple[DayOfRota, ...]


@dataclass(frozen=True)
class AwayLine:
    exception_id: int
    adviser_id: int
    adviser: str
    kind: str
    days: str
    note: str | None


@dataclass(frozen=True)
class Week:
    starts_on: date  # a Monday
    advisers: tuple[AdviserWeek, ...]
    away: tuple[AwayLine, ...] = field(default=())  # exceptions that end on or after the week's Monday

    @property
    def dates(self) -> tuple[date, ...]:
        return tuple(self.starts_on + timedelta(days=offset) for offset in range(7))


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(
    session: Session, starts_on: date, library_id: int | None = None, adviser_id: int | None = None
) -> Week:
    """The week from Monday `starts_on`: each adviser's shifts day by day, with the days they are away.

    For a library: its shifts, and the advisers based there even without one. For an adviser: all theirs.
    Inactive advisers are listed (so a supervisor sees why nobody is there) but marked.
    """
    query = (
        select(Adviser).options(selectinload(Adviser.shifts)).order_by(func.lower(Adviser.name), Adviser.id)
    )
    if adviser_id is not None:
        query = query.where(Adviser.id == adviser_id)
    elif library_id is not None:
        works_there = select(AdviserShift.adviser_id).where(AdviserShift.library_id == library_id)
        query = query.where((Adviser.home_library_id == library_id) | Adviser.id.in_(works_there))
    advisers = list(session.scalars(query))
    ids = [adviser.id for adviser in advisers]
    exceptions = list(
        session.scalars(
            select(RotaException)
            .where(RotaException.adviser_id.in_(ids), RotaException.ends_on >= starts_on)
            .order_by(RotaException.starts_on, RotaException.id)
        )
    )
    libraries = dict(session.execute(select(Library.id, Library.name)).tuples().all())
    names = {adviser.id: adviser.name for adviser in advisers}
    rows = []
    for adviser in advisers:
        days = []
        for offset in range(7):
            day = starts_on + timedelta(days=offset)
            shifts = sorted(
                (s for s in adviser.shifts if s.weekday == day.weekday()),
                key=lambda s: s.starts,
            )
            if library_id is not None and adviser_id is None:
                shifts = [s for s in shifts if s.library_id == library_id]
            away = next(
                (
                    KINDS[e.kind]
                    for e in exceptions
                    if e.adviser_id == adviser.id and e.starts_on <= day <= e.ends_on
                ),
                None,
            )
            days.append(
                DayOfRota(
                    day,
                    tuple(
                        (s.id, f"{_hhmm(s.starts)} to {_hhmm(s.ends)}", libraries.get(s.library_id, ""))
                        for s in shifts
                    ),
                    away,
                )
            )
        rows.append(AdviserWeek(adviser.id, adviser.name, adviser.is_active, tuple(days)))
    away_lines = tuple(
        AwayLine(
            e.id, e.adviser_id, names[e.adviser_id], KINDS[e.kind], _days(e.starts_on, e.ends_on), e.note
        )
        for e in exceptions
    )
    return Week(starts_on, tuple(rows), away_lines)


def next_expected(session: Session, now: datetime) -> list[tuple[str, datetime | None]]:
    """For each topic, when advisers with its skill are next due to start by the rota (what callers hear when
    nobody is working), leave and sickness allowed for."""
    return [
        (TOPICS.get(topic.value, topic.value), advisers_next_expected(session, topic, now))
        for topic in (Topic.COUNCIL_TAX, Topic.HOUSING_BENEFIT, Topic.GENERAL)
    ]


def adviser_next_expected(session: Session, adviser_id: int, now: datetime) -> datetime | None:
    """When this adviser is next due to start a shift by the rota (days away, closures and being inactive
    allowed for, as for callers), or None."""
    inputs = slot_inputs(session, Topic.GENERAL, now)
    lines = [line for line in inputs.rota if line.adviser_id == adviser_id]
    return next_rostered_start(now, Topic.GENERAL.value, lines, inputs.libraries)


def today(now: datetime) -> date:
    return now.astimezone(LONDON).date()
