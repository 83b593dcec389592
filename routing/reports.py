"""The queue's reports over a range of the council's days: calls by day and by hour, service level, speed of
answer, abandonment and when callers give up, and the load on each library.

Every figure is one grouped SQL aggregate over an indexed time range (`call.started_at`, `queue_entry.joined_at`),
on PostgreSQL and SQLite alike, using routing.service_level's definitions; Python only fills the days and hours
with no calls and joins the groups by key. Nothing here loops over calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from models import Adviser, Call, Library, QueueEntry, QueueEntryStatus
from routing.service_level import (
    COUNCIL_TIME,
    ServiceFigures,
    ServiceRules,
    local_date,
    local_hour,
    phone_callers,
    seconds_between,
    service_figures,
)

LONGEST_PERIOD = timedelta(days=366)  # a year at a time: the reports' query plans are made for that


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, both council days (Europe/London)."""

    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=COUNCIL_TIME)

    @property
    def until(self) -> datetime:
        after = self.last + timedelta(days=1)
        return datetime(after.year, after.month, after.day, tzinfo=COUNCIL_TIME)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True)
class Slice:
    """One day, hour or library of a report: the calls that started in it and the queue's figures."""

    key: object
    calls: int
    service: ServiceFigures


def _calls_started(session: Session, period: Period, key_of) -> dict[object, int]:  # noqa: ANN001
    key = key_of(Call.started_at)
    rows = session.execute(
        select(key, func.count(Call.id))
        .where(Call.started_at >= period.since, Call.started_at < period.until)
        .group_by(key)
    ).all()
    return {value: int(count) for value, count in rows}


def _as_date(value: object) -> object:
    """SQLite's date() is a string; PostgreSQL's a date."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def overall(session: Session, period: Period, rules: ServiceRules) -> Slice:
    """The whole period in one: calls started, and the queue's figures."""
    calls = session.scalar(
        select(func.count(Call.id)).where(Call.started_at >= period.since, Call.started_at < period.until)
    )
    figures = service_figures(session, period.since, period.until, rules).get(None, ServiceFigures())
    return Slice(None, int(calls or 0), figures)


def by_day(session: Session, period: Period, rules: ServiceRules) -> list[Slice]:
    """Each day of the period, days without calls included (as zeros)."""

    def day_of(column):  # noqa: ANN001, ANN202
        return local_date(column, period.since, period.until)

    calls = {_as_date(k): v for k, v in _calls_started(session, period, day_of).items()}
    queue = service_figures(session, period.since, period.until, rules, day_of(QueueEntry.joined_at))
    queue = {_as_date(k): v for k, v in queue.items()}
    return [Slice(day, calls.get(day, 0), queue.get(day, ServiceFigures())) for day in period.days()]


def by_hour(session: Session, period: Period, rules: ServiceRules) -> list[Slice]:
    """Each hour of the council's clock that had calls, and the hours between them, over the whole period."""

    def hour_of(column):  # noqa: ANN001, ANN202
        return local_hour(column, period.since, period.until)

    calls = {int(k): v for k, v in _calls_started(session, period, hour_of).items() if k is not None}
    queue = {
        int(k): v
        for k, v in service_figures(
            session, period.since, period.until, rules, hour_of(QueueEntry.joined_at)
        ).items()
        if k is not None
    }
    hours = set(calls) | set(queue)
    if not hours:
        return []
    return [
        Slice(hour, calls.get(hour, 0), queue.get(hour, ServiceFigures()))
        for hour in range(min(hours), max(hours) + 1)
    ]


# Waits before hanging up, in bands a supervisor reads; the first is the short abandons, counted apart.
GIVE_UP_BANDS: tuple[tuple[str, float | None], ...] = (
    ("under 5 seconds (short abandons)", 5),
    ("5 to 30 seconds", 30),
    ("30 seconds to 1 minute", 60),
    ("1 to 2 minutes", 120),
    ("2 to 5 minutes", 300),
    ("5 to 10 minutes", 600),
    ("10 to 20 minutes", 1200),
    ("20 minutes or more", None),
)


def give_up_waits(session: Session, period: Period, rules: ServiceRules) -> list[tuple[str, int]]:
    """How long callers who hung up in the queue had waited: (band, callers), every band listed.

    The first band's upper end is the council's short-abandon limit, so it holds exactly the short abandons.
    """
    waited = seconds_between(QueueEntry.ended_at, QueueEntry.joined_at)
    limits = [
        (label, rules.short_abandon.total_seconds() if n == 0 else upper)
        for n, (label, upper) in enumerate(GIVE_UP_BANDS)
    ]
    band = case(
        *[(waited < upper, literal(n)) for n, (_, upper) in enumerate(limits) if upper is not None],
        else_=literal(len(limits) - 1),
    )
    rows = session.execute(
        select(band, func.count(QueueEntry.id))
        .where(
            phone_callers(),
            QueueEntry.joined_at >= period.since,
            QueueEntry.joined_at < period.until,
            QueueEntry.status == QueueEntryStatus.ABANDONED,
            QueueEntry.ended_at.is_not(None),
        )
        .group_by(band)
    ).all()
    counted = {int(n): int(count) for n, count in rows}
    return [(label, counted.get(n, 0)) for n, (label, _) in enumerate(limits)]


@dataclass(frozen=True)
class LibraryLoad:
    """One library's share of the work: callers it was home to, and calls its advisers answered."""

    library: str
    callers: ServiceFigures  # callers whose home library it was (their last library, or the default)
    answered_by_its_advisers: int
    answered_seconds: float  # their callers' total wait, for the speed of answer of its advisers


def library_load(session: Session, period: Period, rules: ServiceRules) -> list[LibraryLoad]:
    """Every library (and callers with none), with its callers' figures and what its advisers answered."""
    homes = service_figures(session, period.since, period.until, rules, QueueEntry.home_library_id)
    answered = QueueEntry.connected_at.is_not(None)
    wait = seconds_between(QueueEntry.connected_at, QueueEntry.joined_at)
    by_advisers = {
        library_id: (int(count), float(seconds or 0.0))
        for library_id, count, seconds in session.execute(
            select(Adviser.home_library_id, func.count(QueueEntry.id), func.sum(wait))
            .join(Adviser, Adviser.id == QueueEntry.adviser_id)
            .where(
                and_(phone_callers(), answered),
                QueueEntry.joined_at >= period.since,
                QueueEntry.joined_at < period.until,
            )
            .group_by(Adviser.home_library_id)
        ).all()
    }
    rows = [
        LibraryLoad(
            name,
            homes.get(library_id, ServiceFigures()),
            *by_advisers.get(library_id, (0, 0.0)),
        )
        for library_id, name in session.execute(select(Library.id, Library.name).order_by(Library.name))
    ]
    if None in homes:
        rows.append(LibraryLoad("No home library", homes[None], 0, 0.0))
    return rows
