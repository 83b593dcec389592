"""ivr.library_operations on the real database (PostgreSQL and SQLite): emergency closures with a chosen end,
ending one early, removing only closures still to come, hours validation, and the audit line of each change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from ivr import library_operations as operations
from ivr.hours import LONDON
from ivr.library_operations import LibraryRefused
from models import Library, LibraryClosure
from models.audit import AuditEvent
from tests.staff import seed_council

SENTENCE = "Batley Library is closed because of flooding."


@pytest.fixture
def batley(app, db, clock) -> int:
    seed_council(db, clock)
    found = db.scalars(select(Library.id).where(Library.name == "Batley")).one()
    db.rollback()
    return found


def test_an_emergency_until_a_chosen_moment_tomorrow_is_stored_with_its_dates(db, clock, batley):
    # 10:00 on Wednesday 25 November 2026 (GMT); open again at 12:00 on Thursday.
    until = datetime(2026, 11, 26, 12, 0, tzinfo=LONDON)
    with db.begin():
        closure = operations.close_now(db, batley, "Flooding", SENTENCE, clock.now(), None, ends_at=until)
        closure_id = closure.id
    db.expire_all()
    stored = db.get_one(LibraryClosure, closure_id)
    assert (stored.starts_on, stored.ends_on) == (date(2026, 11, 25), date(2026, 11, 26))
    assert stored.starts_at == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    assert stored.ends_at == datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert stored.caller_message == SENTENCE and stored.is_emergency
    library = db.get_one(Library, batley)
    assert operations.library_now(library, clock.now()).decision.reason == "Flooding"
    assert operations.library_now(library, until).decision.reason == "open until 17:00"


def test_an_emergency_from_two_pm_entered_at_ten_leaves_the_morning_open(db, clock, batley):
    with db.begin():
        operations.close_now(
            db,
            batley,
            "Flooding",
            SENTENCE,
            clock.now(),
            None,
            starts_at=datetime(2026, 11, 25, 14, 0, tzinfo=LONDON),
        )
    library = db.get_one(Library, batley)
    assert operations.today_in_words(library, clock.now()) == "9 am to 2 pm"
    assert operations.library_now(library, clock.now()).decision.is_open


def test_ending_an_emergency_early_opens_the_library_and_audits_before_and_after(db, clock, batley):
    with db.begin():
        closure_id = operations.close_now(db, batley, "Flooding", SENTENCE, clock.now(), None).id
    clock.advance(timedelta(hours=1))
    with db.begin():
        operations.end_closure_now(db, closure_id, clock.now(), None)
    db.expire_all()
    stored = db.get_one(LibraryClosure, closure_id)
    assert stored.ends_at == datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
    library = db.get_one(Library, batley)
    assert operations.library_now(library, clock.now()).decision.is_open
    assert operations.closures_to_show(library, clock.now()) == []
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "library.closure_ended")).one()
    assert event.before["closure"]["ends_at"] is None
    assert event.after["closure"]["ends_at"] == "2026-11-25T11:00:00+00:00"
    assert event.summary == "Opened Batley again at 11:00 on 25 Nov 2026 (closure: Flooding)"


def test_a_closure_under_way_cannot_be_removed_and_one_to_come_cannot_be_ended(db, clock, batley):
    with db.begin():
        now_id = operations.close_now(db, batley, "Flooding", SENTENCE, clock.now(), None).id
        later_id = operations.add_closure(
            db,
            batley,
            date(2026, 12, 2),
            date(2026, 12, 2),
            "Training",
            "Closed for training.",
            clock.now(),
            None,
        ).id
    with pytest.raises(LibraryRefused, match="already started"), db.begin():
        operations.remove_closure(db, now_id, clock.now(), None)
    with pytest.raises(LibraryRefused, match="not in effect"), db.begin():
        operations.end_closure_now(db, later_id, clock.now(), None)
    assert db.get(LibraryClosure, now_id) is not None and db.get(LibraryClosure, later_id) is not None


def test_an_emergency_starts_today_and_ends_after_now(db, clock, batley):
    with pytest.raises(LibraryRefused) as refused:
        operations.close_now(
            db,
            batley,
            "Flooding",
            SENTENCE,
            clock.now(),
            None,
            starts_at=datetime(2026, 11, 26, 9, 0, tzinfo=LONDON),
            ends_at=datetime(2026, 11, 25, 9, 0, tzinfo=LONDON),
        )
    assert set(refused.value.errors) == {"starts_at", "ends_at"}
    db.rollback()


def test_weekly_hours_refuse_bad_times_overlaps_and_a_fourth_session():
    with pytest.raises(LibraryRefused) as refused:
        operations.checked_week(
            {
                "mon": [("09:00", "12:00"), ("11:00", "13:00")],
                "tue": [("nine", "17:00")],
                "wed": [("09:00", "17:00")] * 4,
                "thu": [("24:00", "25:00")],
            }
        )
    assert refused.value.errors == {
        "mon-2-opens": "Monday session 2 overlaps another session that day.",
        "tue-1-opens": "Tuesday session 1: enter the opening time as 24-hour HH:MM, like 09:00.",
        "wed-4-opens": "Wednesday: at most 3 sessions.",
        "wed-2-opens": "Wednesday session 2 overlaps another session that day.",
        "wed-3-opens": "Wednesday session 3 overlaps another session that day.",
        "thu-1-opens": "Thursday session 1: enter the opening time as 24-hour HH:MM, like 09:00.",
        "thu-1-closes": "Thursday session 1: enter the closing time as 24-hour HH:MM, like 17:00.",
    }
    assert operations.checked_week({"sat": [("9.30", "13:00"), ("", "")]})["sat"] == [["09:30", "13:00"]]


def test_saving_the_same_hours_again_records_no_change(db, clock, batley):
    library = db.get_one(Library, batley)
    same = {day: [tuple(s) for s in library.opening_hours.get(day, [])] for day in library.opening_hours}
    db.rollback()
    with db.begin():
        operations.change_weekly_hours(db, batley, same, clock.now(), None)
    assert db.scalars(select(AuditEvent)).all() == []


def test_a_caller_sentence_of_300_characters_is_kept_whole_on_the_database(db, clock, batley):
    sentence = "B" * 299 + "."
    with db.begin():
        closure_id = operations.close_now(db, batley, "x" * 200, sentence, clock.now(), None).id
    db.expire_all()
    assert db.get_one(LibraryClosure, closure_id).caller_message == sentence
