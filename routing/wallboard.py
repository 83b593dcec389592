"""The supervisor's wallboard figures: who waits now, advisers by state, today's service, callbacks; per library,
per topic and for the whole council.

Plain functions over the database (the truth; Redis is only its fast copy), so the page, its live fragment and
the Prometheus scrape all show the same numbers. "Today" is the council's day (Europe/London) up to now;
answered, abandoned, short abandons, service level and average speed of answer come from routing.service_level,
never defined again here. Colours come with words (`Status.words`), at the thresholds in `Thresholds`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import (
    ACTIVE_CALLBACK_STATUSES,
    ACTIVE_QUEUE_ENTRY_STATUSES,
    Adviser,
    AdviserSkill,
    AdviserState,
    Callback,
    CallbackStatus,
    Library,
    QueueEntry,
    Topic,
)
from routing.contacts import TOPICS
from routing.service_level import COUNCIL_TIME, ServiceFigures, ServiceRules, phone_callers, service_figures

# The advisers' states in the order the wallboard shows them, with their words.
STATES: tuple[tuple[AdviserState, str], ...] = (
    (AdviserState.AVAILABLE, "Available"),
    (AdviserState.ON_CALL, "On a call"),
    (AdviserState.WRAP_UP, "Wrap-up"),
    (AdviserState.BREAK, "Break"),
    (AdviserState.CUSTOMER_AT_DESK, "Customer at desk"),
    (AdviserState.OFFLINE, "Offline"),
)
NO_LIBRARY = "No home library"  # callers whose home library is unknown, callbacks for no library


@dataclass(frozen=True)
class Thresholds:
    """When a figure turns amber or red (WALLBOARD_* settings)."""

    wait_amber: timedelta = timedelta(minutes=2)
    wait_red: timedelta = timedelta(minutes=5)
    service_level_target: float = 0.8  # share answered in time, 0..1
    callback_grace: timedelta = timedelta(minutes=5)  # a callback this late is overdue

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(
            wait_amber=timedelta(seconds=settings.wallboard_wait_amber_seconds),
            wait_red=timedelta(seconds=settings.wallboard_wait_red_seconds),
            service_level_target=settings.wallboard_service_level_target / 100,
            callback_grace=timedelta(seconds=settings.wallboard_callback_grace_seconds),
        )


@dataclass(frozen=True)
class Status:
    """A figure's standing in words, and the GOV.UK tag colour that goes with them (never the colour alone)."""

    words: str
    colour: str  # a govuk-tag modifier: green, yellow, red, grey

    @property
    def level(self) -> int:
        """0 fine, 1 needs an eye, 2 needs action: for the page's announcements and the gauges."""
        return {"red": 2, "yellow": 1}.get(self.colour, 0)


@dataclass(frozen=True)
class Figures:
    """One row of the wallboard: a library, a topic, or the council as a whole."""

    key: str  # library name, topic value, or "all"
    name: str  # the words shown
    waiting: int = 0
    longest_wait_seconds: float | None = None
    advisers: dict[AdviserState, int] = field(default_factory=dict)
    service: ServiceFigures = field(default_factory=ServiceFigures)
    callbacks_due: int = 0
    callbacks_overdue: int = 0
    callbacks_failed: int = 0

    def advisers_in(self, state: AdviserState) -> int:
        return self.advisers.get(state, 0)

    @property
    def advisers_signed_in(self) -> int:
        return sum(count for state, count in self.advisers.items() if state != AdviserState.OFFLINE)

    def wait_status(self, thresholds: Thresholds) -> Status:
        longest = self.longest_wait_seconds or 0.0
        if longest >= thresholds.wait_red.total_seconds():
            return Status("Very long wait", "red")
        if longest >= thresholds.wait_amber.total_seconds():
            return Status("Long wait", "yellow")
        return Status("No one waiting" if not self.waiting else "Short wait", "green")

    def service_status(self, thresholds: Thresholds) -> Status:
        level = self.service.service_level
        if level is None:
            return Status("No calls yet", "grey")
        if level >= thresholds.service_level_target:
            return Status("On target", "green")
        return Status("Below target", "red")

    def callbacks_status(self) -> Status:
        if self.callbacks_overdue:
            return Status("Overdue", "red")
        if self.callbacks_failed:
            return Status("Some failed", "yellow")
        return Status("On time", "green")


@dataclass(frozen=True)
class Wallboard:
    at: datetime
    since: datetime  # the start of the council's day
    thresholds: Thresholds
    rules: ServiceRules
    overall: Figures
    libraries: tuple[Figures, ...]
    topics: tuple[Figures, ...]


def start_of_council_day(now: datetime) -> datetime:
    """Midnight in Huddersfield today, as an aware datetime (UTC offset of that midnight)."""
    return datetime.combine(now.astimezone(COUNCIL_TIME).date(), time(0), tzinfo=COUNCIL_TIME)


def wallboard(session: Session, now: datetime, rules: ServiceRules, thresholds: Thresholds) -> Wallboard:
    """Today's figures up to `now`, per library (every library, then callers of no known library), per topic."""
    since = start_of_council_day(now)
    end_of_day = datetime.combine(since.date() + timedelta(days=1), time(0), tzinfo=COUNCIL_TIME)
    library_names = dict(
        session.execute(select(Library.id, Library.name).order_by(Library.name)).tuples().all()
    )

    waiting = _waiting(session, now)
    advisers_by_library = _count_by(
        session,
        select(Adviser.home_library_id, Adviser.state, func.count(Adviser.id)),
        Adviser.home_library_id,
    )
    advisers_by_topic = _count_by(
        session,
        select(AdviserSkill.topic, Adviser.state, func.count(Adviser.id)).join(
            Adviser, AdviserSkill.adviser_id == Adviser.id
        ),
        AdviserSkill.topic,
    )
    advisers_overall = _count_by(session, select(Adviser.state, func.count(Adviser.id)), None)
    service_by_library = service_figures(session, since, now, rules, group_by=QueueEntry.home_library_id)
    service_by_topic = service_figures(session, since, now, rules, group_by=QueueEntry.topic)
    service_overall = service_figures(session, since, now, rules).get(None, ServiceFigures())
    callbacks_by_library = _callbacks(session, now, since, end_of_day, thresholds, Callback.library_id)
    callbacks_by_topic = _callbacks(session, now, since, end_of_day, thresholds, Callback.topic)
    callbacks_overall = _callbacks(session, now, since, end_of_day, thresholds, None).get(None, (0, 0, 0))

    def row(key: Any, name: str, by: str) -> Figures:
        groups = {
            "library": (waiting.by_library, advisers_by_library, service_by_library, callbacks_by_library),
            "topic": (waiting.by_topic, advisers_by_topic, service_by_topic, callbacks_by_topic),
        }[by]
        count, longest = groups[0].get(key, (0, None))
        due, overdue, failed = groups[3].get(key, (0, 0, 0))
        return Figures(
            key=name if by == "library" else str(key),
            name=name,
            waiting=count,
            longest_wait_seconds=longest,
            advisers=groups[1].get(key, {}),
            service=groups[2].get(key, ServiceFigures()),
            callbacks_due=due,
            callbacks_overdue=overdue,
            callbacks_failed=failed,
        )

    libraries = [row(library_id, name, "library") for library_id, name in library_names.items()]
    if _has_unknown(waiting.by_library, service_by_library, callbacks_by_library):
        libraries.append(row(None, NO_LIBRARY, "library"))
    topics = [row(topic, TOPICS.get(topic.value, topic.value), "topic") for topic in Topic]
    count, longest = waiting.overall
    overall = Figures(
        key="all",
        name="All libraries",
        waiting=count,
        longest_wait_seconds=longest,
        advisers=advisers_overall.get(None, {}),
        service=service_overall,
        callbacks_due=callbacks_overall[0],
        callbacks_overdue=callbacks_overall[1],
        callbacks_failed=callbacks_overall[2],
    )
    return Wallboard(now, since, thresholds, rules, overall, tuple(libraries), tuple(topics))


@dataclass(frozen=True)
class _Waiting:
    by_library: dict[Any, tuple[int, float | None]]
    by_topic: dict[Any, tuple[int, float | None]]
    overall: tuple[int, float | None]


def _waiting(session: Session, now: datetime) -> _Waiting:
    """Residents on the line for an adviser now (waiting, or being offered), and since when the longest has."""
    rows = session.execute(
        select(
            QueueEntry.home_library_id,
            QueueEntry.topic,
            func.count(QueueEntry.id),
            func.min(QueueEntry.joined_at),
        )
        .where(phone_callers(), QueueEntry.status.in_(ACTIVE_QUEUE_ENTRY_STATUSES))
        .group_by(QueueEntry.home_library_id, QueueEntry.topic)
    ).all()

    def gather(pairs: Iterable[tuple[Any, int, datetime]]) -> dict[Any, tuple[int, float | None]]:
        counts: dict[Any, int] = defaultdict(int)
        earliest: dict[Any, datetime] = {}
        for key, count, joined in pairs:
            counts[key] += count
            earliest[key] = min(joined, earliest.get(key, joined))
        return {key: (counts[key], max(0.0, (now - earliest[key]).total_seconds())) for key in counts}

    overall = gather((None, count, joined) for _, _, count, joined in rows).get(None, (0, None))
    return _Waiting(
        by_library=gather((library, count, joined) for library, _, count, joined in rows),
        by_topic=gather((topic, count, joined) for _, topic, count, joined in rows),
        overall=overall,
    )


def _count_by(
    session: Session, query: Any, key: ColumnElement[Any] | None
) -> dict[Any, dict[AdviserState, int]]:
    """{group: {state: advisers}} from a (group, state, count) or (state, count) select."""
    group = (key, Adviser.state) if key is not None else (Adviser.state,)
    counted: dict[Any, dict[AdviserState, int]] = defaultdict(dict)
    for row in session.execute(query.group_by(*group)).all():
        *keys, state, count = row
        counted[keys[0] if keys else None][AdviserState(state)] = int(count)
    return dict(counted)


def _callbacks(
    session: Session,
    now: datetime,
    since: datetime,
    end_of_day: datetime,
    thresholds: Thresholds,
    key: ColumnElement[Any] | None,
) -> dict[Any, tuple[int, int, int]]:
    """{group: (due, overdue, failed today)} of booked callbacks (kept places are in the queue, not here).

    Due: still to ring, due by the end of today and not more than the grace late (or ringing now). Overdue: not
    rung yet and later than the grace, whichever day it was due. Failed: gave up today after the last attempt.
    """
    due_at = func.coalesce(Callback.next_attempt_at, Callback.slot_starts_at, Callback.created_at)
    late = now - thresholds.callback_grace
    group = key if key is not None else Callback.topic  # grouped anyway, summed below for the whole council
    counted: dict[Any, list[int]] = defaultdict(lambda: [0, 0, 0])
    active = session.execute(
        select(group, Callback.status, due_at)
        .where(Callback.keeps_place.is_(False), Callback.status.in_(ACTIVE_CALLBACK_STATUSES))
        .where(due_at < end_of_day)
    ).all()
    for value, status, due in active:
        bucket = counted[value if key is not None else None]
        if status != CallbackStatus.DIALLING and due < late:
            bucket[1] += 1
        else:
            bucket[0] += 1
    failed = session.execute(
        select(group, func.count(Callback.id))
        .where(
            Callback.keeps_place.is_(False),
            Callback.status == CallbackStatus.FAILED,
            Callback.updated_at >= since,
            Callback.updated_at <= now,
        )
        .group_by(group)
    ).all()
    for value, count in failed:
        counted[value if key is not None else None][2] += int(count)
    return {value: (due, overdue, failed_today) for value, (due, overdue, failed_today) in counted.items()}


def _has_unknown(*groups: dict[Any, Any]) -> bool:
    return any(None in found for found in groups)
