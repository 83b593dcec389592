"""Is a library (or the phone service as a whole) open now? Weekly hours, England & Wales bank holidays, closures.

Pure functions over plain data, so the engine, the router and the callback slot finder all agree:

- weekly hours are the Library model's JSON, ``{"mon": [["09:00", "17:00"]], ..., "sun": []}``, in
  Europe/London local time; a missing day means closed that day;
- closures are ``[{"date": "2026-12-24", "reason": "..."}]`` or ranges
  ``[{"starts_on": "2026-12-29", "ends_on": "2026-12-31", "reason": "..."}]`` (the LibraryClosure rows);
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
    """A dated closure, one day or an inclusive range, with the reason callers and staff see."""

    starts_on: date
    ends_on: date
    reason: str

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


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
    """Read dated closures, single days ("date") or ranges ("starts_on"/"ends_on")."""
    closures = []
    for raw in data or ():
        if not isinstance(raw, Mapping):
            raise HoursError(f"closure must be an object, got {raw!r}")
        try:
            if "date" in raw:
                starts_on = ends_on = _iso_date(raw["date"])
            else:
                starts_on, ends_on = _iso_date(raw["starts_on"]), _iso_date(raw["ends_on"])
        except KeyError as missing:
            raise HoursError(f"closure needs 'date' or 'starts_on'/'ends_on', missing {missing}") from None
        if ends_on < starts_on:
            raise HoursError(f"closure {starts_on}..{ends_on} ends before it starts")
        closures.append(Closure(starts_on, ends_on, str(raw.get("reason") or "closed")))
    return tuple(closures)


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


def is_open(
    now: datetime,
    opening_hours: OpeningHours,
    closures: Sequence[Closure] = (),
    observe_bank_holidays: bool = True,
) -> HoursDecision:
    """Decide whether a library is open at `now` (tz-aware), start inclusive, end exclusive."""
    local = _london(now)
    reason = closed_reason(local.date(), closures, observe_bank_holidays)
    if reason:
        return HoursDecision(False, reason)
    clock = local.time().replace(tzinfo=None)
    for start, end in opening_hours.on(local.date()):
        if start <= clock < end:
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
        if closed_reason(day, closures, observe_bank_holidays):
            continue
        for start, end in opening_hours.on(day):
            opens = datetime.combine(day, start, tzinfo=LONDON)
            if opens > local:
                return opens
            if datetime.combine(day, end, tzinfo=LONDON) > local:
                return local  # open right now
    return None


def _london(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("opening hours need a tz-aware datetime")
    return now.astimezone(LONDON)


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
