"""The callback slot finder: which one-hour slots can we promise a resident, and how do we say them?

Pure functions over plain data (no Flask, Redis or SQLAlchemy), so it is tested without I/O:

- a slot is a whole local hour (Europe/London), e.g. 10:00-11:00, inside a library session and a rostered shift;
- its capacity is the number of distinct advisers rostered for the whole hour at an open library (not closed
  by a bank holiday or a closure, even one from part-way through the day: see `ivr.hours`) who have the topic's skill, minus callbacks already
  booked in that hour for the topic. It is also never more than everyone rostered minus every booking in the
  hour, so advisers with two skills are not promised twice;
- slots are never in the past and never sooner than a minimum lead time, so an adviser can prepare;
- a rota line does not count on a day its adviser is away (leave, sickness: a models.RotaException).

    slots = available_slots(now, "council_tax", rota, libraries, booked, count=3)
    spoken_slot(slots[0].starts_at, slots[0].ends_at, now)  # "tomorrow, Thursday, between 10 and 11 am"
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ivr.hours import LONDON, LibraryHours, open_sessions
from ivr.hours_words import POLISH, clock_en_parts, clock_pl, spoken_day

GENERAL_TOPIC = "general"  # any adviser can take a general enquiry
MIN_LEAD = timedelta(minutes=30)
HORIZON_DAYS = 14
SLOT_LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class RotaLine:
    """One weekly rota line (an AdviserShift) with the skills of its adviser and the days they are away."""

    adviser_id: int
    library_id: int
    weekday: int  # Monday = 0, Europe/London
    starts: time
    ends: time
    skills: frozenset[str]
    # (first day, last day) of the adviser's leave, sickness or training, inclusive, Europe/London dates.
    away: tuple[tuple[date, date], ...] = ()

    def works_on(self, day: date) -> bool:
        """True when this line is worked on `day`: its weekday, and the adviser is not away."""
        return self.weekday == day.weekday() and not any(first <= day <= last for first, last in self.away)


@dataclass(frozen=True)
class Booking:
    """A callback already booked into a slot."""

    starts_at: datetime
    topic: str


@dataclass(frozen=True)
class Slot:
    """A one-hour window we can promise; times are tz-aware UTC."""

    starts_at: datetime
    ends_at: datetime
    free: int  # advisers still unbooked in it
    library_ids: tuple[int, ...]  # where its qualified advisers work, most advisers first


def available_slots(
    now: datetime,
    topic: str,
    rota: Sequence[RotaLine],
    libraries: Mapping[int, LibraryHours],
    booked: Sequence[Booking] = (),
    count: int | None = 3,
    lead: timedelta = MIN_LEAD,
    days: int = HORIZON_DAYS,
) -> list[Slot]:
    """Return the next `count` slots (all within `days` when None) with room for one more `topic` callback."""
    earliest = _utc(now) + lead
    found: list[Slot] = []
    for starts_at in _candidate_hours(now, rota, days):
        if starts_at < earliest:
            continue
        slot = slot_at(starts_at, topic, rota, libraries, booked)
        if slot is not None and slot.free > 0:
            found.append(slot)
            if count is not None and len(found) >= count:
                break
    return found


def slot_at(
    starts_at: datetime,
    topic: str,
    rota: Sequence[RotaLine],
    libraries: Mapping[int, LibraryHours],
    booked: Sequence[Booking] = (),
) -> Slot | None:
    """Return the slot starting at `starts_at` with its free capacity, or None when nobody works then."""
    starts_utc = _utc(starts_at)
    ends_utc = starts_utc + SLOT_LENGTH
    local_start, local_end = starts_utc.astimezone(LONDON), ends_utc.astimezone(LONDON)
    day = local_start.date()
    if local_end.date() != day or not _is_whole_hour(local_start):
        return None
    start_clock, end_clock = local_start.time().replace(tzinfo=None), local_end.time().replace(tzinfo=None)
    everyone: set[int] = set()
    qualified: dict[int, set[int]] = {}
    for line in rota:
        if not line.works_on(day) or not (line.starts <= start_clock and end_clock <= line.ends):
            continue
        hours = libraries.get(line.library_id)
        if hours is None or not _open_throughout(hours, day, local_start, local_end):
            continue
        everyone.add(line.adviser_id)
        if topic == GENERAL_TOPIC or topic in line.skills:
            qualified.setdefault(line.library_id, set()).add(line.adviser_id)
    if not qualified:
        return None
    in_slot = [b for b in booked if starts_utc <= _utc(b.starts_at) < ends_utc]
    same_topic = sum(1 for b in in_slot if b.topic == topic)
    qualified_count = len(set().union(*qualified.values()))
    free = min(qualified_count - same_topic, len(everyone) - len(in_slot))
    by_size = sorted(qualified, key=lambda library_id: (-len(qualified[library_id]), library_id))
    return Slot(starts_utc, ends_utc, max(free, 0), tuple(by_size))


def next_rostered_start(
    now: datetime,
    topic: str,
    rota: Sequence[RotaLine],
    libraries: Mapping[int, LibraryHours],
    days: int = HORIZON_DAYS,
) -> datetime | None:
    """When advisers for `topic` are next due: the earliest start after `now` of a rostered shift's time at an
    open library (bank holidays and closures skipped), in UTC; None if nobody is rostered within `days`.

    A shift already under way does not count: this is asked when nobody for the topic is working, so its
    advisers are not there, and the honest answer is the next time someone is due to start.
    """
    local_now = _utc(now).astimezone(LONDON)
    for offset in range(days + 1):
        day = local_now.date() + timedelta(days=offset)
        starts = []
        for line in rota:
            if not line.works_on(day) or not (topic == GENERAL_TOPIC or topic in line.skills):
                continue
            hours = libraries.get(line.library_id)
            if hours is None:
                continue
            shift_starts = datetime.combine(day, line.starts, tzinfo=LONDON)
            shift_ends = datetime.combine(day, line.ends, tzinfo=LONDON)
            for opens, closes in open_sessions(day, hours.opening_hours, hours.closures):
                start = max(opens, shift_starts)
                if start < min(closes, shift_ends):
                    starts.append(start)
        later = [moment for moment in starts if moment > local_now]
        if later:
            return min(later).astimezone(UTC)
    return None


def spoken_slot(starts_at: datetime, ends_at: datetime, now: datetime, language: str = "en-GB") -> str:
    """Say a slot the way a person would, relative to now, in UK local time, in Polish or else English.

    "today between 2 and 3 pm", "tomorrow, Thursday, between 10 and 11 am",
    "on Monday the 30th of November between 9 and 10 am";
    "dzisiaj między 14 a 15", "jutro, we wtorek, między 10 a 11", "w poniedziałek 30 listopada między 9 a 10".
    """
    start, end = starts_at.astimezone(LONDON), ends_at.astimezone(LONDON)
    day = spoken_day(start, _utc(now).astimezone(LONDON).date(), language)
    if language == POLISH:
        # The 24-hour clock is how Polish speakers give times, so there is no am/pm and no "noon".
        return f"{day} między {clock_pl(start.time())} a {clock_pl(end.time(), ending=True)}"
    return f"{day} {_between(start.time(), end.time())}"


def _between(start: time, end: time) -> str:
    start_words, start_half = clock_en_parts(start)
    end_words, end_half = clock_en_parts(end)
    if end_words == "12" and end_half == "pm":
        return f"between {start_words} {start_half} and 12 noon"
    if start_half == end_half:
        return f"between {start_words} and {end_words} {end_half}"
    return f"between {start_words} {start_half} and {end_words} {end_half}"


def _candidate_hours(now: datetime, rota: Sequence[RotaLine], days: int) -> Iterator[datetime]:
    """Every local whole hour that some rota line covers, in order, from today for `days` days."""
    today = _utc(now).astimezone(LONDON).date()
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        hours = sorted(
            {
                hour
                for line in rota
                if line.works_on(day)
                for hour in range(line.starts.hour, 24)
                if time(hour) >= line.starts and _hour_end(hour) <= line.ends
            }
        )
        for hour in hours:
            moment = _local_hour(day, hour)
            if moment is not None:
                yield moment


def _hour_end(hour: int) -> time:
    return time(hour + 1) if hour < 23 else time.max


def _local_hour(day: date, hour: int) -> datetime | None:
    """The UTC instant of a local whole hour, or None when that wall-clock hour does not exist or repeats."""
    local = datetime.combine(day, time(hour), tzinfo=LONDON)
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by the spring change
    if local.replace(fold=1).utcoffset() != local.utcoffset():
        return None  # happens twice in the autumn change: not a slot anyone can be promised
    return local.astimezone(UTC)


def _is_whole_hour(local: datetime) -> bool:
    return local.minute == 0 and local.second == 0 and local.microsecond == 0


def _open_throughout(hours: LibraryHours, day: date, start: datetime, end: datetime) -> bool:
    sessions = open_sessions(day, hours.opening_hours, hours.closures)
    return any(opens <= start and end <= closes for opens, closes in sessions)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("slots need tz-aware datetimes")
    return moment.astimezone(UTC)
