from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ivr.calls import record_call_started, record_event
from models import Call, CallEvent
from tests.conftest import TEST_START


def _call(db, sid: str, days_ago: int) -> Call:
    call = record_call_started(
        db, sid, "07700900123", "01484221000", TEST_START - timedelta(days=days_ago), "GB"
    )
    call.reference = "12345678"
    db.flush()
    record_event(
        db, call, call.started_at, kind="ivr_step", node="capture_reference", caller_input="12345678"
    )
    return call


def test_purge_redacts_only_calls_older_than_the_retention_period(app, db, runner):
    _call(db, "CA" + "a" * 32, days_ago=91)
    _call(db, "CA" + "b" * 32, days_ago=10)
    db.commit()
    result = runner.invoke(args=["purge-personal-data"])
    assert "1 calls" in result.output
    db.expire_all()
    old, recent = (db.scalars(select(Call).where(Call.call_sid == "CA" + c * 32)).one() for c in "ab")
    assert old.caller_number is None and old.reference is None and old.personal_data_redacted_at is not None
    assert recent.caller_number == "+447700900123" and recent.reference == "12345678"
    inputs = {e.call_id: e.caller_input for e in db.scalars(select(CallEvent))}
    assert inputs == {old.id: None, recent.id: "12345678"}
    # The journey itself is kept for reporting.
    assert db.scalars(select(CallEvent).where(CallEvent.call_id == old.id)).one().node == "capture_reference"


def test_purge_twice_redacts_nothing_new(app, db, runner):
    _call(db, "CA" + "c" * 32, days_ago=200)
    db.commit()
    runner.invoke(args=["purge-personal-data"])
    assert "0 calls" in runner.invoke(args=["purge-personal-data"]).output
