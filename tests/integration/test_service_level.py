"""The shared definitions of answered, abandoned and service level, against figures worked out by hand.

Runs on whichever database the suite has (PostgreSQL in CI, SQLite by default): the seconds and the council's
clock are the parts the two spell differently.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from models import Call, QueueEntry, QueueEntryStatus, Topic
from routing.service_level import ServiceRules, local_date, local_hour, service_figures

RULES = ServiceRules(answered_within=timedelta(seconds=60), short_abandon=timedelta(seconds=5))
# 2026-10-25 is the day the clocks go back: 01:00 UTC is 02:00 BST, then 01:00 GMT.
MORNING = datetime(2026, 10, 24, 8, 30, tzinfo=UTC)  # 09:30 in Huddersfield


def _place(
    db,
    n: int,
    joined: datetime,
    status: QueueEntryStatus,
    *,
    answered_after=None,
    ended_after=None,
    topic=Topic.COUNCIL_TAX,
    virtual=False,
) -> None:
    call = Call(call_sid=f"CA{n:032d}", started_at=joined)
    db.add(call)
    db.flush()
    db.add(
        QueueEntry(
            call_id=call.id,
            topic=topic,
            joined_at=joined,
            status=status,
            connected_at=joined + timedelta(seconds=answered_after) if answered_after is not None else None,
            ended_at=joined + timedelta(seconds=ended_after) if ended_after is not None else None,
            direct=virtual,
        )
    )


@pytest.fixture
def day(db):
    with db.begin():
        # answered after 20 s, 60 s (in time: "within" includes 60), 61 s and 200 s
        for n, wait in enumerate((20, 60, 61, 200)):
            _place(
                db,
                n,
                MORNING + timedelta(minutes=n),
                QueueEntryStatus.CONNECTED,
                answered_after=wait,
                ended_after=wait + 300,
            )
        _place(db, 10, MORNING, QueueEntryStatus.ABANDONED, ended_after=4)  # short abandon
        _place(db, 11, MORNING, QueueEntryStatus.ABANDONED, ended_after=5)  # 5 s is not short
        _place(db, 12, MORNING, QueueEntryStatus.ABANDONED, ended_after=400)
        _place(db, 13, MORNING, QueueEntryStatus.LEFT_FOR_CALLBACK, ended_after=90)
        _place(db, 14, MORNING, QueueEntryStatus.WAITING)
        _place(
            db, 15, MORNING, QueueEntryStatus.CONNECTED, answered_after=1, virtual=True
        )  # a desk call-back
        _place(db, 16, MORNING - timedelta(days=1), QueueEntryStatus.CONNECTED, answered_after=1)  # yesterday
        _place(db, 17, MORNING, QueueEntryStatus.CONNECTED, answered_after=30, topic=Topic.HOUSING_BENEFIT)
    return db


def test_a_days_figures_match_the_definitions_worked_by_hand(day):
    since, until = MORNING.replace(hour=0, minute=0), MORNING.replace(hour=23, minute=0)
    figures = service_figures(day, since, until, RULES)[None]
    assert figures.joined == 10
    assert figures.answered == 5  # 20, 60, 61, 200 (council tax) and 30 (housing benefit)
    assert figures.answered_in_time == 3  # 20, 60, 30
    assert (figures.abandoned, figures.short_abandoned, figures.to_callback) == (2, 1, 1)
    assert figures.service_level == pytest.approx(3 / 7)
    assert figures.abandonment_rate == pytest.approx(2 / 7)
    assert figures.average_speed_of_answer == pytest.approx((20 + 60 + 61 + 200 + 30) / 5)


def test_figures_group_by_topic(day):
    since, until = MORNING.replace(hour=0, minute=0), MORNING.replace(hour=23, minute=0)
    by_topic = service_figures(day, since, until, RULES, group_by=QueueEntry.topic)
    assert by_topic[Topic.HOUSING_BENEFIT].answered == 1
    assert by_topic[Topic.HOUSING_BENEFIT].service_level == 1.0
    assert by_topic[Topic.COUNCIL_TAX].answered_in_time == 2


def test_nothing_to_count_says_nothing_rather_than_zero_percent(db):
    figures = service_figures(db, MORNING, MORNING + timedelta(hours=1), RULES)
    assert figures == {} or figures[None].service_level is None


def test_days_and_hours_follow_the_council_clock_across_the_clocks_going_back(db):
    joined = [
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),  # 00:30 BST on the 25th
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT
        datetime(2026, 10, 25, 9, 0, tzinfo=UTC),  # 09:00 GMT
    ]
    with db.begin():
        for n, moment in enumerate(joined):
            _place(db, n, moment, QueueEntryStatus.CONNECTED, answered_after=10)
    since, until = datetime(2026, 10, 24, tzinfo=UTC), datetime(2026, 10, 26, tzinfo=UTC)
    by_day = service_figures(db, since, until, RULES, group_by=local_date(QueueEntry.joined_at, since, until))
    assert {_as_date(key): figures.joined for key, figures in by_day.items()} == {date(2026, 10, 25): 4}
    by_hour = service_figures(
        db, since, until, RULES, group_by=local_hour(QueueEntry.joined_at, since, until)
    )
    assert {key: figures.joined for key, figures in by_hour.items()} == {0: 1, 1: 2, 9: 1}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
