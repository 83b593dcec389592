"""The wallboard's figures against a morning worked out by hand: who waits, advisers by state, today's service
and the callbacks, per library, per topic and for the whole council (on PostgreSQL and SQLite alike)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import (
    Adviser,
    AdviserSkill,
    AdviserState,
    Call,
    Callback,
    CallbackStatus,
    Library,
    QueueEntry,
    QueueEntryStatus,
    Topic,
)
from routing.service_level import ServiceRules
from routing.wallboard import NO_LIBRARY, Thresholds, start_of_council_day, wallboard

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 10:00 in Huddersfield (GMT)
RULES = ServiceRules(answered_within=timedelta(seconds=60), short_abandon=timedelta(seconds=5))
THRESHOLDS = Thresholds(
    wait_amber=timedelta(minutes=2),
    wait_red=timedelta(minutes=5),
    service_level_target=0.8,
    callback_grace=timedelta(minutes=5),
)
CT, HB = Topic.COUNCIL_TAX, Topic.HOUSING_BENEFIT


def _library(db, name: str) -> int:
    library = Library(name=name, address=f"{name} Library", postcode="HD1 2SU")
    db.add(library)
    db.flush()
    return library.id


def _adviser(db, name: str, library_id: int, state: AdviserState, *topics: Topic) -> None:
    adviser = Adviser(
        name=name,
        home_library_id=library_id,
        client_identity=f"adviser-{name.lower()}",
        state=state,
        state_since=NOW - timedelta(hours=1),
    )
    adviser.skills = [AdviserSkill(topic=topic, proficiency=3) for topic in topics]
    db.add(adviser)


def _caller(db, n: int, library_id, topic, joined, status, *, answered_after=None, ended_after=None) -> None:
    call = Call(call_sid=f"CA{n:032d}", started_at=joined)
    db.add(call)
    db.flush()
    db.add(
        QueueEntry(
            call_id=call.id,
            topic=topic,
            home_library_id=library_id,
            joined_at=joined,
            status=status,
            connected_at=joined + timedelta(seconds=answered_after) if answered_after is not None else None,
            ended_at=joined + timedelta(seconds=ended_after) if ended_after is not None else None,
        )
    )


def _callback(db, n: int, library_id, topic, status, *, due=None, updated=NOW, keeps_place=False) -> None:
    db.add(
        Callback(
            number=f"+4474001000{n:02d}",
            topic=topic,
            status=status,
            next_attempt_at=due,
            dedupe_key=f"key-{n}",
            library_id=library_id,
            keeps_place=keeps_place,
            created_at=NOW - timedelta(days=2),
            updated_at=updated,
        )
    )


@pytest.fixture
def morning(db):
    with db.begin():
        hudd, dews = _library(db, "Huddersfield"), _library(db, "Dewsbury")
        _adviser(db, "Aisha", hudd, AdviserState.AVAILABLE, CT)
        _adviser(db, "Tom", hudd, AdviserState.ON_CALL, CT, HB)
        _adviser(db, "Zofia", dews, AdviserState.BREAK, HB)
        _adviser(db, "Imran", dews, AdviserState.OFFLINE, CT)
        # waiting now
        _caller(db, 1, hudd, CT, NOW - timedelta(seconds=240), QueueEntryStatus.WAITING)
        _caller(db, 2, hudd, HB, NOW - timedelta(seconds=30), QueueEntryStatus.OFFERED)
        _caller(db, 3, dews, CT, NOW - timedelta(seconds=400), QueueEntryStatus.WAITING)
        _caller(db, 4, None, CT, NOW - timedelta(seconds=10), QueueEntryStatus.WAITING)
        # a resident keeping their place by callback: a callback, not a caller on the line
        db.add(QueueEntry(topic=CT, home_library_id=hudd, joined_at=NOW - timedelta(seconds=1000)))
        # earlier today
        eight = NOW - timedelta(hours=2)
        _caller(db, 5, hudd, CT, eight, QueueEntryStatus.CONNECTED, answered_after=20, ended_after=300)
        _caller(db, 6, hudd, CT, eight, QueueEntryStatus.CONNECTED, answered_after=90, ended_after=300)
        _caller(db, 7, dews, HB, eight, QueueEntryStatus.ABANDONED, ended_after=30)
        _caller(db, 8, dews, CT, eight, QueueEntryStatus.ABANDONED, ended_after=3)  # a short abandon
        yesterday = NOW - timedelta(hours=11)  # 23:00 yesterday
        _caller(db, 9, hudd, CT, yesterday, QueueEntryStatus.CONNECTED, answered_after=5, ended_after=60)
        # callbacks
        scheduled, dialling, failed = CallbackStatus.SCHEDULED, CallbackStatus.DIALLING, CallbackStatus.FAILED
        _callback(db, 1, hudd, CT, scheduled, due=NOW + timedelta(hours=1))  # due
        _callback(db, 2, hudd, CT, scheduled, due=NOW - timedelta(minutes=2))  # due, within the grace
        _callback(db, 3, dews, HB, scheduled, due=NOW - timedelta(minutes=10))  # overdue
        _callback(db, 4, dews, HB, dialling, due=NOW - timedelta(minutes=10))  # ringing now: due
        _callback(db, 5, hudd, CT, scheduled, due=NOW + timedelta(days=1))  # tomorrow
        _callback(db, 6, None, CT, failed, updated=NOW - timedelta(hours=1))  # failed today
        _callback(db, 7, hudd, HB, failed, updated=NOW - timedelta(days=1))  # failed yesterday
        _callback(db, 8, hudd, CT, scheduled, due=NOW - timedelta(hours=1), keeps_place=True)
        _callback(db, 9, hudd, CT, scheduled, due=NOW - timedelta(days=1))  # overdue since yesterday
    return wallboard(db, NOW, RULES, THRESHOLDS)


def _by_name(rows):
    return {row.name: row for row in rows}


def test_each_library_shows_its_callers_advisers_service_and_callbacks(morning):
    libraries = _by_name(morning.libraries)
    assert list(libraries) == ["Dewsbury", "Huddersfield", NO_LIBRARY]
    hudd, dews, unknown = libraries["Huddersfield"], libraries["Dewsbury"], libraries[NO_LIBRARY]
    assert (hudd.waiting, hudd.longest_wait_seconds) == (2, 240)
    assert hudd.advisers == {AdviserState.AVAILABLE: 1, AdviserState.ON_CALL: 1}
    assert (hudd.service.answered, hudd.service.answered_in_time, hudd.service.abandoned) == (2, 1, 0)
    assert hudd.service.service_level == 0.5
    assert hudd.service.average_speed_of_answer == 55
    assert (hudd.callbacks_due, hudd.callbacks_overdue, hudd.callbacks_failed) == (2, 1, 0)

    assert (dews.waiting, dews.longest_wait_seconds) == (1, 400)
    assert dews.advisers == {AdviserState.BREAK: 1, AdviserState.OFFLINE: 1}
    assert (dews.service.answered, dews.service.abandoned, dews.service.short_abandoned) == (0, 1, 1)
    assert dews.service.service_level == 0.0
    assert (dews.callbacks_due, dews.callbacks_overdue, dews.callbacks_failed) == (1, 1, 0)

    assert (unknown.waiting, unknown.longest_wait_seconds, unknown.callbacks_failed) == (1, 10, 1)


def test_each_topic_counts_the_advisers_with_that_skill(morning):
    topics = _by_name(morning.topics)
    assert list(topics) == ["Council tax", "Housing benefit", "General enquiry"]
    tax, benefit, general = topics["Council tax"], topics["Housing benefit"], topics["General enquiry"]
    assert (tax.waiting, tax.longest_wait_seconds) == (3, 400)
    assert tax.advisers == {AdviserState.AVAILABLE: 1, AdviserState.ON_CALL: 1, AdviserState.OFFLINE: 1}
    assert (tax.service.answered, tax.service.short_abandoned, tax.service.abandoned) == (2, 1, 0)
    assert (tax.callbacks_due, tax.callbacks_overdue, tax.callbacks_failed) == (2, 1, 1)
    assert (benefit.waiting, benefit.longest_wait_seconds) == (1, 30)
    assert benefit.advisers == {AdviserState.ON_CALL: 1, AdviserState.BREAK: 1}
    assert (benefit.callbacks_due, benefit.callbacks_overdue) == (1, 1)
    assert (general.waiting, general.longest_wait_seconds, general.advisers) == (0, None, {})
    assert general.service.service_level is None


def test_the_whole_council_adds_up_and_says_how_it_stands_in_words(morning):
    overall = morning.overall
    assert (overall.waiting, overall.longest_wait_seconds) == (4, 400)
    assert overall.advisers_signed_in == 3
    assert overall.advisers_in(AdviserState.OFFLINE) == 1
    service = overall.service
    assert (service.answered, service.answered_in_time, service.abandoned, service.short_abandoned) == (
        2,
        1,
        1,
        1,
    )
    assert service.service_level == pytest.approx(1 / 3)
    assert service.average_speed_of_answer == 55
    assert (overall.callbacks_due, overall.callbacks_overdue, overall.callbacks_failed) == (3, 2, 1)

    assert overall.wait_status(THRESHOLDS).words == "Very long wait"
    assert overall.service_status(THRESHOLDS).words == "Below target"
    assert overall.callbacks_status().words == "Overdue"
    libraries = _by_name(morning.libraries)
    assert libraries["Huddersfield"].wait_status(THRESHOLDS).words == "Long wait"
    assert libraries[NO_LIBRARY].wait_status(THRESHOLDS).words == "Short wait"
    assert _by_name(morning.topics)["General enquiry"].wait_status(THRESHOLDS).words == "No one waiting"
    assert _by_name(morning.topics)["General enquiry"].service_status(THRESHOLDS).words == "No calls yet"


def test_service_on_target_is_said_so(db):
    with db.begin():
        hudd = _library(db, "Huddersfield")
        _caller(db, 1, hudd, CT, NOW - timedelta(hours=1), QueueEntryStatus.CONNECTED, answered_after=10)
    board = wallboard(db, NOW, RULES, THRESHOLDS)
    assert board.overall.service_status(THRESHOLDS).words == "On target"
    assert board.overall.callbacks_status().words == "On time"


def test_the_council_day_starts_at_midnight_in_huddersfield_in_summer_too():
    assert start_of_council_day(datetime(2026, 7, 1, 23, 30, tzinfo=UTC)) == datetime(
        2026, 7, 1, 23, 0, tzinfo=UTC
    )
    assert start_of_council_day(NOW) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
