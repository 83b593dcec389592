"""Is a library (or the phone service as a whole) open now? Weekly hours, England & Wales bank holidays, closures.

Pure functions over plain data, so the engine, the router and the callback slot finder all agree:

- weekly hours are the Library model's JSON, ``{"mon": [["09:00", "17:00"]], ..., "sun": []}``, in
  Europe/London local time; a missing day means closed that day;
- closures are ``[{"date": "2026-12-24", "reason": "..."}]`` or ranges
  ``[{"starts_on": "2026-12-29", "ends_on": "2026-12-31", "reason": "..."}]`` (the LibraryClosure rows); a
  closure may also start or end part-way through a day (``"starts_at"``/``"ends_at"``, tz-aware ISO times: an
  emergency, "closed from 14:00 today"), and may carry ``"caller_message"``, the sentence callers hear;
- bank holidays come from the ``holidays`` package, GB subdivision "ENG" (England & Wales share them),
  including substitute days such as Monday 28 December 2026 for Boxing Day.

Times must be tz-aware; a naive datetime is refused because guessing its zone is how clocks go wrong at the
spring and autumn changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class HoursError(ValueError):
    """Opening-hours data that cannot be read; the message names the bad part."""


@dataclass(frozen=True)
class Closure:
    """A closure on top of the weekly hours: whole days (an inclusive range of dates), or from/until a moment.

    `starts_at`/`ends_at` (tz-aware) cut the first/last day: closed from `starts_at` (on `starts_on`) until
    `ends_at` (on or before the day after `ends_on`); None means from the start of `starts_on` / until the end
    of `ends_on`. `caller_message` is the sentence callers hear, written by staff ("" when there is none).
    """

    starts_on: date
    ends_on: date
    reason: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    caller_message: str = ""

    def start(self) -> datetime:
        """The moment the closure starts (Europe/London)."""
        return _london(self.starts_at) if self.starts_at else _midnight(self.starts_on)

    def end(self) -> datetime:
        """The moment the library may open again (Europe/London), exclusive."""
        return _london(self.ends_at) if self.ends_at else _midnight(self.ends_on + timedelta(days=1))

    def covers(self, day: date) -> bool:
        """Whether the closure lasts the whole of `day` (a closure from 14:00 does not cover its first day)."""
        return self.start() <= _midnight(day) and _midnight(day + timedelta(days=1)) <= self.end()

    def in_effect_at(self, moment: datetime) -> bool:
        return self.start() <= _london(moment) < self.end()

    def touches(self, day: date) -> bool:
        """Whether any part of `day` is inside the closure."""
        return self.start() < _midnight(day + timedelta(days=1)) and _midnight(day) < self.end()


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening sessions per day (mon..sun), each a (start, end) pair of local times."""

    sessions: tuple[tuple[tuple[time, time], ...], ...]  # indexed by weekday, Monday = 0

    def on(self, day: date) -> tuple[tuple[time, time], ...]:
        return self.sessions[day.weekday()]


@dataclass(frozen=True)
class LibraryHours:
    """One library hub's hours and closures, named for the journey record."""

    name: str
    opening_hours: OpeningHours
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True)
class HoursDecision:
    """Open or closed, and why in words an adviser understands ("Christmas Day", "outside opening hours")."""

    is_open: bool
    reason: str


def parse_opening_hours(data: Mapping[str, Any]) -> OpeningHours:
    """Read the Library model's weekly-hours JSON; raise HoursError naming the first bad entry."""
    if not isinstance(data, Mapping):
        raise HoursError("opening hours must be an object keyed mon..sun")
    unknown = sorted(set(data) - set(DAYS))
    if unknown:
        raise HoursError(f"unknown day(s) in opening hours: {', '.join(map(str, unknown))}")
    week: list[tuple[tuple[time, time], ...]] = []
    for day in DAYS:
        raw_sessions = data.get(day, [])
        if not isinstance(raw_sessions, list):
            raise HoursError(f"{day}: expected a list of [start, end] pairs")
        sessions = []
        for raw in raw_sessions:
            if not (isinstance(raw, list | tuple) and len(raw) == 2):
                raise HoursError(f"{day}: expected [start, end], got {raw!r}")
            start, end = (_clock_time(day, value) for value in raw)
            if start >= end:
                raise HoursError(f"{day}: session {raw[0]}-{raw[1]} ends before it starts")
            sessions.append((start, end))
        week.append(tuple(sorted(sessions)))
    return OpeningHours(sessions=tuple(week))


def parse_closures(data: Iterable[Mapping[str, Any]] | None) -> tuple[Closure, ...]:
    """Read closures: single days ("date"), ranges ("starts_on"/"ends_on"), or moments ("starts_at"/"ends_at",
    from which missing dates are taken); "reason" and "caller_message" are optional."""
    closures = []
    for raw in data or ():
        if not isinstance(raw, Mapping):
            raise HoursError(f"closure must be an object, got {raw!r}")
        starts_at, ends_at = _moment(raw.get("starts_at")), _moment(raw.get("ends_at"))
        try:
            if "date" in raw:
                starts_on = ends_on = _iso_date(raw["date"])
            else:
                if raw.get("starts_on") or starts_at is None:
                    starts_on = _iso_date(raw["starts_on"])
                else:
                    starts_on = _london(starts_at).date()
                if raw.get("ends_on") or (ends_at is None and starts_at is None):
                    ends_on = _iso_date(raw["ends_on"])
                else:  # until `ends_at`, or with neither: until the end of the day it starts
                    ends_on = _last_day(ends_at) if ends_at is not None else starts_on
        except KeyError as missing:
            raise HoursError(f"closure needs 'date' or 'starts_on'/'ends_on', missing {missing}") from None
        if ends_on < starts_on:
            raise HoursError(f"closure {starts_on}..{ends_on} ends before it starts")
        closure = Closure(
            starts_on,
            ends_on,
            str(raw.get("reason") or "closed"),
            starts_at,
            ends_at,
            str(raw.get("caller_message") or ""),
        )
        if closure.end() <= closure.start():
            raise HoursError(f"closure {closure.start():%Y-%m-%d %H:%M} ends before it starts")
        closures.append(closure)
    return tuple(closures)


def closure_of(row: Any) -> dict[str, Any]:
    """A LibraryClosure row (anything with its attributes) as the closure data `parse_closures` reads."""
    starts_at, ends_at = getattr(row, "starts_at", None), getattr(row, "ends_at", None)
    return {
        "starts_on": row.starts_on.isoformat(),
        "ends_on": row.ends_on.isoformat(),
        "reason": row.reason,
        "starts_at": starts_at.isoformat() if starts_at else None,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "caller_message": getattr(row, "caller_message", None) or "",
    }


def parse_library_hours(name: str, opening_hours: Mapping[str, Any], closures: Any = None) -> LibraryHours:
    """Read one library's JSON into LibraryHours."""
    return LibraryHours(name, parse_opening_hours(opening_hours), parse_closures(closures))


def bank_holiday(day: date) -> str | None:
    """Return the England & Wales bank holiday on this day, e.g. "Boxing Day (observed)", or None."""
    return _england_holidays(day.year).get(day)


def closed_reason(
    day: date, closures: Sequence[Closure] = (), observe_bank_holidays: bool = True
) -> str | None:
    """Return why the whole day is closed (bank holiday or dated closure), or None."""
    if observe_bank_holidays:
        holiday = bank_holiday(day)
        if holiday:
            return holiday
    for closure in closures:
        if closure.covers(day):
            return closure.reason
    return None


def closure_at(moment: datetime, closures: Sequence[Closure] = ()) -> Closure | None:
    """The closure in effect at `moment` (the first listed, if several), or None."""
    return next((closure for closure in closures if closure.in_effect_at(moment)), None)


def open_sessions(
    day: date,
    opening_hours: OpeningHours,
    closures: Sequence[Closure] = (),
    observe_bank_holidays: bool = True,
) -> tuple[tuple[datetime, datetime], ...]:
    """The library's open times on `day` (Europe/London), after bank holidays and closures cut them.

    A closure from 14:00 turns a 09:00-17:00 day into 09:00-14:00; one until 12:00, into 12:00-17:00.
    """
    if closed_reason(day, closures, observe_bank_holidays):
        return ()
    sessions = [
        (datetime.combine(day, start, tzinfo=LONDON), datetime.combine(day, end, tzinfo=LONDON))
        for start, end in opening_hours.on(day)
    ]
    for closure in closures:
        if not closure.touches(day):
            continue
        shut_from, shut_until = closure.start(), closure.end()
        cut = []
        for opens, closes in sessions:
            if closes <= shut_from or shut_until <= opens:
                cut.append((opens, closes))
                continue
            if opens < shut_from:
                cut.append((opens, shut_from))
            if shut_until < closes:
                cut.append((shut_until, closes))
        sessions = cut
    return tuple(sessions)


def is_open(
    now: datetime,
    opening_hours: OpeningHours,
    closures: Sequence[Closure] = (),
    observe_bank_holidays: bool = True,
) -> HoursDecision:
    """Decide whether a library is open at `now` (tz-aware), start inclusive, end exclusive."""
    local = _london(now)
    closure = closure_at(local, closures)
    if closure is not None:
        return HoursDecision(False, closure.reason)
    reason = closed_reason(local.date(), closures, observe_bank_holidays)
    if reason:
        return HoursDecision(False, reason)
    for start, end in open_sessions(local.date(), opening_hours, closures, observe_bank_holidays):
        if start <= local < end:
            return HoursDecision(True, f"open until {end:%H:%M}")
    return HoursDecision(False, "outside opening hours")


def service_open(
    now: datetime, libraries: Sequence[LibraryHours], observe_bank_holidays: bool = True
) -> HoursDecision:
    """Decide whether the phone service is open: it is while at least one library hub is open."""
    reasons = []
    for library in libraries:
        decision = is_open(now, library.opening_hours, library.closures, observe_bank_holidays)
        if decision.is_open:
            return HoursDecision(True, f"{library.name} {decision.reason}")
        reasons.append(decision.reason)
    if not reasons:
        return HoursDecision(False, "no opening hours known")
    # Every hub shut for the same reason (a bank holiday) reads better than a list.
    return HoursDecision(False, reasons[0] if len(set(reasons)) == 1 else "all libraries closed")


def next_opening(
    now: datetime,
    opening_hours: OpeningHours,
    closures: Sequence[Closure] = (),
    observe_bank_holidays: bool = True,
    within_days: int = 21,
) -> datetime | None:
    """Return when the library next opens (Europe/London), or None if not within `within_days`."""
    local = _london(now)
    for offset in range(within_days + 1):
        day = local.date() + timedelta(days=offset)
        for opens, closes in open_sessions(day, opening_hours, closures, observe_bank_holidays):
            if opens > local:
                return opens
            if closes > local:
                return local  # open right now
    return None


def _london(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("opening hours need a tz-aware datetime")
    return now.astimezone(LONDON)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LONDON)


def _last_day(ends_at: datetime) -> date:
    """The last local day a closure ending at `ends_at` touches (one ending at midnight ends the day before)."""
    local = _london(ends_at)
    return local.date() - timedelta(days=1) if local == _midnight(local.date()) else local.date()


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise HoursError(f"{value!r} is not an ISO date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise HoursError(f"{value!r} has no time zone")
    return moment


def _clock_time(day: str, value: Any) -> time:
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise HoursError(f"{day}: {value!r} is not a 24-hour HH:MM time")
    return time.fromisoformat(value)


def _iso_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise HoursError(f"{value!r} is not a YYYY-MM-DD date") from None


@lru_cache(maxsize=16)
def _england_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=year)
