"""What counts as answered, abandoned and within service level: one definition for the wallboard and the reports.

A caller is counted once per place they took in the queue (a `QueueEntry` of a real phone call; the virtual
entries of keep-your-place callbacks and the desk's direct call-backs are callbacks, reported as such):

- answered: an adviser accepted them (`connected_at` is set); their wait is joining to accepting;
- answered in time: answered within `ServiceRules.answered_within` (SERVICE_LEVEL_SECONDS, default 60 s);
- abandoned: they hung up while waiting, after at least `ServiceRules.short_abandon` (SHORT_ABANDON_SECONDS,
  default 5 s); sooner than that is a short abandon (a misdial, a change of mind), counted apart;
- service level = answered in time / (answered + abandoned); abandonment rate = abandoned / (answered +
  abandoned); average speed of answer = the mean wait of the answered. Callers who left for a callback or were
  offered one are neither: they are counted as such.

Figures are computed in SQL (one grouped aggregate, indexes on `queue_entry`), on PostgreSQL and SQLite alike;
`seconds_between` and `local_date`/`local_hour` are the two pieces the dialects spell differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Float, Integer, and_, case, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from models import QueueEntry, QueueEntryStatus

COUNCIL_TIME = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class ServiceRules:
    """The council's definitions, from settings (service_level_seconds, short_abandon_seconds)."""

    answered_within: timedelta = timedelta(seconds=60)
    short_abandon: timedelta = timedelta(seconds=5)

    @classmethod
    def from_settings(cls, settings: Any) -> ServiceRules:
        return cls(
            answered_within=timedelta(seconds=settings.service_level_seconds),
            short_abandon=timedelta(seconds=settings.short_abandon_seconds),
        )


@dataclass(frozen=True)
class ServiceFigures:
    """The queue's figures for one group (a library, a topic, a day, an hour) over a period."""

    joined: int = 0  # callers who joined the queue
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0  # after the short-abandon limit
    short_abandoned: int = 0
    to_callback: int = 0  # left for a callback, or offered one when the queue was closed to them
    answer_seconds: float = 0.0  # total wait of the answered

    @property
    def counted(self) -> int:
        """The denominator of service level and abandonment: answered + abandoned (short abandons left out)."""
        return self.answered + self.abandoned

    @property
    def service_level(self) -> float | None:
        """Share answered in time, 0..1; None when nobody was answered or abandoned (nothing to say)."""
        return self.answered_in_time / self.counted if self.counted else None

    @property
    def abandonment_rate(self) -> float | None:
        return self.abandoned / self.counted if self.counted else None

    @property
    def average_speed_of_answer(self) -> float | None:
        """Mean seconds from joining the queue to an adviser accepting; None when nobody was answered."""
        return self.answer_seconds / self.answered if self.answered else None


class seconds_between(FunctionElement[float]):  # noqa: N801 - reads as the SQL function it stands for
    """`seconds_between(later, earlier)`: the seconds from one timestamp column to another, as a float."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"


@compiles(seconds_between)
def _seconds_between_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # julianday() is a float of days: round to the millisecond, or 60 s comes out as 60.00004 s.
    return f"round((julianday({later}) - julianday({earlier})) * 86400.0, 3)"


class _local(FunctionElement[Any]):
    """A timestamp column in the council's clock (Europe/London), shifted by the UTC offsets of the period.

    PostgreSQL has the time zone database (`timezone('Europe/London', ts)`); SQLite has none, so the offset is a
    CASE over the period's daylight-saving changes, worked out here with zoneinfo.
    """

    inherit_cache = False

    def __init__(self, column: ColumnElement[datetime], part: str, since: datetime, until: datetime) -> None:
        self.part, self.since, self.until = part, since, until
        super().__init__(column)


@compiles(_local, "postgresql")
def _local_postgresql(element: _local, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    local = f"timezone('{COUNCIL_TIME.key}', {compiler.process(column, **kw)})"
    return (
        f"CAST({local} AS DATE)" if element.part == "date" else f"CAST(EXTRACT(HOUR FROM {local}) AS INTEGER)"
    )


@compiles(_local)
def _local_sqlite(element: _local, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    shift = compiler.process(_offset_seconds(column, element.since, element.until), **kw)
    local = f"datetime({compiler.process(column, **kw)}, ({shift}) || ' seconds')"
    return f"date({local})" if element.part == "date" else f"CAST(strftime('%H', {local}) AS INTEGER)"


def _offset_seconds(column: ColumnElement[datetime], since: datetime, until: datetime) -> ColumnElement[int]:
    """CASE column: the council clock's UTC offset in seconds, for each stretch between offset changes."""
    stretches: list[tuple[datetime, int]] = []  # (from this instant, this offset)
    moment = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    offset = None
    while moment <= until + timedelta(hours=1):
        current = int(moment.astimezone(COUNCIL_TIME).utcoffset().total_seconds())  # type: ignore[union-attr]
        if current != offset:
            stretches.append((moment, current))
            offset = current
        moment += timedelta(hours=1)
    if len(stretches) == 1:
        return literal(stretches[0][1], Integer)
    whens = [(column >= start, literal(seconds, Integer)) for start, seconds in reversed(stretches[1:])]
    return case(*whens, else_=literal(stretches[0][1], Integer))


def local_date(column: ColumnElement[datetime], since: datetime, until: datetime) -> ColumnElement[date]:
    """The council's calendar day of a timestamp (for columns between `since` and `until`)."""
    return _local(column, "date", since, until)  # type: ignore[return-value]


def local_hour(column: ColumnElement[datetime], since: datetime, until: datetime) -> ColumnElement[int]:
    """The hour of the council's clock, 0..23, of a timestamp (for columns between `since` and `until`)."""
    return _local(column, "hour", since, until)  # type: ignore[return-value]


def phone_callers() -> ColumnElement[bool]:
    """Queue places of residents on the phone (not virtual keep-your-place entries, not desk call-backs)."""
    return and_(
        QueueEntry.call_id.is_not(None), QueueEntry.callback_id.is_(None), QueueEntry.direct.is_(False)
    )


def service_figures(
    session: Session,
    since: datetime,
    until: datetime,
    rules: ServiceRules,
    group_by: ColumnElement[Any] | None = None,
) -> dict[Any, ServiceFigures]:
    """The figures of callers who joined the queue in [since, until), per value of `group_by` (None: all)."""
    wait_to_answer = seconds_between(QueueEntry.connected_at, QueueEntry.joined_at)
    wait_to_hang_up = seconds_between(QueueEntry.ended_at, QueueEntry.joined_at)
    answered = QueueEntry.connected_at.is_not(None)
    abandoned = and_(QueueEntry.status == QueueEntryStatus.ABANDONED, QueueEntry.ended_at.is_not(None))
    short = rules.short_abandon.total_seconds()

    def count_of(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    key = group_by if group_by is not None else literal(None)
    rows = session.execute(
        select(
            key.label("key"),
            func.count(QueueEntry.id),
            count_of(answered),
            count_of(and_(answered, wait_to_answer <= rules.answered_within.total_seconds())),
            count_of(and_(abandoned, wait_to_hang_up >= short)),
            count_of(and_(abandoned, wait_to_hang_up < short)),
            count_of(
                QueueEntry.status.in_((QueueEntryStatus.LEFT_FOR_CALLBACK, QueueEntryStatus.CALLBACK_OFFERED))
            ),
            func.coalesce(func.sum(case((answered, wait_to_answer), else_=0.0)), 0.0),
        )
        .where(phone_callers(), QueueEntry.joined_at >= since, QueueEntry.joined_at < until)
        .group_by(key)
    ).all()
    return {
        row[0]: ServiceFigures(
            joined=int(row[1]),
            answered=int(row[2]),
            answered_in_time=int(row[3]),
            abandoned=int(row[4]),
            short_abandoned=int(row[5]),
            to_callback=int(row[6]),
            answer_seconds=float(row[7]),
        )
        for row in rows
    }
